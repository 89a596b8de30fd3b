package aio_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/aiogo/aio/aio"
)

// slowLookup stands for a Go library call that takes a context, as
// net.Resolver.LookupHost or database/sql do.
func slowLookup(ctx context.Context) error {
	select {
	case <-time.After(time.Hour):
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Ctx.Context hands the task's cancellation to code that takes a
// context.Context: here a goroutine doing a lookup sees the timeout around
// the task's wait for it. (The task waits through a future, never with a
// plain <-ch, which would block the loop; package aio/executor does this
// for you.)
func ExampleCtx_Context() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		lookup := aio.NewFuture[error](c.Loop())
		err := aio.WithTimeout(c, 10*time.Millisecond, func(c *aio.Ctx) error {
			ctx := c.Context() // done when the timeout cancels this scope
			go func() { lookup.SetResult(slowLookup(ctx)) }()
			_, err := aio.Await(c, lookup)
			return err
		})
		fmt.Println("scope:", err, errors.Is(err, context.DeadlineExceeded))
		lookupErr, _ := aio.Await(c, lookup) // the goroutine saw the cancellation too
		fmt.Println("lookup:", lookupErr)
		return struct{}{}, nil
	})
	// Output:
	// scope: aio: timeout true
	// lookup: aio: timeout
}

// RunContext ties the main task to a context: when the context is done,
// the main task is cancelled with the context's cause.
func ExampleRunContext() {
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(10*time.Millisecond, func() { cancel(errors.New("stopping")) })
	_, err := aio.RunContext(ctx, func(c *aio.Ctx) (struct{}, error) {
		return struct{}{}, aio.Sleep(c, time.Hour)
	})
	fmt.Println(err)
	// Output:
	// aio: canceled: stopping
}

// A signal handler runs on the loop, like any callback, so it may touch
// the loop's state; here SIGUSR1 asks a server to reload.
func ExampleLoop_AddSignalHandler() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		reloaded := make(chan struct{})
		remove, err := c.Loop().AddSignalHandler(syscall.SIGUSR1, func() {
			fmt.Println("reloading the configuration")
			close(reloaded)
		})
		if err != nil {
			return struct{}{}, err
		}
		defer remove()
		syscall.Kill(os.Getpid(), syscall.SIGUSR1) // as kill -USR1 would
		for {
			select {
			case <-reloaded:
				return struct{}{}, nil
			default:
				aio.Sleep(c, time.Millisecond)
			}
		}
	})
	// Output:
	// reloading the configuration
}
