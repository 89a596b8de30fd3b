package aio_test

import (
	"fmt"
	"time"

	"github.com/aiogo/aio/aio"
)

// A Chan carries values between tasks with Go's channel semantics; All
// ranges over it until it is closed.
func ExampleChan() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		results := aio.NewChan[string](2)
		err := aio.WithGroup(c, func(g *aio.Group) error {
			g.Go(func(c *aio.Ctx) error {
				defer results.Close()
				for _, w := range []string{"one", "two", "three"} {
					if err := results.Send(c, w); err != nil {
						return err
					}
				}
				return nil
			})
			g.Go(func(c *aio.Ctx) error {
				for w := range results.All(c) {
					fmt.Println("got", w)
				}
				return nil
			})
			return nil
		})
		return struct{}{}, err
	})
	fmt.Println("err:", err)
	// Output:
	// got one
	// got two
	// got three
	// err: <nil>
}

// Select waits on several Chans and a timeout at once, as Go's select
// does.
func ExampleSelect() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		var jobs aio.Chan[int]
		quit := aio.NewChan[struct{}](1)
		aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
			for i := 1; i <= 2; i++ {
				jobs.Send(c, i)
			}
			aio.Sleep(c, 5*time.Millisecond)
			return struct{}{}, quit.Send(c, struct{}{})
		})
		for {
			var job int
			i, err := aio.Select(c,
				aio.RecvCase(&jobs, &job, nil),
				aio.RecvCase(quit, nil, nil),
				aio.TimeoutCase(time.Second),
			)
			if err != nil {
				return struct{}{}, err
			}
			switch i {
			case 0:
				fmt.Println("job", job)
			case 1:
				fmt.Println("quit")
				return struct{}{}, nil
			case 2:
				fmt.Println("idle for a second")
				return struct{}{}, nil
			}
		}
	})
	fmt.Println("err:", err)
	// Output:
	// job 1
	// job 2
	// quit
	// err: <nil>
}

// A Ticker delivers ticks at a fixed period; Tick returns each tick's
// deadline, never early. Under the default policy (Burst) a tick that is
// late is still delivered, so the deadlines are exact multiples of the
// period however loaded the machine is.
func ExampleTicker() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		tk, err := aio.NewTicker(c.Loop(), 10*time.Millisecond)
		if err != nil {
			return struct{}{}, err
		}
		defer tk.Stop()
		var first time.Time
		for i := range 3 {
			tick, err := tk.Tick(c)
			if err != nil {
				return struct{}{}, err
			}
			if i == 0 {
				first = tick
			}
			fmt.Println("tick at first +", tick.Sub(first))
		}
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// tick at first + 0s
	// tick at first + 10ms
	// tick at first + 20ms
	// err: <nil>
}
