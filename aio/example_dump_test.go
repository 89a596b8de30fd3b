package aio_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aiogo/aio/aio"
)

// A dump names every task, its state, what it awaits and its parent: here a
// worker whose group runs a sleeper and a task awaiting a future.
func ExampleLoop_Dump() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		f := aio.NewFuture[int](c.Loop())
		worker, _ := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
			return struct{}{}, aio.WithGroup(c, func(g *aio.Group) error {
				aio.Spawn(g, func(c *aio.Ctx) (struct{}, error) {
					return struct{}{}, aio.Sleep(c, time.Hour)
				}, aio.WithName("sleeper"))
				aio.Spawn(g, func(c *aio.Ctx) (int, error) {
					return aio.Await(c, f)
				}, aio.WithName("waiter"))
				return nil
			})
		}, aio.WithName("worker"))
		for range 3 {
			aio.Yield(c) // let them start and park
		}
		d := c.Loop().Dump(aio.DumpOptions{})
		names := map[uint64]string{}
		for _, t := range d.Tasks {
			names[t.ID] = t.Name
		}
		for _, t := range d.Tasks {
			line := t.Name + " " + t.State
			if t.Awaits != nil {
				line += ", awaits " + t.Awaits.Kind
			}
			if t.Parent != 0 {
				line += ", under " + names[t.Parent] + " (" + t.Link + ")"
			}
			fmt.Println(line)
		}
		worker.Cancel(nil)
		_, err := aio.Await(c, worker)
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return struct{}{}, err
	})
	fmt.Println("err:", err)
	// Output:
	// main running
	// worker suspended, awaits group
	// sleeper suspended, awaits sleep, under worker (group)
	// waiter suspended, awaits future, under worker (group)
	// err: <nil>
}

// The stuck report: a task awaiting a future that nobody completes, with no
// timer and no file descriptor, is reported once the threshold has passed
// (here the error handler completes the future, so that the example ends).
func ExampleLoop_SetStuckReport() {
	var f *aio.Future[int]
	v, err := aio.Run(func(c *aio.Ctx) (int, error) {
		c.Loop().SetStuckReport(50 * time.Millisecond)
		f = aio.NewFuture[int](c.Loop())
		return aio.Await(c, f)
	}, aio.WithErrorHandler(func(l *aio.Loop, ec aio.ErrorContext) {
		var se *aio.StuckError
		if errors.As(ec.Err, &se) {
			main := se.Dump.Task(se.Dump.Roots[0])
			fmt.Println(ec.Message+":", main.Name, "awaits", main.Awaits.Kind)
			fmt.Println(strings.Contains(se.Error(), "only another goroutine can wake them"))
			f.SetResult(42)
		}
	}))
	fmt.Println(v, err)
	// Output:
	// aio: loop stuck: main awaits future
	// true
	// 42 <nil>
}
