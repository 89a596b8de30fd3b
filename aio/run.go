package aio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"time"
)

// ErrInterrupted is the cause of the cancellation of Run's main task when the
// process receives SIGINT (Ctrl-C).
var ErrInterrupted = errors.New("aio: interrupted")

// DefaultShutdownTimeout is how long Run waits, once its main task is done,
// for the cancelled leftover tasks to finish their cleanup (see
// WithShutdownTimeout).
const DefaultShutdownTimeout = 10 * time.Second

// A RunOption configures Run.
type RunOption func(*runConfig)

type runConfig struct {
	errHandler      ErrorHandler
	shutdownTimeout time.Duration
}

// WithErrorHandler sets the loop's error handler for the whole of Run,
// from before the main task starts (see Loop.SetErrorHandler).
func WithErrorHandler(h ErrorHandler) RunOption {
	return func(c *runConfig) { c.errHandler = h }
}

// WithShutdownTimeout bounds how long Run waits for the leftover tasks it
// cancelled to finish (DefaultShutdownTimeout without this option). A zero
// or negative d means no bound: wait as long as they take, as asyncio does.
func WithShutdownTimeout(d time.Duration) RunOption {
	return func(c *runConfig) { c.shutdownTimeout = d }
}

// Run runs body as the main task of a new loop on the calling goroutine (the
// goroutine is locked to its OS thread meanwhile, and every task and callback
// of the loop runs on that thread), and returns what body returns. It is
// asyncio.run: once the main task is done, Run cancels the tasks still alive
// (with cause ErrShutdown), runs the loop until they have finished their
// cleanup or the shutdown timeout has passed (see WithShutdownTimeout),
// reports through the loop's error handler the errors of failed tasks that
// nobody retrieved and the tasks that did not finish in time, and closes the
// loop, which unwinds those (see Loop.Close).
//
// The error is the main task's, joined (errors.Join) with Shutdown's if the
// shutdown did not complete; the value is always the main task's.
//
// While Run runs, the first SIGINT cancels the main task with cause
// ErrInterrupted; after it, SIGINT has its default effect again, so a
// second one ends the process at once. Run cannot stop a task body that
// ignores cancellation and never returns.
//
// If a task body or callback calls runtime.Goexit (as t.FailNow does in a
// test), the calling goroutine exits: Run does not return; the loop unwinds
// its other tasks, closes, and the error handler reports it.
func Run[T any](body func(*Ctx) (T, error), opts ...RunOption) (T, error) {
	cfg := runConfig{shutdownTimeout: DefaultShutdownTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	var zero T
	if body == nil {
		return zero, ErrNilFunc
	}
	l, err := NewLoop()
	if err != nil {
		return zero, err
	}
	if cfg.errHandler != nil {
		l.SetErrorHandler(cfg.errHandler)
	}
	// The loop runs here, on this goroutine, from the first run to the close.
	l.thread.inline = curg()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer l.Close() // after a Goexit, too
	main, err := Spawn(l, body, WithName("main"))
	if err != nil {
		return zero, err
	}
	stop := cancelOnInterrupt(main)
	defer stop()
	if err := l.RunUntil(main.IsDone); err != nil {
		return zero, err
	}
	stop()
	main.fut.markRetrieved() // Run returns main's error itself
	ctx := context.Background()
	if cfg.shutdownTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.shutdownTimeout)
		defer cancel()
	}
	shutErr := l.Shutdown(ctx)
	closeErr := l.Close()
	v, mainErr := main.Result()
	if shutErr == nil && closeErr == nil {
		return v, mainErr
	}
	return v, errors.Join(mainErr, shutErr, closeErr)
}

// cancelOnInterrupt cancels t at the first SIGINT, then lets SIGINT have its
// default effect. The returned stop ends the watch and waits for the
// watching goroutine; it may be called more than once.
func cancelOnInterrupt(t AnyTask) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ch:
			signal.Stop(ch)
			t.Cancel(ErrInterrupted)
		case <-done:
		}
	})
	return sync.OnceFunc(func() {
		signal.Stop(ch)
		close(done)
		wg.Wait()
	})
}

// RunUntilComplete runs l until a is done and returns a's result and error
// (asyncio's run_until_complete). It returns the errors of Loop.RunUntil if
// the loop cannot run, and an error matching ErrInvalidState if a belongs to
// another loop or is nil. An awaitable of the program's own is awaited in a
// task spawned for it. A Stop during the run makes it return early with
// an error matching ErrStopped, since a is not done.
func RunUntilComplete[T any](l *Loop, a Awaitable[T]) (T, error) {
	var zero T
	f, isNil := futureOf(a)
	switch {
	case isNil:
		return zero, fmt.Errorf("%w: RunUntilComplete of a nil awaitable", ErrInvalidState)
	case f == nil:
		// An awaitable of the program's own: await it in a task.
		t, err := Spawn(l, func(c *Ctx) (T, error) { return Await(c, a) })
		if err != nil {
			return zero, err
		}
		f = &t.fut
	case f.loop != l:
		return zero, fmt.Errorf("%w: RunUntilComplete of a future of another loop", ErrInvalidState)
	}
	if err := l.RunUntil(f.isDone); err != nil {
		return zero, err
	}
	if !f.isDone() {
		return zero, fmt.Errorf("%w: RunUntilComplete: the loop was stopped before the future was done", ErrStopped)
	}
	return f.Result()
}
