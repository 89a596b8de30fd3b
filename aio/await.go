package aio

import (
	"fmt"
	"time"
)

// An Awaitable is what Await, Gather and the other combinators wait for, with
// an outcome of type T: a *Future[T], a *Task[T], or a type of the program's
// own built on a WaitQueue (asyncio's objects with __await__).
//
// Poll returns the outcome and true if it is ready. If it is not, it adds w
// to the WaitQueue on which the outcome's arrival will be announced (with
// WaitQueue.Add) and returns false; a WakeOne or WakeAll of that queue then
// makes whoever waits (a task in Await, a Gather) call Poll again, with the
// same w. Poll is called on the loop goroutine only, and must not suspend.
// The package's guide walks through an Awaitable of one's own, a countdown
// latch, in "Defining your own awaitable event".
type Awaitable[T any] interface {
	Poll(w *Waiter) (v T, ready bool, err error)
}

var (
	_ Awaitable[int] = (*Future[int])(nil)
	_ Awaitable[int] = (*Task[int])(nil)
)

// check verifies that the caller is c's own task, running on its loop.
func (c *Ctx) check(fn string) error {
	if c == nil {
		return fmt.Errorf("%w: %s with a nil *Ctx", ErrNotInTask, fn)
	}
	l := c.fut.loop
	if l.state.Load() == stateClosed {
		return canceled(ErrClosed)
	}
	// Only the coroutine the loop is resuming may read loop state; compare
	// goroutine identities before looking at anything else.
	if g := curg(); g != l.thread.taskG.Load() || l.current != c {
		return fmt.Errorf("%w: %s must be called by the task that owns the *Ctx (%s)", ErrNotInTask, fn, c.String())
	}
	return nil
}

// Await suspends the calling task until a is ready, and returns a's result
// and error. If a is ready already it returns at once, without suspending.
// It may be called at any depth of the task body's call stack.
//
// If the task is canceled while it waits (or was canceled before the
// call), Await returns a *CanceledError matching context.Canceled, and a
// itself is left as it is. Await returns an error matching ErrNotInTask when
// c is nil or is not the running task's own Ctx (from a callback, another
// goroutine, or another task), an error matching ErrInvalidState when a is
// nil, belongs to another loop, or is the task's own future (which would
// never complete), and a *CanceledError with cause ErrClosed when the loop
// is closed.
func Await[T any](c *Ctx, a Awaitable[T]) (T, error) {
	var zero T
	if err := c.check("Await"); err != nil {
		return zero, err
	}
	var f *Future[T]
	switch a := a.(type) {
	case *Future[T]:
		f = a
	case *Task[T]:
		if a != nil {
			f = &a.fut
		}
	case nil:
	default:
		return awaitPoll(c, a)
	}
	if f == nil {
		return zero, fmt.Errorf("%w: Await of a nil future", ErrInvalidState)
	}
	if err := c.awaitBase(&f.futureBase); err != nil {
		return zero, err
	}
	return f.Result()
}

// awaitBase waits for f on behalf of the running task c.
func (c *Ctx) awaitBase(f *futureBase) error {
	if f.loop != c.fut.loop {
		return fmt.Errorf("%w: Await of a future that belongs to another loop", ErrInvalidState)
	}
	if f.owner == c {
		return fmt.Errorf("%w: task %s awaits itself", ErrInvalidState, c.String())
	}
	if err := c.takeCancel(); err != nil {
		return err
	}
	if f.isDone() {
		return nil
	}
	w := &c.waiter
	f.waiters.push(w)
	c.coro.waitOn = f // for the task dump (dump.go)
	for {
		if err := c.suspend(); err != nil {
			w.drop(f.loop)
			return err
		}
		if f.isDone() {
			return nil
		}
		if !w.queued() {
			// A withdrawn cancellation took us off the waiters.
			f.waiters.push(w)
		}
	}
}

// awaitPoll waits for an Awaitable of the program's own through its Poll.
func awaitPoll[T any](c *Ctx, a Awaitable[T]) (T, error) {
	if err := c.takeCancel(); err != nil {
		var zero T
		return zero, err
	}
	w := &c.waiter
	c.coro.waitOn = a // for the task dump (dump.go)
	for {
		v, ok, err := a.Poll(w)
		if ok {
			w.used()
			return v, err
		}
		if w.list == nil {
			var zero T
			return zero, fmt.Errorf("%w: %T.Poll reported not ready without adding the Waiter to a WaitQueue: the task would never wake", ErrInvalidState, a)
		}
		if err := c.suspend(); err != nil {
			w.drop(c.loop())
			var zero T
			return zero, err
		}
		// Woken, or not (a withdrawn cancellation): poll afresh. A wake
		// that picked w is used by that poll, not passed on.
		if w.wasPicked() {
			w.used()
		} else {
			w.drop(c.loop())
		}
	}
}

// Sleep suspends the calling task for at least d on the loop's clock. A zero
// or negative d yields as Yield does. It returns nil, or the task's
// cancellation (a *CanceledError), or the errors of Await for misuse.
func Sleep(c *Ctx, d time.Duration) error {
	if d <= 0 {
		return Yield(c)
	}
	if err := c.begin("Sleep"); err != nil {
		return err
	}
	l := c.fut.loop
	// A pooled record carries the timer; when it falls due the heap wakes
	// the task itself (the timer's waker is c).
	cb := l.pool.get(l, nil)
	l.timers.add(cb, l.timers.after(d), c)
	c.coro.waitOn = cb // for the task dump (dump.go)
	defer l.pool.put(cb)
	for cb.timer.Queued() {
		if err := c.suspend(); err != nil {
			l.timers.remove(cb) // woken by the cancellation: drop the timer
			return err
		}
		// Not due yet: woken by a withdrawn cancellation; sleep on.
	}
	return nil
}

// Yield suspends the calling task until the loop has run everything that
// was ready when it was called (asyncio's sleep(0)), then resumes it. It
// returns nil, or the task's cancellation, or the errors of Await for misuse.
func Yield(c *Ctx) error {
	if err := c.begin("Yield"); err != nil {
		return err
	}
	c.woken = true
	c.fut.loop.soonStep(c)
	return c.suspend()
}
