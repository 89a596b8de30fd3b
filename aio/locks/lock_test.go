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

// The zero Lock is unlocked; Acquire locks it at once, without suspending;
// TryAcquire fails on a locked Lock and succeeds on a free one; Release
// unlocks it; releasing an unlocked Lock returns ErrNotLocked and changes
// nothing.
func TestLockZeroValue(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var l locks.Lock
		if l.Locked() {
			t.Error("zero Lock is locked")
		}
		if err := l.Release(); !errors.Is(err, locks.ErrNotLocked) {
			t.Errorf("Release of an unlocked Lock = %v, want ErrNotLocked", err)
		}
		ran := false
		c.Loop().CallSoon(func() { ran = true })
		if err := l.Acquire(c); err != nil || !l.Locked() {
			t.Fatalf("Acquire = %v, Locked %v", err, l.Locked())
		}
		if ran {
			t.Error("Acquire of a free Lock suspended the task")
		}
		if l.TryAcquire() {
			t.Error("TryAcquire of a locked Lock succeeded")
		}
		if err := l.Release(); err != nil || l.Locked() {
			t.Errorf("Release = %v, Locked %v", err, l.Locked())
		}
		if !l.TryAcquire() || !l.Locked() {
			t.Error("TryAcquire of a free Lock failed")
		}
		if err := l.Release(); err != nil {
			t.Error(err)
		}
		if err := l.Release(); !errors.Is(err, locks.ErrNotLocked) {
			t.Errorf("second Release = %v, want ErrNotLocked", err)
		}
		return nil
	})
}

// A Lock is held across a task's suspension points: tasks that each read a
// shared counter, sleep, and write it back lose no update under the Lock.
func TestLockAcrossAwait(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var l locks.Lock
		counter := 0
		var tasks []*aio.Task[struct{}]
		for range 5 {
			tasks = append(tasks, spawn(c, func(c *aio.Ctx) error {
				if err := l.Acquire(c); err != nil {
					return err
				}
				defer l.Release()
				v := counter
				if err := aio.Sleep(c, time.Millisecond); err != nil {
					return err
				}
				counter = v + 1
				return nil
			}))
		}
		if _, err := aio.Gather(c, tasks...); err != nil {
			return err
		}
		if counter != 5 || l.Locked() {
			t.Errorf("counter %d (want 5), Locked %v", counter, l.Locked())
		}
		return nil
	})
}

// Tasks get the Lock in the order they asked for it.
func TestLockFIFO(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var l locks.Lock
		l.TryAcquire()
		var order []int
		var tasks []*aio.Task[struct{}]
		for i := range 5 {
			tasks = append(tasks, spawn(c, func(c *aio.Ctx) error {
				if err := l.Acquire(c); err != nil {
					return err
				}
				order = append(order, i)
				aio.Yield(c)
				return l.Release()
			}))
			aio.Yield(c) // task i waits before task i+1 starts
		}
		l.Release()
		if _, err := aio.Gather(c, tasks...); err != nil {
			return err
		}
		if !slices.Equal(order, []int{0, 1, 2, 3, 4}) {
			t.Errorf("acquired in order %v", order)
		}
		return nil
	})
}

// A Lock released to a waiter that has not run yet is unlocked but
// promised: TryAcquire fails, and a newcomer's Acquire waits behind the
// woken waiter instead of barging in (the woken waiter is counted by
// WaitQueue.Waking).
func TestLockNoBargingPastWokenWaiter(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var l locks.Lock
		l.TryAcquire()
		var order []string
		waiter := func(name string) func(c *aio.Ctx) error {
			return func(c *aio.Ctx) error {
				if err := l.Acquire(c); err != nil {
					return err
				}
				order = append(order, name)
				return l.Release()
			}
		}
		a := spawn(c, waiter("woken"))
		settle(c)
		l.Release() // a is woken, and runs later
		if l.Locked() {
			t.Error("Locked after Release")
		}
		if l.TryAcquire() {
			t.Error("TryAcquire took a Lock released to a woken waiter")
		}
		b := spawn(c, waiter("newcomer"), aio.WithEagerStart())
		if _, err := aio.Gather(c, a, b); err != nil {
			return err
		}
		if !slices.Equal(order, []string{"woken", "newcomer"}) {
			t.Errorf("order %v: the newcomer barged in", order)
		}
		return nil
	})
}

// A task cancelled while it waits for the Lock gets the cancellation and
// never holds the Lock; the waiters behind it get it in turn.
func TestLockCancelWhileWaiting(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var l locks.Lock
		l.TryAcquire()
		var got []string
		var errA error
		a := spawn(c, func(c *aio.Ctx) error {
			errA = l.Acquire(c)
			if errA == nil {
				got = append(got, "a")
			}
			return nil
		})
		b := spawn(c, func(c *aio.Ctx) error {
			if err := l.Acquire(c); err != nil {
				return err
			}
			got = append(got, "b")
			return nil // holds on: the test checks who has it
		})
		settle(c)
		a.Cancel(nil)
		settle(c)
		if !errors.Is(errA, context.Canceled) {
			t.Errorf("cancelled waiter: Acquire = %v", errA)
		}
		l.Release()
		if _, err := aio.Gather(c, a, b); err != nil {
			return err
		}
		if !slices.Equal(got, []string{"b"}) || !l.Locked() {
			t.Errorf("acquired by %v, Locked %v; want b holding it", got, l.Locked())
		}
		return nil
	})
}

