package locks_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
)

// Wait, WaitFor, Notify and NotifyAll need the Condition's lock locked:
// without it they return ErrNotLocked and do nothing; WaitFor with a nil
// predicate returns ErrNilFunc.
func TestConditionNeedsLock(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var cv locks.Condition
		checks := map[string]error{
			"Wait":      cv.Wait(c),
			"WaitFor":   cv.WaitFor(c, func() bool { return true }),
			"Notify":    cv.Notify(1),
			"NotifyAll": cv.NotifyAll(),
		}
		for name, err := range checks {
			if !errors.Is(err, locks.ErrNotLocked) {
				t.Errorf("%s without the lock = %v, want ErrNotLocked", name, err)
			}
		}
		if cv.Locked() {
			t.Error("locked after the failed calls")
		}
		cv.Acquire(c)
		if err := cv.WaitFor(c, nil); !errors.Is(err, aio.ErrNilFunc) {
			t.Errorf("WaitFor(nil) = %v, want ErrNilFunc", err)
		}
		return cv.Release()
	})
}

// NewCondition(l) works over l, which other code shares: the Condition's
// Acquire locks l; NewCondition(nil) and the zero Condition have a Lock of
// their own.
func TestConditionLock(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var l locks.Lock
		cv := locks.NewCondition(&l)
		cv.Acquire(c)
		if !l.Locked() {
			t.Error("Condition.Acquire did not lock the Lock it was made with")
		}
		l.Release()
		if cv.Locked() {
			t.Error("Condition.Locked after the Lock's Release")
		}
		own := locks.NewCondition(nil)
		own.Acquire(c)
		if l.Locked() || !own.Locked() {
			t.Error("NewCondition(nil) does not have a Lock of its own")
		}
		return own.Release()
	})
}

// Notify(n) wakes the n longest-waiting tasks (none for n < 1), NotifyAll
// the others; each returns from Wait holding the lock, after the notifier
// released it. A producer and consumers: every item is consumed once.
func TestConditionNotify(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var cv locks.Condition
		var woken []int
		var tasks []*aio.Task[struct{}]
		for i := range 5 {
			tasks = append(tasks, spawn(c, func(c *aio.Ctx) error {
				if err := cv.Acquire(c); err != nil {
					return err
				}
				defer cv.Release()
				if err := cv.Wait(c); err != nil {
					return err
				}
				if !cv.Locked() {
					t.Errorf("waiter %d returned from Wait without the lock", i)
				}
				woken = append(woken, i)
				return nil
			}))
			aio.Yield(c)
		}
		notify := func(f func() error) {
			cv.Acquire(c)
			before := len(woken)
			if err := f(); err != nil {
				t.Error(err)
			}
			settle(c)
			if len(woken) != before {
				t.Error("a waiter returned while the notifier held the lock")
			}
			cv.Release()
			settle(c)
		}
		notify(func() error { return cv.Notify(0) })
		notify(func() error { return cv.Notify(-1) })
		if len(woken) != 0 {
			t.Fatalf("Notify(0), Notify(-1) woke %v", woken)
		}
		notify(func() error { return cv.Notify(2) })
		if !slices.Equal(woken, []int{0, 1}) {
			t.Fatalf("Notify(2) woke %v", woken)
		}
		notify(cv.NotifyAll)
		if !slices.Equal(woken, []int{0, 1, 2, 3, 4}) {
			t.Fatalf("NotifyAll: woken %v", woken)
		}
		_, err := aio.Gather(c, tasks...)
		return err
	})
}

// WaitFor returns at once if the predicate holds, and otherwise waits until
// a notification finds it true: a consumer takes items a producer makes.
func TestConditionWaitForProducerConsumer(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var cv locks.Condition
		var items, consumed []int
		consumer := spawn(c, func(c *aio.Ctx) error {
			for range 6 {
				if err := cv.Acquire(c); err != nil {
					return err
				}
				if err := cv.WaitFor(c, func() bool { return len(items) > 0 }); err != nil {
					cv.Release()
					return err
				}
				consumed = append(consumed, items[0])
				items = items[1:]
				cv.Release()
			}
			return nil
		})
		for i := range 6 {
			cv.Acquire(c)
			items = append(items, i)
			cv.Notify(1)
			cv.Release()
			if i%2 == 0 {
				aio.Sleep(c, time.Millisecond)
			}
		}
		if _, err := aio.Await(c, consumer); err != nil {
			return err
		}
		if !slices.Equal(consumed, []int{0, 1, 2, 3, 4, 5}) {
			t.Errorf("consumed %v", consumed)
		}
		return nil
	})
}

