package aio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
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
	leaveSIGINT     bool
	ctx             context.Context
	virtualClock    bool // WithVirtualClock (clock.go)
	debug           bool // WithDebug (debug.go)
}

// WithoutInterrupt leaves SIGINT alone: Run does not catch it, so it has
// whatever effect the rest of the program gives it (by default, it ends the
// process). For programs that handle signals themselves (see
// Loop.AddSignalHandler, os/signal) and for libraries.
func WithoutInterrupt() RunOption {
	return func(c *runConfig) { c.leaveSIGINT = true }
}

// RunContext is Run with a context: the main task is spawned WithContext(ctx),
// so it is cancelled, with context.Cause(ctx) as the cause, when ctx is done,
// and its Ctx.Context carries ctx's values. A nil ctx returns an error
// matching ErrNilContext.
func RunContext[T any](ctx context.Context, body func(*Ctx) (T, error), opts ...RunOption) (T, error) {
	if ctx == nil {
		var zero T
		return zero, fmt.Errorf("%w: RunContext", ErrNilContext)
	}
	return Run(body, append(opts, func(c *runConfig) { c.ctx = ctx })...)
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
// ErrInterrupted (through a signal handler of the loop, see
// Loop.AddSignalHandler); after it, SIGINT has its default effect again, so
// a second one ends the process at once. WithoutInterrupt leaves SIGINT
// alone. Run cannot stop a task body that
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
	if cfg.virtualClock {
		_ = l.SetVirtualClock() // a new loop: it cannot fail
	}
	if cfg.debug {
		l.SetDebug(true)
	}
	// The loop runs here, on this goroutine, from the first run to the close.
	l.thread.inline = curg()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer l.Close() // after a Goexit, too
	mainOpts := []TaskOption{WithName("main")}
	if cfg.ctx != nil {
		mainOpts = append(mainOpts, WithContext(cfg.ctx))
	}
	main, err := Spawn(l, body, mainOpts...)
	if err != nil {
		return zero, err
	}
	stop := func() {}
	if !cfg.leaveSIGINT {
		if stop, err = cancelOnInterrupt(l, main); err != nil {
			return zero, err
		}
	}
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

// cancelOnInterrupt cancels t at the first SIGINT, through a signal
// handler of l, which removes itself then, so that SIGINT has its default
// effect again. The returned stop removes the handler if it is still there.
func cancelOnInterrupt(l *Loop, t AnyTask) (stop func(), err error) {
	var remove func() bool
	remove, err = l.AddSignalHandler(os.Interrupt, func() {
		remove()
		t.Cancel(ErrInterrupted)
	})
	if err != nil {
		return nil, err
	}
	return func() { remove() }, nil
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
