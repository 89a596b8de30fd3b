package executor

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"

	"github.com/aiogo/aio/aio"
)

// An Executor runs functions on goroutines of its own. Submit arranges for
// task to run once, on some goroutine other than the caller's loop, and
// returns nil; or returns an error, and task never runs.
//
// Submit is called on the loop goroutine, so it should not block for long:
// a pool that is full should queue the task or fail. *Pool is one; an
// ants.Pool (github.com/panjf2000/ants) fits as it is (made with
// ants.WithNonblocking(true) it fails fast with ants.ErrPoolOverload instead
// of blocking the loop); errgroup-style pools fit through ExecutorFunc.
type Executor interface {
	Submit(task func()) error
}

// A TrySubmitter is an Executor that can also fail fast: TrySubmit returns
// an error (matching ErrFull, for a Pool) instead of queuing task when no
// worker is free. FailFast uses it when the executor has it.
type TrySubmitter interface {
	Executor
	TrySubmit(task func()) error
}

// ExecutorFunc adapts a function to Executor: Submit(task) calls f(task).
// For an errgroup.Group with a limit, for instance:
//
//	var g errgroup.Group
//	g.SetLimit(8)
//	e := executor.ExecutorFunc(func(task func()) error {
//		if !g.TryGo(func() error { task(); return nil }) {
//			return executor.ErrFull
//		}
//		return nil
//	})
//
// (g.Go, which blocks while the group is full, would block the loop.)
type ExecutorFunc func(task func()) error

// Submit calls f(task).
func (f ExecutorFunc) Submit(task func()) error { return f(task) }

// An Option configures one call of Run or Go.
type Option func(*config)

type config struct {
	exec     Executor
	execSet  bool
	failFast bool
}

// WithExecutor runs the call's function on e instead of the loop's default
// executor (see SetDefault). A nil e makes the call fail with an error
// matching ErrNilFunc.
func WithExecutor(e Executor) Option {
	return func(c *config) { c.exec, c.execSet = e, true }
}

// FailFast makes the call fail at once, with an error matching ErrFull,
// when its executor has no free worker, instead of waiting its turn. It
// needs an executor that can tell (a TrySubmitter, such as *Pool); with any
// other, the call is submitted as usual and fails only if Submit does.
func FailFast() Option {
	return func(c *config) { c.failFast = true }
}

// The states of a call: its function is pending (submitted, not started),
// running, returned (its outcome is being delivered), or the call was
// abandoned (its task or future was cancelled, or the loop closed) first.
const (
	pending int32 = iota
	running
	returned
	abandoned
)

// call is one Run or Go: the function, its context, and the future its
// outcome is delivered to. Its state decides, once, whether the outcome is
// delivered or dropped.
type call[T any] struct {
	state  atomic.Int32
	fn     func(context.Context) (T, error)
	ctx    context.Context
	cancel context.CancelCauseFunc
	fut    *aio.Future[T]
	st     *loopState
	// release ends the call's hold on the loop's virtual clock
	// (aio.Loop.HoldClock): once the outcome is in the loop's door, or the
	// call is abandoned or discarded. Idempotent; a no-op on the real clock.
	release func()
}

// run is what the executor runs.
func (k *call[T]) run() {
	st := k.st
	if !k.state.CompareAndSwap(pending, running) {
		st.stats.skipped.Add(1) // abandoned while it waited: fn never runs
		k.release()
		return
	}
	st.stats.started.Add(1)
	v, err := k.invoke()
	if !k.state.CompareAndSwap(running, returned) {
		st.stats.late.Add(1) // abandoned while it ran: the result is dropped
		k.release()
		return
	}
	k.cancel(nil)             // release the context
	st.stats.delivered.Add(1) // counted first: the task may resume at once
	var serr error
	if err != nil {
		serr = k.fut.SetError(err)
	} else {
		serr = k.fut.SetResult(v)
	}
	if serr != nil { // the loop closed meanwhile
		st.stats.delivered.Add(-1)
		st.stats.late.Add(1)
	}
	k.release() // after the outcome is in the door: see aio.Loop.HoldClock
}

// invoke calls fn, turning a panic into a *aio.PanicError.
func (k *call[T]) invoke() (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, &aio.PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return k.fn(k.ctx)
}

// abandon gives up on the call: a function that has not started never
// will, and a running one has its context cancelled with cause and its
// result dropped. It reports whether the call was still undecided.
func (k *call[T]) abandon(cause error) bool {
	for {
		s := k.state.Load()
		if s != pending && s != running {
			return false
		}
		if k.state.CompareAndSwap(s, abandoned) {
			k.cancel(cause)
			k.release() // nobody waits for the function any more
			return true
		}
	}
}

// discard is the Pool's treatment of a queued call that a Shutdown drops.
func (k *call[T]) discard(err error) {
	if k.state.CompareAndSwap(pending, returned) {
		k.cancel(err)
		k.st.stats.skipped.Add(1)
		_ = k.fut.SetError(err)
		k.release()
	}
}

