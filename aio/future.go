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
	done   atomic.Pointer[chan struct{}]
	w0     waiter    // the first waiter (loop goroutine only)
	more   *[]waiter // the others, in order, if any (loop goroutine only)
	nextID uint64
	owner  *Ctx // the task whose future this is, nil for a plain future
}

// waiter is a done callback. A user callback (fn) is scheduled on the loop
// at completion, in the order the callbacks were added. Internal waiters
// (task, count) act at the moment of completion and only mark a task as
// woken, which is what keeps wake-ups exact (see docs/design.md).
type waiter struct {
	id    uint64
	fn    func()
	task  *Ctx         // if set, the waiter wakes this task
	count *waitCounter // if set, the waiter counts down for waitAll
}

func (f *futureBase) isDone() bool { return f.done.Load() == &closedChan }

// addWaiter registers the done callback fn and returns its id. Loop
// goroutine only.
func (f *futureBase) addWaiter(fn func()) uint64 {
	return f.push(waiter{fn: fn})
}

// push appends w to the waiters and returns its new id. Most futures have
// one waiter, kept inline in w0 so that awaiting a future allocates nothing.
func (f *futureBase) push(w waiter) uint64 {
	f.nextID++
	w.id = f.nextID
	if f.w0.id == 0 && f.more == nil {
		f.w0 = w
	} else {
		if f.more == nil {
			// Behind a pointer: a second waiter is rare, and a slice
			// header in every future would cost 16 bytes each.
			f.more = new([]waiter)
		}
		*f.more = append(*f.more, w)
	}
	return w.id
}

// others returns the waiters after the first.
func (f *futureBase) others() []waiter {
	if f.more == nil {
		return nil
	}
	return *f.more
}

// removeWaiter unregisters the waiter with id, keeping the order of the
// others, and reports whether it was registered. Loop goroutine only.
func (f *futureBase) removeWaiter(id uint64) bool {
	if f.w0.id == id && id != 0 {
		f.w0 = waiter{}
		if more := f.others(); len(more) > 0 {
			f.w0 = more[0]
			f.dropMore(0)
		}
		return true
	}
	for i, w := range f.others() {
		if w.id == id {
			f.dropMore(i)
			return true
		}
	}
	return false
}

// removeCounter unregisters the waiter that counts for w, if any.
func (f *futureBase) removeCounter(w *waitCounter) {
	if f.w0.count == w {
		f.removeWaiter(f.w0.id)
		return
	}
	for _, x := range f.others() {
		if x.count == w {
			f.removeWaiter(x.id)
			return
		}
	}
}

func (f *futureBase) dropMore(i int) {
	more := *f.more
	n := len(more)
	copy(more[i:], more[i+1:])
	more[n-1] = waiter{} // release fn
	if n == 1 {
		f.more = nil
		return
	}
	*f.more = more[:n-1]
}

// finish completes the future with err (nil for a result already stored by
// the caller) and fires its waiters. Loop goroutine only; the caller checked
// that the future is pending.
func (f *futureBase) finish(err error, cancelledNow bool) {
	f.err = err
	f.cancelled = cancelledNow
	if p := f.done.Swap(&closedChan); p != nil {
		close(*p)
	}
	w0, more := f.w0, f.others()
	f.w0, f.more = waiter{}, nil
	if w0.id != 0 {
		f.fire(w0)
	}
	for _, w := range more {
		f.fire(w)
	}
}

// fire runs or schedules one waiter of a completed future.
func (f *futureBase) fire(w waiter) {
	switch {
	case w.task != nil:
		w.task.wake()
	case w.count != nil:
		w.count.done(f)
	default:
		f.loop.soon(w.fn)
	}
}

// A Future is the eventual result of an operation: a value of type T or an
// error, or a cancellation. It belongs to one loop and is completed on that
// loop's goroutine (completing it from another goroutine sends the
// completion through the loop's door). Tasks wait for it with Await; plain
// goroutines with Done or Wait.
//
// A Future is done once it has a result, an error, or was cancelled; it
// never changes after that. Create one with NewFuture.
type Future[T any] struct {
	futureBase
	result T
}

// NewFuture returns a pending future bound to l. Any goroutine.
func NewFuture[T any](l *Loop) *Future[T] {
	return &Future[T]{futureBase: futureBase{loop: l}}
}

func (f *Future[T]) future() *Future[T] { return f }

// Loop returns the loop the future belongs to.
func (f *Future[T]) Loop() *Loop { return f.loop }

// SetResult completes f with the result v. On the loop goroutine it returns
// an error matching ErrInvalidState, and changes nothing, if f is already
// done, and if f is the future of a task (a task's outcome is what its body
// returns).
//
// From any other goroutine the completion travels through the loop's door
// and SetResult returns nil, or ErrClosed if the loop is closed. If f turns
// out to be done when the loop receives it, the late result is dropped: if f
// was cancelled, silently (the canceller won a fair race); otherwise the
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
		return fmt.Errorf("%w: %s on a cancelled future", ErrInvalidState, method)
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
// done, and its error is a *CancelledError that matches context.Canceled and
// unwraps to cause. It reports whether f was pending, as asyncio's
// Future.cancel does. Cancelling the future of a task cancels the task (see
// Task.Cancel).
//
// Cancel may be called from any goroutine. From another goroutine the
// cancellation travels through the loop's door, and the result says only
// that f was pending when Cancel was called; f may complete before the loop
// receives the request, which then does nothing.
func (f *Future[T]) Cancel(cause error) bool {
	if f.owner != nil {
		return f.owner.impl.Cancel(cause) // a task's rules, and its routing off the loop
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
	f.finish(cancelled(cause), true)
	return true
}

// IsDone reports whether f is done. Any goroutine.
func (f *Future[T]) IsDone() bool { return f.isDone() }

// Cancelled reports whether f was cancelled. Any goroutine.
func (f *Future[T]) Cancelled() bool { return f.isDone() && f.cancelled }

// Result returns f's result and error once f is done. Before that it returns
// the zero T and an error matching ErrInvalidState. For a cancelled future
// the error is its *CancelledError. Any goroutine.
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
// loop is closed with f still pending. A nil ctx means context.Background.
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
	if f.loop.onLoop() {
		return fmt.Errorf("%w: Wait would block the loop forever; use Await in a task", ErrOnLoop)
	}
	if onAnyLoop(curg()) {
		return fmt.Errorf("%w: Wait would block the loop that calls it; await the future of another loop from a plain goroutine", ErrOnLoop)
	}
	if f.isDone() {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
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
// elsewhere (remove then reports false), and ErrNilFunc for a nil fn.
func (f *Future[T]) AddDoneCallback(fn func()) (remove func() bool, err error) {
	return f.addDoneCallback(fn)
}

func (f *futureBase) addDoneCallback(fn func()) (func() bool, error) {
	if fn == nil {
		return nil, ErrNilFunc
	}
	if !f.loop.onLoop() {
		return nil, notOnLoop("AddDoneCallback")
	}
	if f.isDone() {
		f.loop.soon(fn)
		return func() bool { return false }, nil
	}
	id := f.addWaiter(fn)
	return func() bool {
		if !f.loop.onLoop() {
			return false
		}
		return f.removeWaiter(id)
	}, nil
}

// Awaitable is what Await accepts: a *Future[T] or a *Task[T].
type Awaitable[T any] interface {
	future() *Future[T]
}

var _ Awaitable[int] = (*Future[int])(nil)
