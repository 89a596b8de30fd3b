package locks

import (
	"context"
	"errors"
	"fmt"

	"github.com/aiogo/aio/aio"
)

// A Condition is a condition variable for the tasks of a loop (asyncio's
// Condition): tasks that hold its Lock wait with Wait until another task,
// having changed the shared state, calls Notify or NotifyAll; each woken
// task re-acquires the lock before its Wait returns, and looks at the state
// again. A Lock has no owner, so "holding" the lock means here that it is
// locked, by whichever task.
//
// The zero value is a Condition with a Lock of its own, unlocked, ready to
// use; NewCondition makes one over a Lock that other code shares. Acquire,
// Release and Locked are those of the Condition's Lock.
//
// Notifications are never lost to a cancellation: a waiter cancelled after
// a Notify picked it passes the notification to the next waiter (CPython
// gh-112202), and a Wait that was notified but then is cancelled while it
// re-acquires the lock passes it on too.
//
// A Condition belongs to the loop of its first use, as its Lock does. Its
// methods must be called on that loop's goroutine or in one of its tasks,
// and the waits in a task: the methods with an error result return an error
// elsewhere, Locked panics with an error matching aio.ErrNotOnLoop. A
// Condition must not be copied after first use.
type Condition struct {
	l   *Lock         // the lock; nil for own
	own Lock          // the zero Condition's lock
	q   aio.WaitQueue // tasks waiting for a notification, in order
}

// NewCondition returns a Condition over l, or over a new Lock of its own if
// l is nil. Any goroutine.
func NewCondition(l *Lock) *Condition {
	return &Condition{l: l}
}

// lock returns the Condition's Lock.
func (cv *Condition) lock() *Lock {
	if cv.l != nil {
		return cv.l
	}
	return &cv.own
}

// Acquire acquires the Condition's Lock (see Lock.Acquire).
func (cv *Condition) Acquire(c *aio.Ctx) error { return cv.lock().Acquire(c) }

// Release releases the Condition's Lock (see Lock.Release).
func (cv *Condition) Release() error { return cv.lock().Release() }

// Locked reports whether the Condition's Lock is locked.
func (cv *Condition) Locked() bool { return cv.lock().Locked() }

// Wait releases the Condition's Lock, suspends the calling task until a
// Notify or NotifyAll wakes it, re-acquires the lock (waiting for it, in
// turn with the lock's other waiters), and returns nil. The calling task
// must hold the lock: Wait returns ErrNotLocked, without waiting, if it is
// not locked.
//
// Wait re-acquires the lock before it returns even when the task is
// cancelled while it waits (asyncio's rule, so that the caller's deferred
// Release is always right): it then returns the cancellation (a
// *aio.CanceledError) with the lock held. If re-acquiring is interrupted by
// a further cancellation, Wait goes on re-acquiring and returns the latest
// cancellation. The only exception is a loop that is closing, on which
// nothing can wait any more: Wait returns at once, without the lock. The
// misuse errors are those of aio.WaitQueue.Park.
func (cv *Condition) Wait(c *aio.Ctx) error {
	l, err := cv.checkTask(c)
	if err != nil {
		return err
	}
	if !l.locked {
		return ErrNotLocked
	}
	l.release()
	cv.q.Describe(&conditionWait)
	err = cv.q.Park(c)
	notified := err == nil
	for {
		aerr := l.Acquire(c)
		if aerr == nil {
			break
		}
		err = aerr
		if !errors.Is(aerr, context.Canceled) || c.Loop().IsClosed() {
			return err
		}
	}
	if err != nil && notified {
		// The notification will not be acted on: give it to the next
		// waiter instead, which looks at the state for itself.
		cv.q.WakeOne()
	}
	return err
}

// WaitFor waits, as Wait does, until pred returns true, and returns nil; it
// calls pred with the lock held, first before waiting at all (it returns at
// once if pred is true then) and again after each wake-up. It returns
// Wait's error (ErrNotLocked, a cancellation with the lock held) if a Wait
// fails, and one matching aio.ErrNilFunc for a nil pred.
func (cv *Condition) WaitFor(c *aio.Ctx, pred func() bool) error {
	l, err := cv.checkTask(c)
	if err != nil {
		return err
	}
	if pred == nil {
		return fmt.Errorf("%w: Condition.WaitFor with a nil predicate", aio.ErrNilFunc)
	}
	if !l.locked {
		return ErrNotLocked
	}
	for !pred() {
		if err := cv.Wait(c); err != nil {
			return err
		}
	}
	return nil
}

// Notify wakes up to n of the tasks waiting in Wait, the longest waiting
// first (none if n < 1); each returns from Wait once it has re-acquired the
// lock, which the caller still holds. It returns ErrNotLocked if the lock is
// not locked, and an error matching aio.ErrNotOnLoop off the Condition's
// loop.
func (cv *Condition) Notify(n int) error {
	if err := cv.check("Condition.Notify"); err != nil {
		return err
	}
	for i := 0; i < n && cv.q.WakeOne(); i++ {
	}
	return nil
}

// NotifyAll wakes every task waiting in Wait, as Notify does.
func (cv *Condition) NotifyAll() error {
	if err := cv.check("Condition.NotifyAll"); err != nil {
		return err
	}
	cv.q.WakeAll()
	return nil
}

// checkTask returns the misuse error of a wait by c, if any, and the lock.
func (cv *Condition) checkTask(c *aio.Ctx) (*Lock, error) {
	l := cv.lock()
	if err := cv.q.CheckTask(c); err != nil {
		return l, err
	}
	return l, l.q.CheckTask(c)
}

// check returns the error of a notification off the loop or without the
// lock.
func (cv *Condition) check(method string) error {
	l := cv.lock()
	if err := cv.q.CheckLoop(method); err != nil {
		return err
	}
	if err := l.q.CheckLoop(method); err != nil {
		return err
	}
	if !l.locked {
		return ErrNotLocked
	}
	return nil
}

var conditionWait = aio.WaitLabel{Kind: "condition", What: "locks.Condition.Wait"} // for the task dump (aio.Loop.Dump)
