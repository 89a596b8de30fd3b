package locks_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
)

// NewBarrier refuses fewer than one party with ErrInvalidCount; the zero
// Barrier's Wait returns ErrInvalidState.
func TestBarrierConstructor(t *testing.T) {
	for _, n := range []int{-1, 0} {
		if b, err := locks.NewBarrier(n); !errors.Is(err, locks.ErrInvalidCount) || b != nil {
			t.Errorf("NewBarrier(%d) = %v, %v; want ErrInvalidCount", n, b, err)
		}
	}
	run(t, func(c *aio.Ctx) error {
		var zero locks.Barrier
		if _, err := zero.Wait(c); !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("Wait on the zero Barrier = %v, want ErrInvalidState", err)
		}
		b, err := locks.NewBarrier(1)
		if err != nil {
			return err
		}
		for range 3 {
			if i, err := b.Wait(c); i != 0 || err != nil {
				t.Errorf("Wait on a Barrier of one party = %d, %v", i, err)
			}
		}
		return nil
	})
}

// Parties tasks are released together, with indexes 0 to Parties-1 in the
// order they arrived; the last returns without suspending; NWaiting counts
// those waiting; the Barrier is cyclic, ready for the next round at once.
func TestBarrierRounds(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		b, _ := locks.NewBarrier(3)
		if b.Parties() != 3 || b.NWaiting() != 0 || b.Broken() {
			t.Fatalf("new Barrier: Parties %d, NWaiting %d, Broken %v", b.Parties(), b.NWaiting(), b.Broken())
		}
		for round := range 3 {
			idx := make([]int, 2)
			var tasks []*aio.Task[struct{}]
			for k := range 2 {
				tasks = append(tasks, spawn(c, func(c *aio.Ctx) error {
					var err error
					idx[k], err = b.Wait(c)
					return err
				}))
				settle(c)
				if b.NWaiting() != k+1 {
					t.Errorf("round %d: NWaiting %d, want %d", round, b.NWaiting(), k+1)
				}
			}
			ran := false
			c.Loop().CallSoon(func() { ran = true })
			i, err := b.Wait(c)
			if err != nil || i != 2 || ran {
				t.Errorf("round %d: last party got %d, %v (suspended: %v)", round, i, err, ran)
			}
			if b.NWaiting() != 0 {
				t.Errorf("round %d: NWaiting %d after the release", round, b.NWaiting())
			}
			if _, err := aio.Gather(c, tasks...); err != nil {
				return err
			}
			if !slices.Equal(idx, []int{0, 1}) {
				t.Errorf("round %d: indexes %v", round, idx)
			}
		}
		return nil
	})
}

// Abort breaks the Barrier: the tasks waiting get ErrBrokenBarrier, and so
// does every Wait after, until Reset, which makes it usable again.
func TestBarrierAbortReset(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		b, _ := locks.NewBarrier(3)
		errs := make([]error, 2)
		var tasks []*aio.Task[struct{}]
		for k := range 2 {
			tasks = append(tasks, spawn(c, func(c *aio.Ctx) error { _, errs[k] = b.Wait(c); return nil }))
		}
		settle(c)
		b.Abort()
		aio.Gather(c, tasks...)
		for k, err := range errs {
			if !errors.Is(err, locks.ErrBrokenBarrier) {
				t.Errorf("waiter %d at Abort: %v", k, err)
			}
		}
		if !b.Broken() || b.NWaiting() != 0 {
			t.Errorf("after Abort: Broken %v, NWaiting %d", b.Broken(), b.NWaiting())
		}
		if _, err := b.Wait(c); !errors.Is(err, locks.ErrBrokenBarrier) {
			t.Errorf("Wait on a broken Barrier = %v", err)
		}
		b.Reset()
		if b.Broken() {
			t.Error("Broken after Reset")
		}
		one, _ := locks.NewBarrier(2)
		w := spawn(c, func(c *aio.Ctx) error { _, err := one.Wait(c); return err })
		settle(c)
		if _, err := one.Wait(c); err != nil {
			return err
		}
		_, err := aio.Await(c, w)
		return err
	})
}

// Reset while tasks wait: they get ErrBrokenBarrier, the Barrier is not
// broken after it, and the next round works.
func TestBarrierResetWhileWaiting(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		b, _ := locks.NewBarrier(2)
		var werr error
		w := spawn(c, func(c *aio.Ctx) error { _, werr = b.Wait(c); return nil })
		settle(c)
		b.Reset()
		aio.Await(c, w)
		if !errors.Is(werr, locks.ErrBrokenBarrier) || b.Broken() {
			t.Errorf("waiter at Reset: %v; Broken %v", werr, b.Broken())
		}
		w = spawn(c, func(c *aio.Ctx) error { _, err := b.Wait(c); return err })
		settle(c)
		if i, err := b.Wait(c); i != 1 || err != nil {
			t.Errorf("round after Reset: %d, %v", i, err)
		}
		_, err := aio.Await(c, w)
		return err
	})
}