// A Wait cancelled while it waits for a notification re-acquires the lock
// before it returns the cancellation, also when another task holds the
// lock at that moment (Wait then waits for it, as asyncio's does).
func TestConditionWaitCancelledReacquires(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var cv locks.Condition
		var werr error
		heldAtReturn := false
		w := spawn(c, func(c *aio.Ctx) error {
			cv.Acquire(c)
			werr = cv.Wait(c)
			heldAtReturn = cv.Locked()
			return cv.Release()
		})
		settle(c)
		cv.Acquire(c) // the main task holds the lock when w is cancelled
		w.Cancel(nil)
		settle(c)
		if w.IsDone() {
			t.Fatal("the cancelled Wait returned while another task held the lock")
		}
		cv.Release()
		if _, err := aio.Await(c, w); err != nil {
			t.Errorf("the waiter's Release: %v", err)
		}
		if !errors.Is(werr, context.Canceled) || !heldAtReturn {
			t.Errorf("cancelled Wait = %v, lock held at return %v", werr, heldAtReturn)
		}
		return nil
	})
}

// A Wait cancelled while it waits, and cancelled again while it
// re-acquires the lock, goes on re-acquiring, and returns the latest
// cancellation with the lock held.
func TestConditionWaitCancelledTwice(t *testing.T) {
	first, second := errors.New("first"), errors.New("second")
	run(t, func(c *aio.Ctx) error {
		var cv locks.Condition
		var werr error
		held := false
		w := spawn(c, func(c *aio.Ctx) error {
			cv.Acquire(c)
			werr = cv.Wait(c)
			held = cv.Locked()
			return cv.Release()
		})
		settle(c)
		cv.Acquire(c)
		w.Cancel(first)
		settle(c) // w is back in the lock's queue
		w.Cancel(second)
		settle(c)
		if w.IsDone() {
			t.Fatal("the twice cancelled Wait gave up re-acquiring the lock")
		}
		cv.Release()
		aio.Await(c, w)
		if !errors.Is(werr, second) || !held {
			t.Errorf("Wait = %v (want the cause %v), held %v", werr, second, held)
		}
		return nil
	})
}

// A notification is never lost to a cancellation: if the waiter that
// Notify picked is cancelled before it runs, the notification passes to
// the next waiter; if it is cancelled later, while it re-acquires the lock,
// it passes the notification on too.
func TestConditionNotificationNotLost(t *testing.T) {
	for _, when := range []string{"before it runs", "while re-acquiring"} {
		run(t, func(c *aio.Ctx) error {
			var cv locks.Condition
			errs := make([]error, 3)
			var tasks []*aio.Task[struct{}]
			for i := range 3 {
				tasks = append(tasks, spawn(c, func(c *aio.Ctx) error {
					cv.Acquire(c)
					errs[i] = cv.Wait(c)
					return cv.Release()
				}))
				aio.Yield(c)
			}
			cv.Acquire(c)
			cv.Notify(1) // picks waiter 0
			if when == "before it runs" {
				tasks[0].Cancel(nil)
				cv.Release()
			} else {
				settle(c) // waiter 0 waits for the lock the main task holds
				tasks[0].Cancel(nil)
				settle(c)
				cv.Release()
			}
			settle(c)
			if !errors.Is(errs[0], context.Canceled) || errs[1] != nil || !tasks[1].IsDone() || tasks[2].IsDone() {
				t.Errorf("%s: errors %v; done: %v %v %v; want waiter 1 woken, 2 waiting", when, errs,
					tasks[0].IsDone(), tasks[1].IsDone(), tasks[2].IsDone())
			}
			cv.Acquire(c)
			cv.NotifyAll()
			cv.Release()
			_, err := aio.Gather(c, tasks...)
			return err
		})
	}
}

// aio.WithTimeout around Wait and WaitFor: the timeout returns ErrTimeout,
// with the lock held again.
func TestConditionWaitWithTimeout(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var cv locks.Condition
		cv.Acquire(c)
		if err := aio.WithTimeout(c, time.Millisecond, cv.Wait); !errors.Is(err, aio.ErrTimeout) || !cv.Locked() {
			t.Errorf("Wait under a timeout = %v, Locked %v", err, cv.Locked())
		}
		err := aio.WithTimeout(c, 0, func(c *aio.Ctx) error {
			return cv.WaitFor(c, func() bool { return false })
		})
		if !errors.Is(err, aio.ErrTimeout) || !cv.Locked() {
			t.Errorf("WaitFor under a zero timeout = %v, Locked %v", err, cv.Locked())
		}
		return cv.Release()
	})
}
