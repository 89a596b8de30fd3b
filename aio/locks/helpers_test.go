package locks_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aiogo/aio/aio"
)

// run runs body as the main task of a new loop (aio.Run) on the virtual
// clock (aio.WithVirtualClock: time moves only when every task waits, so
// timed tests do not depend on the machine's speed and take no real time),
// and fails the test with its error.
func run(t *testing.T, body func(c *aio.Ctx) error) {
	t.Helper()
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) { return struct{}{}, body(c) }, aio.WithVirtualClock())
	if err != nil {
		t.Fatal(err)
	}
}

// settle lets the loop run what is ready, and what that wakes, for a few
// iterations: enough for a chain of wakes between a handful of tasks.
func settle(c *aio.Ctx) {
	for range 6 {
		aio.Yield(c)
	}
}

// spawn starts fn in a new task of c's loop.
func spawn(c *aio.Ctx, fn func(c *aio.Ctx) error, opts ...aio.TaskOption) *aio.Task[struct{}] {
	t, err := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) { return struct{}{}, fn(c) }, opts...)
	if err != nil {
		panic(err)
	}
	return t
}

// panicErr calls fn and returns the error it panics with, nil if it does
// not panic, and an error saying so if it panics with something else.
func panicErr(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			var ok bool
			if err, ok = r.(error); !ok {
				err = fmt.Errorf("panic with a %T: %v", r, r)
			}
		}
	}()
	fn()
	return nil
}

// onPlainGoroutine runs fn on a new goroutine, which is no loop's, and waits
// for it. Only a plain goroutine blocked on a channel: it may be used from a
// task (the loop stalls meanwhile, which is what the misuse tests want:
// nothing else runs).
func onPlainGoroutine(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// onOtherLoop runs fn in the main task of a second loop, run by aio.Run on a
// goroutine of its own, while the loop of c goes on running, and returns
// when it is done.
func onOtherLoop(c *aio.Ctx, fn func(c2 *aio.Ctx)) error {
	f := aio.NewFuture[struct{}](c.Loop())
	release := c.Loop().HoldClock() // the other loop's work: the clock waits for it
	go func() {
		defer release()
		aio.Run(func(c2 *aio.Ctx) (struct{}, error) {
			fn(c2)
			return struct{}{}, nil
		})
		f.SetResult(struct{}{})
	}()
	_, err := aio.Await(c, f)
	return err
}

// errIs reports, for a table of checks, whether err matches want; with a nil
// want, whether err is nil.
func errIs(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}
