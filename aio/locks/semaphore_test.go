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

// The constructors refuse a negative number of permits with
// ErrInvalidCount, and accept zero and more.
func TestSemaphoreConstructors(t *testing.T) {
	for _, n := range []int{-5, -1, 0, 1, 3} {
		s, err := locks.NewSemaphore(n)
		b, berr := locks.NewBoundedSemaphore(n)
		if n < 0 {
			if !errors.Is(err, locks.ErrInvalidCount) || s != nil {
				t.Errorf("NewSemaphore(%d) = %v, %v; want ErrInvalidCount", n, s, err)
			}
			if !errors.Is(berr, locks.ErrInvalidCount) || b != nil {
				t.Errorf("NewBoundedSemaphore(%d) = %v, %v; want ErrInvalidCount", n, b, berr)
			}
			continue
		}
		if err != nil || berr != nil {
			t.Errorf("n = %d: NewSemaphore: %v, NewBoundedSemaphore: %v", n, err, berr)
			continue
		}
		run(t, func(c *aio.Ctx) error {
			if s.Available() != n || b.Available() != n {
				t.Errorf("n = %d: Available %d and %d", n, s.Available(), b.Available())
			}
			return nil
		})
	}
}

// A Semaphore with n permits lets n tasks in at once, without suspending,
// and makes the next wait until a Release; TryAcquire takes a permit only
// if one is free; Available counts the permits nobody holds; a plain
// Semaphore may be released more often than acquired (it has no bound).
func TestSemaphorePermits(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		s, _ := locks.NewSemaphore(2)
		if err := s.Acquire(c); err != nil {
			return err
		}
		if !s.TryAcquire() || s.Available() != 0 {
			t.Fatalf("second permit: Available %d", s.Available())
		}
		if s.TryAcquire() {
			t.Error("TryAcquire with no permit left succeeded")
		}
		got := false
		w := spawn(c, func(c *aio.Ctx) error {
			err := s.Acquire(c)
			got = err == nil
			return err
		})
		settle(c)
		if got {
			t.Fatal("third Acquire did not wait")
		}
		if err := s.Release(); err != nil {
			return err
		}
		if _, err := aio.Await(c, w); err != nil || !got || s.Available() != 0 {
			t.Errorf("after Release: waiter %v, %v; Available %d", got, err, s.Available())
		}
		for range 3 {
			if err := s.Release(); err != nil {
				t.Errorf("Release: %v", err)
			}
		}
		if s.Available() != 3 {
			t.Errorf("Available %d after 3 Releases of permits nobody held; want 3", s.Available())
		}
		return nil
	})
}

// The zero Semaphore has no permits: Acquire waits until a Release, which
// makes it a counting signal.
func TestSemaphoreZeroValue(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var s locks.Semaphore
		if s.Available() != 0 || s.TryAcquire() {
			t.Fatal("the zero Semaphore has a permit")
		}
		got := 0
		w := spawn(c, func(c *aio.Ctx) error {
			for range 2 {
				if err := s.Acquire(c); err != nil {
					return err
				}
				got++
			}
			return nil
		})
		settle(c)
		if got != 0 {
			t.Fatal("Acquire of the zero Semaphore did not wait")
		}
		s.Release()
		settle(c)
		if got != 1 {
			t.Fatalf("after one Release, %d acquired", got)
		}
		s.Release()
		_, err := aio.Await(c, w)
		return err
	})
}

// A BoundedSemaphore refuses a Release that would raise its permits above
// the bound with ErrReleasedTooOften and changes nothing; a Release that
// gives back a held permit succeeds. Its zero value has a bound of zero.
func TestBoundedSemaphore(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		b, _ := locks.NewBoundedSemaphore(2)
		if err := b.Release(); !errors.Is(err, locks.ErrReleasedTooOften) || b.Available() != 2 {
			t.Errorf("Release at the bound = %v, Available %d", err, b.Available())
		}
		if err := b.Acquire(c); err != nil || !b.TryAcquire() || b.TryAcquire() {
			t.Fatalf("Acquire, TryAcquire: %v, Available %d", err, b.Available())
		}
		if err := b.Release(); err != nil {
			t.Error(err)
		}
		if err := b.Release(); err != nil {
			t.Error(err)
		}
		if err := b.Release(); !errors.Is(err, locks.ErrReleasedTooOften) || b.Available() != 2 {
			t.Errorf("third Release = %v, Available %d", err, b.Available())
		}
		var zero locks.BoundedSemaphore
		if err := zero.Release(); !errors.Is(err, locks.ErrReleasedTooOften) || zero.Available() != 0 {
			t.Errorf("Release of the zero BoundedSemaphore = %v", err)
		}
		return nil
	})
}

// Tasks get permits in the order they asked, and a newcomer does not take a
// permit released to a woken waiter that has not run yet.
func TestSemaphoreFIFONoBarging(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var s locks.Semaphore
		var order []int
		var tasks []*aio.Task[struct{}]
		for i := range 4 {
			tasks = append(tasks, spawn(c, func(c *aio.Ctx) error {
				if err := s.Acquire(c); err != nil {
					return err
				}
				order = append(order, i)
				return nil
			}))
			aio.Yield(c)
		}
		s.Release()
		s.Release() // two permits, promised to waiters 0 and 1
		if s.TryAcquire() {
			t.Error("TryAcquire took a permit promised to a woken waiter")
		}
		late := spawn(c, func(c *aio.Ctx) error {
			if err := s.Acquire(c); err != nil {
				return err
			}
			order = append(order, 9)
			return nil
		}, aio.WithEagerStart())
		settle(c)
		if !slices.Equal(order, []int{0, 1}) {
			t.Errorf("after two Releases: %v, want [0 1]", order)
		}
		for range 3 {
			s.Release()
		}
		tasks = append(tasks, late)
		if _, err := aio.Gather(c, tasks...); err != nil {
			return err
		}
		if !slices.Equal(order, []int{0, 1, 2, 3, 9}) {
			t.Errorf("order %v, want [0 1 2 3 9]", order)
		}
		return nil
	})
}