// A task cancelled while it waits breaks the Barrier: it gets the
// cancellation, the others waiting get ErrBrokenBarrier, and so do later
// Waits until Reset. The same with aio.WithTimeout around Wait: the
// timed-out party gets ErrTimeout and the Barrier is broken.
func TestBarrierCancelledWaiterBreaks(t *testing.T) {
	for _, how := range []string{"Cancel", "WithTimeout"} {
		run(t, func(c *aio.Ctx) error {
			b, _ := locks.NewBarrier(3)
			errs := make([]error, 2)
			a := spawn(c, func(c *aio.Ctx) error {
				if how == "Cancel" {
					_, errs[0] = b.Wait(c)
				} else {
					errs[0] = aio.WithTimeout(c, 0, func(c *aio.Ctx) error { _, err := b.Wait(c); return err })
				}
				return nil
			})
			other := spawn(c, func(c *aio.Ctx) error { _, errs[1] = b.Wait(c); return nil })
			settle(c)
			if how == "Cancel" {
				a.Cancel(nil)
			}
			aio.Gather(c, a, other)
			want := error(context.Canceled)
			if how == "WithTimeout" {
				want = aio.ErrTimeout
			}
			if !errors.Is(errs[0], want) || !errors.Is(errs[1], locks.ErrBrokenBarrier) || !b.Broken() {
				t.Errorf("%s: cancelled party %v, other party %v, Broken %v", how, errs[0], errs[1], b.Broken())
			}
			if _, err := b.Wait(c); !errors.Is(err, locks.ErrBrokenBarrier) {
				t.Errorf("%s: Wait after the break = %v", how, err)
			}
			return nil
		})
	}
}

// A party cancelled after the round it waited in was released, before it
// ran again (the last party arrived in the same iteration), does not break
// the Barrier: it gets the cancellation, and the round stands.
func TestBarrierCancelAfterRelease(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		b, _ := locks.NewBarrier(2)
		var werr error
		w := spawn(c, func(c *aio.Ctx) error { _, werr = b.Wait(c); return nil })
		settle(c)
		if i, err := b.Wait(c); i != 1 || err != nil { // releases w
			t.Errorf("last party: %d, %v", i, err)
		}
		w.Cancel(nil) // before w runs
		aio.Await(c, w)
		if !errors.Is(werr, context.Canceled) || b.Broken() {
			t.Errorf("party cancelled after the release: %v, Broken %v", werr, b.Broken())
		}
		return nil
	})
}

// A task waiting in a later round is not released by the end of an earlier
// one: not by the wake that a cancelled party of the earlier round passes
// on when it runs, after the task began to wait (here the task was spawned
// before the last party arrived, so it runs first, in the new round).
func TestBarrierWakePassedByCancelledPartyIsNotARelease(t *testing.T) {
	for _, end := range []string{"release", "reset"} {
		t.Run(end, func(t *testing.T) {
			run(t, func(c *aio.Ctx) error {
				b, _ := locks.NewBarrier(2)
				var first, next error
				a := spawn(c, func(c *aio.Ctx) error { _, first = b.Wait(c); return nil })
				settle(c) // a waits in round 1
				n := spawn(c, func(c *aio.Ctx) error { _, next = b.Wait(c); return nil })
				if end == "release" {
					if i, err := b.Wait(c); i != 1 || err != nil { // releases a
						t.Errorf("last party: %d, %v", i, err)
					}
				} else {
					b.Reset() // wakes a, broken
				}
				a.Cancel(nil) // before a runs: its wake passes on, to n once n waits
				settle(c)
				if !errors.Is(first, context.Canceled) {
					t.Errorf("cancelled party: %v", first)
				}
				if n.IsDone() {
					t.Fatalf("a party alone in round 2 returned from Wait: %v", next)
				}
				if b.NWaiting() != 1 || b.Broken() {
					t.Errorf("NWaiting %d, Broken %v; want 1, false", b.NWaiting(), b.Broken())
				}
				if i, err := b.Wait(c); i != 1 || err != nil {
					t.Errorf("last party of round 2: %d, %v", i, err)
				}
				aio.Await(c, n)
				if next != nil {
					t.Errorf("party of round 2: %v", next)
				}
				return nil
			})
		})
	}
}
