package aio

import (
	"fmt"
	"time"
)

// check verifies that the caller is c's own task, running on its loop.
func (c *Ctx) check(fn string) error {
	if c == nil {
		return fmt.Errorf("%w: %s with a nil *Ctx", ErrNotInTask, fn)
	}
	l := c.fut.loop
	if l.state.Load() == stateClosed {
		return cancelled(ErrClosed)
	}
	// Only the coroutine the loop is resuming may read loop state; compare
	// goroutine identities before looking at anything else.
	if g := curg(); g != l.taskG.Load() || l.current != c {
		return fmt.Errorf("%w: %s must be called by the task that owns the *Ctx (%s)", ErrNotInTask, fn, c.String())
	}
	return nil
}

// suspend parks the task until something wakes it, and returns the pending
// cancellation, if any. It is the task's only suspension point.
func (c *Ctx) suspend() error {
	c.state = taskSuspended
	ok := c.coro.yield(struct{}{})
	c.state = taskRunning
	if !ok {
		return cancelled(ErrClosed) // the loop is closing and unwinds us
	}
	return c.takeCancel()
}

// begin is where a suspending function starts: the caller must be c's task,
// and a pending cancellation is returned at once.
func (c *Ctx) begin(fn string) error {
	if err := c.check(fn); err != nil {
		return err
	}
	return c.takeCancel()
}

// takeCancel consumes a pending cancellation.
func (c *Ctx) takeCancel() error {
	if !c.mustCancel {
		return nil
	}
	c.mustCancel = false
	return cancelled(c.cancelCause)
}

// Await suspends the calling task until a is done, and returns a's result
// and error. If a is done already it returns at once, without suspending.
// It may be called at any depth of the task body's call stack.
//
// If the task is cancelled while it waits (or was cancelled before the
// call), Await returns a *CancelledError matching context.Canceled, and a
// itself is left as it is. Await returns an error matching ErrNotInTask when
// c is nil or is not the running task's own Ctx (from a callback, another
// goroutine, or another task), an error matching ErrInvalidState when a is
// nil, belongs to another loop, or is the task's own future (which would
// never complete), and a *CancelledError with cause ErrClosed when the loop
// is closed.
func Await[T any](c *Ctx, a Awaitable[T]) (T, error) {
	var zero T
	if err := c.check("Await"); err != nil {
		return zero, err
	}
	f := future(a)
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
	// One waiter for the whole wait. A wake-up that brings no cancellation
	// (one that was withdrawn with Uncancel) just suspends again.
	id := f.push(waiter{task: c})
	for {
		if err := c.suspend(); err != nil {
			if !f.isDone() {
				f.removeWaiter(id)
			}
			return err
		}
		if f.isDone() {
			return nil
		}
	}
}

// Sleep suspends the calling task for at least d on the loop's clock. A zero
// or negative d yields as Yield does. It returns nil, or the task's
// cancellation (a *CancelledError), or the errors of Await for misuse.
func Sleep(c *Ctx, d time.Duration) error {
	if d <= 0 {
		return Yield(c)
	}
	if err := c.begin("Sleep"); err != nil {
		return err
	}
	l := c.fut.loop
	cb := l.pool.get(l, nil)
	cb.task = c
	gen := cb.gen
	l.timers.PushRank(&cb.timer, l.after(d), l.timerRank())
	// The timer's record is recycled, changing its generation, when it
	// fires. Until then a wake-up without a cancellation (one withdrawn
	// with Uncancel) is not the end of the sleep.
	for cb.gen == gen {
		if err := c.suspend(); err != nil {
			l.cancel(cb, gen) // woken by the cancellation: drop the timer
			return err
		}
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
