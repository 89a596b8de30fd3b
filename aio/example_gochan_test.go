package aio_test

import (
	"fmt"
	"time"

	"github.com/aiogo/aio/aio"
)

// GoRecv awaits an ordinary Go channel from a task: the task waits, the loop
// does not (a plain <-ch in a task would stop every task of the loop).
func ExampleGoRecv() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		results := make(chan int)
		go func() { results <- 6 * 7 }() // work done off the loop
		v, ok, err := aio.GoRecv(c, results)
		fmt.Println(v, ok, err)
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// 42 true <nil>
	// err: <nil>
}

// A Go channel in a Select, beside a Chan and a timeout: a goroutine's
// results arrive through GoRecvCase until it closes its channel, while the
// task can also be told to stop through a Chan.
func ExampleGoRecvCase() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		results := make(chan string)
		go func() {
			defer close(results)
			for _, s := range []string{"one", "two", "three"} {
				results <- s
			}
		}()
		var quit aio.Chan[struct{}]
		for {
			var s string
			var ok bool
			i, err := aio.Select(c,
				aio.GoRecvCase(results, &s, &ok),
				aio.RecvCase(&quit, nil, nil),
				aio.TimeoutCase(time.Minute),
			)
			switch {
			case err != nil:
				return struct{}{}, err
			case i == 0 && ok:
				fmt.Println("got", s)
			case i == 0:
				fmt.Println("results closed")
				return struct{}{}, nil
			default:
				fmt.Println("stopped")
				return struct{}{}, nil
			}
		}
	})
	fmt.Println("err:", err)
	// Output:
	// got one
	// got two
	// got three
	// results closed
	// err: <nil>
}