// start checks the call and submits it. fn's context derives from the
// task's (c.Context: its values, its scope's cancellation) if taskCtx, from
// the loop's state otherwise.
func start[T any](c *aio.Ctx, method string, fn func(context.Context) (T, error), opts []Option, taskCtx bool) (*call[T], error) {
	if c == nil {
		return nil, fmt.Errorf("%w: executor.%s with a nil *Ctx", aio.ErrNotInTask, method)
	}
	st, err := stateOf(c.Loop())
	if err != nil {
		return nil, err
	}
	if err := st.q.CheckTask(c); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, fmt.Errorf("%w: executor.%s", ErrNilFunc, method)
	}
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	e := cfg.exec
	if !cfg.execSet {
		if e, err = st.executor(); err != nil {
			return nil, err
		}
	} else if e == nil {
		return nil, fmt.Errorf("%w: executor.%s: WithExecutor(nil)", ErrNilFunc, method)
	}
	k := &call[T]{fn: fn, fut: aio.NewFuture[T](c.Loop()), st: st}
	parent := st.ctx
	if taskCtx {
		parent = c.Context()
	}
	k.ctx, k.cancel = context.WithCancelCause(parent)
	// The hold keeps a virtual clock from jumping while the function is
	// in flight; it is taken before the function can start.
	k.release = c.Loop().HoldClock()
	if p, ok := e.(*Pool); ok {
		err = p.submit(k.run, funcPC(fn), k.discard, cfg.failFast)
	} else if t, ok := e.(TrySubmitter); ok && cfg.failFast {
		err = t.TrySubmit(k.run)
	} else {
		err = e.Submit(k.run)
	}
	if err != nil {
		k.cancel(err)
		k.release()
		return nil, fmt.Errorf("executor.%s: %w", method, err)
	}
	st.stats.submitted.Add(1)
	return k, nil
}

// Run runs fn(ctx) on the loop's default executor (or the one WithExecutor
// gives) and suspends the calling task until it returns; it returns what fn
// returns. It is asyncio's loop.run_in_executor and asyncio.to_thread. A
// panic in fn is recovered on the worker and returned as a *aio.PanicError
// holding the worker's stack.
//
// If the task is cancelled while it waits, Run returns the task's
// *aio.CanceledError at once, without waiting for fn: fn's ctx is cancelled
// (context.Cause(ctx) is that *aio.CanceledError), a fn still queued never
// runs, and whatever a running fn returns later is dropped (counted in
// Stats.Late). ctx derives from the task's c.Context(), so fn sees its
// values, and is cancelled with cause aio.ErrClosed when the loop closes.
//
// If the executor is full, the call waits its turn in the executor's queue
// (the loop goes on meanwhile), or with FailFast fails at once with an error
// matching ErrFull. Run returns an error matching aio.ErrNilFunc for a nil
// fn, aio.ErrNotInTask if c is not the running task's Ctx, aio.ErrClosed
// for a closed loop, and the error of the executor's Submit, wrapped.
func Run[T any](c *aio.Ctx, fn func(context.Context) (T, error), opts ...Option) (T, error) {
	k, err := start(c, "Run", fn, opts, true)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := aio.Await(c, k) // k, not k.fut: the task dump names the call (DescribeWait)
	if err != nil && !k.fut.IsDone() {
		// The task was cancelled (or the loop is closing): drop the call.
		k.abandon(err)
		k.fut.Cancel(err)
	}
	return v, err
}

// Go submits fn(ctx) as Run does and returns at once with a future of its
// outcome, for aio.Gather, aio.Select and Await. Cancelling the future
// abandons the call as cancelling Run's task does: fn's ctx is cancelled
// (with the future's *aio.CanceledError as its cause, shortly after, on
// the loop), a queued fn never runs, a late result is dropped. The errors
// are Run's.
func Go[T any](c *aio.Ctx, fn func(context.Context) (T, error), opts ...Option) (*aio.Future[T], error) {
	k, err := start(c, "Go", fn, opts, false)
	if err != nil {
		return nil, err
	}
	if _, err := k.fut.AddDoneCallback(func() {
		if k.fut.Canceled() {
			k.abandon(k.fut.Err())
		}
	}); err != nil {
		k.abandon(err)
		return nil, err
	}
	return k.fut, nil
}

// Poll makes a call an aio.Awaitable of its future's outcome, so that Run's
// task awaits the call itself, which the task dump names (DescribeWait).
func (k *call[T]) Poll(w *aio.Waiter) (T, bool, error) { return k.fut.Poll(w) }

// DescribeWait names the call for the task dump (aio.Loop.Dump): the
// function, and whether it has started.
func (k *call[T]) DescribeWait() (kind, what string) {
	state := "queued"
	switch k.state.Load() {
	case running:
		state = "running"
	case returned:
		state = "returned"
	case abandoned:
		state = "abandoned"
	}
	name := "?"
	if f := runtime.FuncForPC(funcPC(k.fn)); f != nil {
		name = f.Name()
	}
	return "executor", "call of " + name + " (" + state + ")"
}