// The Lock released to a waiter that is cancelled in the same loop
// iteration, after the Release woke it and before it ran, goes to the next
// waiter, and the waiters behind that one are not stranded; if nobody else
// waits, the Lock is free again (CPython gh-90155, python/asyncio#270).
func TestLockReleasedToCancelledWaiter(t *testing.T) {
	for _, waiters := range []int{1, 2, 3} {
		run(t, func(c *aio.Ctx) error {
			var l locks.Lock
			l.TryAcquire()
			errs := make([]error, waiters)
			var order []int
			var tasks []*aio.Task[struct{}]
			for i := range waiters {
				tasks = append(tasks, spawn(c, func(c *aio.Ctx) error {
					errs[i] = l.Acquire(c)
					if errs[i] == nil {
						order = append(order, i)
						aio.Yield(c)
						l.Release()
					}
					return nil
				}))
				aio.Yield(c)
			}
			l.Release()          // wakes waiter 0 ...
			tasks[0].Cancel(nil) // ... which is cancelled before it runs
			aio.GatherAll(c, tasks...)
			if !errors.Is(errs[0], context.Canceled) {
				t.Errorf("%d waiters: the cancelled one got %v", waiters, errs[0])
			}
			want := []int{}
			for i := 1; i < waiters; i++ {
				want = append(want, i)
			}
			if !slices.Equal(order, want) || l.Locked() {
				t.Errorf("%d waiters: acquired by %v, want %v; Locked %v", waiters, order, want, l.Locked())
			}
			if !l.TryAcquire() {
				t.Errorf("%d waiters: the Lock is not free at the end", waiters)
			}
			return nil
		})
	}
}

// aio.WithTimeout around Acquire: a waiter whose timeout passes gets
// ErrTimeout (context.DeadlineExceeded) and does not hold the Lock, and the
// Lock goes on to the next waiter; a zero timeout on a locked Lock times out
// at once; a zero timeout on a free Lock acquires it (Acquire does not
// suspend, so the timeout has nothing to interrupt, and the result is not
// lost).
func TestLockAcquireWithTimeout(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var l locks.Lock
		err := aio.WithTimeout(c, 0, l.Acquire)
		if err != nil || !l.Locked() {
			t.Errorf("zero timeout on a free Lock: %v, Locked %v", err, l.Locked())
		}
		if err := aio.WithTimeout(c, 0, l.Acquire); !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("zero timeout on a locked Lock: %v, want ErrTimeout", err)
		}
		var errA error
		a := spawn(c, func(c *aio.Ctx) error {
			errA = aio.WithTimeout(c, time.Millisecond, l.Acquire)
			return nil
		})
		got := false
		b := spawn(c, func(c *aio.Ctx) error {
			if err := l.Acquire(c); err != nil {
				return err
			}
			got = true
			return l.Release()
		})
		if _, err := aio.Await(c, a); err != nil {
			return err
		}
		if !errors.Is(errA, aio.ErrTimeout) || !errors.Is(errA, context.DeadlineExceeded) {
			t.Errorf("timed-out waiter: %v", errA)
		}
		l.Release()
		if _, err := aio.Await(c, b); err != nil || !got {
			t.Errorf("the waiter behind the timed-out one: %v, acquired %v", err, got)
		}
		if l.Locked() {
			t.Error("Lock still locked at the end")
		}
		return nil
	})
}

// A timeout that expires in the same loop iteration as the Release, either
// order: the waiter's deadline and the Release are timers with the same
// deadline, run in the order they were scheduled. Released first, the
// waiter is woken and then timed out before it runs; timed out first, it
// has left the queue when the Release comes. Either way it returns
// ErrTimeout, the Lock goes to the waiter behind it, and nothing is lost.
func TestLockTimeoutSameIterationAsRelease(t *testing.T) {
	for _, releaseFirst := range []bool{true, false} {
		run(t, func(c *aio.Ctx) error {
			var l locks.Lock
			l.TryAcquire()
			deadline := c.Loop().Now().Add(5 * time.Millisecond)
			release := func() {
				if err := l.Release(); err != nil {
					t.Error(err)
				}
			}
			if releaseFirst {
				c.Loop().CallAt(deadline, release)
			}
			var errA error
			a := spawn(c, func(c *aio.Ctx) error {
				errA = aio.WithDeadline(c, deadline, l.Acquire)
				return nil
			})
			settle(c)
			if !releaseFirst {
				c.Loop().CallAt(deadline, release)
			}
			got := false
			b := spawn(c, func(c *aio.Ctx) error {
				err := l.Acquire(c)
				got = err == nil
				return err
			})
			if _, err := aio.Gather(c, a, b); err != nil {
				return err
			}
			if !errors.Is(errA, aio.ErrTimeout) || !got || !l.Locked() {
				t.Errorf("release first %v: timed-out waiter %v; next waiter acquired %v; Locked %v",
					releaseFirst, errA, got, l.Locked())
			}
			return nil
		})
	}
}
