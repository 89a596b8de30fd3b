package aio

import (
	"context"
	"fmt"
	"sync/atomic"
)

// closedChan is the shared, closed Done channel of every completed future
// whose Done was not asked for before completion; its address also marks a
// future as done (see futureBase.done).
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// futureBase is the part of a future that does not depend on its result
// type, so that tasks and combinators can handle futures of any type.
//
// Completion is written on the loop goroutine; other goroutines read it
// through done, whose transition to &closedChan publishes err, cancelled and
// the result (Go's atomics order the plain writes before it).
type futureBase struct {
	loop      *Loop
	err       error
	cancelled bool
	// done is nil while pending with no Done channel, a pointer to the Done
	// channel while pending once Done was called, and &closedChan when done.
	done    atomic.Pointer[chan struct{}]
	waiters waitList // who waits: tasks in Await, combinators, done callbacks (loop goroutine only)
	owner   *Ctx     // the task whose future this is, nil for a plain future
}

func (f *futureBase) isDone() bool { return f.done.Load() == &closedChan }

// finish completes the future with err (nil for a result already stored by
// the caller) and wakes its waiters, in the order they came. Loop goroutine
// only; the caller checked that the future is pending.
func (f *futureBase) finish(err error, cancelledNow bool) {
	f.err = err
	f.cancelled = cancelledNow
	if p := f.done.Swap(&closedChan); p != nil {
		close(*p)
	}
	f.waiters.release(f.loop)
}

// A Future is the eventual result of an operation: a value of type T or an
// error, or a cancellation. It belongs to one loop and is completed on that
// loop's goroutine (completing it from another goroutine sends the
// completion through the loop's door). Tasks wait for it with Await; plain
// goroutines with Done or Wait.
//
// A Future is done once it has a result, an error, or was canceled; it
// never changes after that. Create one with NewFuture; the zero Future
// belongs to no loop, and its methods return ErrNoLoop.
type Future[T any] struct {
	futureBase
	result T
}

// NewFuture returns a pending future bound to l. Any goroutine.
func NewFuture[T any](l *Loop) *Future[T] {
	f := &Future[T]{futureBase: futureBase{loop: l}}
	if l != nil {
		if d := l.debug.on.Load(); d != nil {
			d.noteFuture(&f.futureBase) // debug mode: keep it and its site (debug.go)
		}
	}
	return f
}

// Loop returns the loop the future belongs to.
func (f *Future[T]) Loop() *Loop { return f.loop }

// Poll implements Awaitable: it returns f's outcome and true if f is done;
// otherwise it adds w to f's waiters and returns false. Loop goroutine only.
func (f *Future[T]) Poll(w *Waiter) (T, bool, error) {
	if f.isDone() {
		v, err := f.Result()
		return v, true, err
	}
	f.waiters.push(w)
	var zero T
	return zero, false, nil
}

// SetResult completes f with the result v. On the loop goroutine it returns
// an error matching ErrInvalidState, and changes nothing, if f is already
// done, and if f is the future of a task (a task's outcome is what its body
// returns).
//
// From any other goroutine the completion travels through the loop's door
// and SetResult returns nil, or ErrClosed if the loop is closed. If f turns
// out to be done when the loop receives it, the late result is dropped: if f
// was canceled, silently (the canceller won a fair race); otherwise the
// loop's error handler is told, since two completions are a bug.
func (f *Future[T]) SetResult(v T) error {
	return f.set("SetResult", v, nil)
}

// SetError completes f with the error err. A nil err is refused with an
// error matching ErrInvalidState. Goroutines and errors as for SetResult.
func (f *Future[T]) SetError(err error) error {
	if err == nil {
		return fmt.Errorf("%w: SetError with a nil error", ErrInvalidState)
	}
	var zero T
	return f.set("SetError", zero, err)
}

// set is SetResult and SetError: on the loop it completes f at once; from
// another goroutine it sends the completion through the door.
func (f *Future[T]) set(method string, v T, err error) error {
	if f.loop == nil {
		return noLoop("Future." + method)
	}
	if f.owner != nil {
		return fmt.Errorf("%w: %s on the future of a task", ErrInvalidState, method)
	}
	if !f.loop.onLoop() {
		return f.loop.post(func() { f.lateSet(f.complete(method, v, err)) })
	}
	return f.complete(method, v, err)
}

// complete stores the outcome and finishes f, unless f is done already.
// Loop goroutine only.
func (f *Future[T]) complete(method string, v T, err error) error {
	if f.isDone() {
		return f.doneError(method)
	}
	f.result = v
	f.finish(err, false)
	return nil
}

func (f *futureBase) doneError(method string) error {
	if f.cancelled {
		return fmt.Errorf("%w: %s on a canceled future", ErrInvalidState, method)
	}
	return fmt.Errorf("%w: %s on a future that is already done", ErrInvalidState, method)
}

// lateSet handles the outcome of a completion that came through the door.
// The report runs as a callback of its own (Loop.report): the completion
// runs while the loop drains its door.
func (f *futureBase) lateSet(err error) {
	if err != nil && !f.cancelled {
		f.loop.report(ErrorContext{Message: "aio: future completed twice (from another goroutine)", Err: err})
	}
}