// Permits released to waiters that are cancelled in the same loop iteration,
// after the Release woke them and before they ran, go to the next waiters;
// the waiters behind are not stranded, and a permit nobody is left to take
// stays available (CPython gh-90155: a Semaphore left waiters hanging after
// a cancelled waiter; python/asyncio#270). Permits are conserved:
// initial + released - taken == Available.
func TestSemaphoreReleasedToCancelledWaiters(t *testing.T) {
	for _, tc := range []struct {
		waiters, releases int
		cancel            []int // waiters cancelled right after the Releases
	}{
		{waiters: 3, releases: 1, cancel: []int{0}},
		{waiters: 3, releases: 2, cancel: []int{0}},
		{waiters: 3, releases: 2, cancel: []int{1}},
		{waiters: 3, releases: 2, cancel: []int{0, 1}},
		{waiters: 4, releases: 2, cancel: []int{0, 2}},
		{waiters: 2, releases: 2, cancel: []int{0, 1}},
		{waiters: 1, releases: 1, cancel: []int{0}},
	} {
		run(t, func(c *aio.Ctx) error {
			var s locks.Semaphore
			errs := make([]error, tc.waiters)
			took := make([]bool, tc.waiters)
			var tasks []*aio.Task[struct{}]
			for i := range tc.waiters {
				tasks = append(tasks, spawn(c, func(c *aio.Ctx) error {
					errs[i] = s.Acquire(c)
					took[i] = errs[i] == nil
					return nil
				}))
				aio.Yield(c)
			}
			for range tc.releases {
				s.Release()
			}
			for _, i := range tc.cancel {
				tasks[i].Cancel(nil)
			}
			settle(c)
			// The model: permits go to the first waiters not cancelled.
			want := make([]bool, tc.waiters)
			left := tc.releases
			for i := range tc.waiters {
				if left > 0 && !slices.Contains(tc.cancel, i) {
					want[i], left = true, left-1
				}
			}
			if !slices.Equal(took, want) || s.Available() != left {
				t.Errorf("%+v: took %v, want %v; Available %d, want %d", tc, took, want, s.Available(), left)
			}
			for _, i := range tc.cancel {
				if !errors.Is(errs[i], context.Canceled) {
					t.Errorf("%+v: cancelled waiter %d got %v", tc, i, errs[i])
				}
			}
			// Nobody is stranded: one Release per waiter still waiting
			// lets every one of them through.
			for i := range tc.waiters {
				if !took[i] && !slices.Contains(tc.cancel, i) {
					s.Release()
				}
			}
			aio.GatherAll(c, tasks...)
			for i := range tc.waiters {
				if !slices.Contains(tc.cancel, i) && !took[i] {
					t.Errorf("%+v: waiter %d stranded", tc, i)
				}
			}
			return nil
		})
	}
}

// aio.WithTimeout around Acquire: a waiter that times out gets ErrTimeout
// and holds no permit; a permit released later goes to the next waiter; a
// zero timeout with a free permit takes it (no suspension, no lost result).
func TestSemaphoreAcquireWithTimeout(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		s, _ := locks.NewSemaphore(1)
		if err := aio.WithTimeout(c, 0, s.Acquire); err != nil || s.Available() != 0 {
			t.Errorf("zero timeout, free permit: %v, Available %d", err, s.Available())
		}
		if err := aio.WithTimeout(c, 0, s.Acquire); !errors.Is(err, aio.ErrTimeout) || s.Available() != 0 {
			t.Errorf("zero timeout, no permit: %v, Available %d", err, s.Available())
		}
		if err := aio.WithTimeout(c, time.Millisecond, s.Acquire); !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("1ms timeout, no permit: %v", err)
		}
		got := false
		w := spawn(c, func(c *aio.Ctx) error {
			err := s.Acquire(c)
			got = err == nil
			return err
		})
		settle(c)
		s.Release()
		if _, err := aio.Await(c, w); err != nil || !got || s.Available() != 0 {
			t.Errorf("waiter after timeouts: %v, %v, Available %d", got, err, s.Available())
		}
		return nil
	})
}

// A timeout expiring in the same iteration as the Release that woke the
// waiter (the Release's timer is due at the waiter's deadline and was
// scheduled first): the waiter times out, the permit goes to the next one.
func TestSemaphoreTimeoutAfterWake(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var s locks.Semaphore
		deadline := c.Loop().Now().Add(5 * time.Millisecond)
		c.Loop().CallAt(deadline, func() { s.Release() })
		var errA error
		a := spawn(c, func(c *aio.Ctx) error {
			errA = aio.WithDeadline(c, deadline, s.Acquire)
			return nil
		})
		settle(c)
		got := false
		b := spawn(c, func(c *aio.Ctx) error {
			err := s.Acquire(c)
			got = err == nil
			return err
		})
		if _, err := aio.Gather(c, a, b); err != nil {
			return err
		}
		if !errors.Is(errA, aio.ErrTimeout) || !got || s.Available() != 0 {
			t.Errorf("timed-out waiter %v; next acquired %v; Available %d", errA, got, s.Available())
		}
		return nil
	})
}
