package aio

import (
	"context"
	"errors"
)

// Cancellation, in one place: the error it is, the request a task counts,
// and its delivery at the task's next suspension point. Cancel scopes,
// timeouts and task groups build on this machine and nothing else.
//
// The machine is asyncio's: a request (Task.Cancel) counts one in the task's
// cancelRequests, keeps the latest cause, marks the task (mustCancel), takes
// it off whatever it is parked on, and wakes it. The suspension point where
// the task is, or the next one it reaches (Await, Sleep, Yield, Park,
// Gather), consumes the mark and returns the cancellation as a
// *CanceledError. Uncancel withdraws one request; at zero, an undelivered
// mark is dropped too (asyncio 3.13's rule), which is how a timeout or a
// group tells its own cancellation, which it withdraws, from one that came
// from outside, which stays counted.

// CanceledError is the error of a canceled future or task, and the error
// that Await, Sleep, Yield and WaitQueue.Park return in a task that has been
// canceled. It matches context.Canceled under errors.Is, so code written for
// contexts recognises it, and it unwraps to its Cause, so errors.Is(err,
// cause) holds too (ErrClosed for a closing loop, ErrShutdown for a loop
// shutting down, whatever cause the canceller gave).
type CanceledError struct {
	Cause error // why; context.Canceled when the canceller gave no cause

	scope *Scope // the cancel scope it was aimed at; nil for Task.Cancel
}

// Error returns "aio: canceled", followed by the cause if it is not
// context.Canceled.
func (e *CanceledError) Error() string {
	if e.Cause == nil || e.Cause == context.Canceled {
		return "aio: canceled"
	}
	return "aio: canceled: " + e.Cause.Error()
}

// Is reports whether target is context.Canceled.
func (e *CanceledError) Is(target error) bool { return target == context.Canceled }

// Unwrap returns the cause.
func (e *CanceledError) Unwrap() error { return e.Cause }

// Cause returns the cause of a cancellation error, as context.Cause does for
// a context: for an error that wraps a *CanceledError, its Cause; for any
// other error matching context.Canceled, context.Canceled; and nil for nil or
// an error that is not a cancellation.
func Cause(err error) error {
	var ce *CanceledError
	if errors.As(err, &ce) {
		if ce.Cause == nil {
			return context.Canceled
		}
		return ce.Cause
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	return nil
}

// asCanceled returns the *CanceledError in err's chain, or nil.
func asCanceled(err error) *CanceledError {
	if err == nil {
		return nil
	}
	if ce, ok := err.(*CanceledError); ok {
		return ce
	}
	var ce *CanceledError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

// canceled returns the error for a cancellation with cause.
func canceled(cause error) *CanceledError {
	if cause == nil {
		cause = context.Canceled
	}
	return &CanceledError{Cause: cause}
}

// cancel records a cancellation request for c with cause and wakes c so
// that its suspension point delivers it. It reports false, and does nothing,
// if c is done. Loop goroutine only.
func (c *Ctx) cancel(cause error) bool {
	if c.state == taskDone {
		return false
	}
	c.cancelRequests++
	x := c.extra()
	x.cancelErr = canceled(cause)
	c.mustCancel = true
	if x.ctxCancel != nil {
		x.ctxCancel(x.cancelErr.Cause)
	}
	c.interrupt(nil)
	return true
}

// interrupt wakes c so that its suspension point delivers a cancellation
// aimed at target (nil: the task itself), unless a shielded scope between
// c's innermost scope and target keeps it out for now: the shielded scope's
// end lets it in, at the next suspension point. A parked task leaves the
// wait list it is in (a future's waiters, a WaitQueue) now, so that a wake
// meanwhile goes to a waiter that will take it.
func (c *Ctx) interrupt(target *Scope) {
	if c.x != nil {
		for s := c.x.scope; s != target; s = s.parent {
			if s == nil {
				break
			}
			if s.shield {
				return
			}
		}
	}
	if c.waiter.queued() {
		c.waiter.list.remove(&c.waiter)
	}
	c.wake(c.loop())
}

// uncancel withdraws one request and returns the number left; at zero an
// undelivered cancellation is dropped. Loop goroutine only.
func (c *Ctx) uncancel() int {
	if c.cancelRequests > 0 {
		c.cancelRequests--
		if c.cancelRequests == 0 {
			c.mustCancel = false
		}
	}
	return int(c.cancelRequests)
}

// takeCancel consumes a pending cancellation that may be delivered here and
// returns it, or nil. Without cancel scopes that is the task's own
// cancellation. Inside scopes it is the first undelivered cancellation of a
// scope, from the innermost outwards, and then the task's own, stopping at a
// shielded scope: what is outside a shield waits for the shield's end.
func (c *Ctx) takeCancel() error {
	if !c.mustCancel && (c.x == nil || c.x.scope == nil) {
		return nil // the hot path: inlined, nothing to deliver
	}
	return c.deliver()
}

// deliver is takeCancel's slow path. A cancellation delivered inside cancel
// scopes that is aimed outside some of them is remembered by each of those
// (Scope.outer): if the body loses it (handles it and goes on, or returns
// another cancellation), the scope's end still propagates it.
func (c *Ctx) deliver() error {
	if c.x == nil || c.x.scope == nil {
		c.mustCancel = false
		return c.x.cancelErr
	}
	target, task := c.nextCancel()
	var err *CanceledError
	switch {
	case target != nil:
		target.delivered = true
		err = target.err
	case task:
		c.mustCancel = false
		err = c.x.cancelErr
	default:
		return nil
	}
	for s := c.x.scope; s != target; s = s.parent {
		if s.outer == nil {
			s.outer = err
		}
	}
	return err
}

// cancelPending reports whether takeCancel would return a cancellation now.
func (c *Ctx) cancelPending() bool {
	s, task := c.nextCancel()
	return s != nil || task
}

// nextCancel finds the cancellation takeCancel delivers: that of scope s,
// or the task's own (task), or none.
func (c *Ctx) nextCancel() (s *Scope, task bool) {
	if c.x != nil {
		for s := c.x.scope; s != nil; s = s.parent {
			if s.requested && !s.delivered {
				return s, false
			}
			if s.shield {
				return nil, false
			}
		}
	}
	return nil, c.mustCancel
}

// rearm puts back a cancellation that a suspension point took (err, as
// suspend returned it) but did not deliver, because what the task waited
// for completed in the same turn and its outcome must not be lost (a value
// a Chan handed over): the task's next suspension point delivers it.
func (c *Ctx) rearm(err error) {
	ce := asCanceled(err)
	switch {
	case ce == nil:
	case ce.scope != nil:
		if s := ce.scope; !s.ended && s.err == ce {
			s.delivered = false
		}
	case c.x != nil && c.x.cancelErr == ce:
		c.mustCancel = true
	}
}

// suspend parks the task until something wakes it, and returns the pending
// cancellation, if any. It is the task's only suspension point: every wait
// (Await, Sleep, Yield, Park, the combinators) calls it in a loop and looks,
// when it returns nil, at whether what it waits for has happened.
func (c *Ctx) suspend() error {
	if err := c.takeCancel(); err != nil {
		// Requested while the task ran (a scope whose deadline is
		// already past, a task that cancelled itself): nothing would wake
		// it, so it does not park.
		return err
	}
	c.state = taskSuspended
	ok := c.coro.yield(struct{}{})
	c.state = taskRunning
	if !ok {
		return canceled(ErrClosed) // the loop is closing and unwinds us
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