// Cancel cancels f with cause (context.Canceled if cause is nil): f becomes
// done, and its error is a *CanceledError that matches context.Canceled and
// unwraps to cause. It reports whether f was pending, as asyncio's
// Future.cancel does. Canceling the future of a task cancels the task (see
// Task.Cancel).
//
// Cancel may be called from any goroutine. From another goroutine the
// cancellation travels through the loop's door, and the result says only
// that f was pending when Cancel was called; f may complete before the loop
// receives the request, which then does nothing. On a zero Future it does
// nothing and reports false.
func (f *Future[T]) Cancel(cause error) bool {
	if f.owner != nil {
		return f.owner.impl.Cancel(cause) // a task's rules, and its routing off the loop
	}
	if f.loop == nil {
		return false
	}
	if !f.loop.onLoop() {
		if f.isDone() {
			return false
		}
		return f.loop.post(func() { f.cancel(cause) }) == nil
	}
	return f.cancel(cause)
}

func (f *futureBase) cancel(cause error) bool {
	if f.isDone() {
		return false
	}
	f.finish(canceled(cause), true)
	return true
}

// IsDone reports whether f is done. Any goroutine.
func (f *Future[T]) IsDone() bool { return f.isDone() }

// Canceled reports whether f was canceled. Any goroutine.
func (f *Future[T]) Canceled() bool { return f.isDone() && f.cancelled }

// Result returns f's result and error once f is done. Before that it returns
// the zero T and an error matching ErrInvalidState. For a canceled future
// the error is its *CanceledError. Any goroutine.
func (f *Future[T]) Result() (T, error) {
	if !f.isDone() {
		var zero T
		return zero, fmt.Errorf("%w: result is not ready", ErrInvalidState)
	}
	f.markRetrieved()
	return f.result, f.err
}

// Err returns f's error once f is done (nil for a result), and an error
// matching ErrInvalidState before. Any goroutine.
func (f *Future[T]) Err() error {
	_, err := f.Result()
	return err
}

// Done returns a channel that is closed when f is done, for plain goroutines
// to select on. The channel is made on the first call, so a future used only
// on the loop never makes one. Any goroutine.
func (f *Future[T]) Done() <-chan struct{} { return f.doneChan() }

func (f *futureBase) doneChan() chan struct{} {
	for {
		if p := f.done.Load(); p != nil {
			return *p
		}
		ch := make(chan struct{})
		if f.done.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

// Wait blocks the calling goroutine until f is done, ctx is done, or the
// loop is closed, and returns f's result and error; ctx's cause (see
// context.Cause) if ctx ends first; and an error matching ErrClosed if the
// loop is closed with f still pending. A nil ctx is refused with
// ErrNilContext, a zero Future with ErrNoLoop.
//
// Wait is for goroutines other than the loops': called on the loop goroutine
// or in one of its tasks it would block the loop forever, so it returns an
// error matching ErrOnLoop there at once (tasks use Await); likewise on the
// goroutine or in a task of any other loop, which it would stall (two loops
// waiting on each other would deadlock), and in a task that Close is
// unwinding.
func (f *Future[T]) Wait(ctx context.Context) (T, error) {
	if err := f.wait(ctx); err != nil {
		var zero T
		return zero, err
	}
	return f.Result()
}

func (f *futureBase) wait(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("%w: Future.Wait", ErrNilContext)
	}
	if f.loop == nil {
		return noLoop("Future.Wait")
	}
	if f.loop.onLoop() {
		return fmt.Errorf("%w: Wait would block the loop forever; use Await in a task", ErrOnLoop)
	}
	if onAnyLoop(curg()) {
		return fmt.Errorf("%w: Wait would block the loop that calls it; await the future of another loop from a plain goroutine", ErrOnLoop)
	}
	if f.isDone() {
		return nil
	}
	select {
	case <-f.doneChan():
		return nil
	case <-ctx.Done():
		if f.isDone() {
			return nil
		}
		return context.Cause(ctx)
	case <-f.loop.closed:
		if f.isDone() {
			return nil
		}
		return fmt.Errorf("%w: the loop closed before the future was done", ErrClosed)
	}
}

// AddDoneCallback arranges for fn to be called on the loop goroutine once f
// is done; if f is done already, fn is scheduled at once. Callbacks are
// scheduled in the order they were added, each exactly once, as separate
// loop callbacks (a panic in one is reported and does not affect the
// others). The returned remove function unregisters fn and reports whether
// it did so before fn was scheduled, like the stop function of
// context.AfterFunc.
//
// AddDoneCallback and remove must be called on the loop goroutine or in one
// of its tasks: AddDoneCallback returns an error matching ErrNotOnLoop
// elsewhere, and remove, which has no error result, panics with one. It
// returns ErrNilFunc for a nil fn and ErrNoLoop on a zero Future.
func (f *Future[T]) AddDoneCallback(fn func()) (remove func() bool, err error) {
	return f.addDoneCallback(fn)
}

// doneCallback is the waiter of a done callback: woken, it schedules fn.
type doneCallback struct {
	Waiter
	fn func()
}

func (d *doneCallback) wake(l *Loop) { l.soon(d.fn) }

func (f *futureBase) addDoneCallback(fn func()) (func() bool, error) {
	if fn == nil {
		return nil, ErrNilFunc
	}
	if f.loop == nil {
		return nil, noLoop("AddDoneCallback")
	}
	if !f.loop.onLoop() {
		return nil, notOnLoop("AddDoneCallback")
	}
	if f.isDone() {
		f.loop.soon(fn)
		return func() bool {
			f.loop.mustBeOnLoop("the remove function of AddDoneCallback")
			return false
		}, nil
	}
	d := &doneCallback{fn: fn}
	d.w = d
	f.waiters.push(&d.Waiter)
	return func() bool {
		f.loop.mustBeOnLoop("the remove function of AddDoneCallback")
		if !d.queued() {
			return false
		}
		f.waiters.remove(&d.Waiter)
		return true
	}, nil
}
