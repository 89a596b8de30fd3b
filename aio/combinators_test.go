package aio_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// Tests of Wait, AsCompleted, Shield and GatherOrCancel (combinators.go).

// sleeper spawns a task that sleeps d and then returns v, or fails with err
// if err is not nil.
func sleeper(c *aio.Ctx, d time.Duration, v int, err error) *aio.Task[int] {
	t, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
		if e := aio.Sleep(c, d); e != nil {
			return 0, e
		}
		return v, err
	})
	return t
}

// Wait's three modes return the done and pending sets in argument order and
// cancel nothing; a timeout is not an error, it leaves a pending set.
func TestWaitModes(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		ms := time.Millisecond
		boom := errors.New("boom")
		for _, tc := range []struct {
			name    string
			mode    aio.WaitMode
			timeout time.Duration
			done    []int // indexes of aws that are done
		}{
			{"all", aio.AllCompleted, -1, []int{0, 1, 2}},
			{"first completed", aio.FirstCompleted, -1, []int{1}},
			{"first error", aio.FirstError, -1, []int{1, 2}},
			{"all with a timeout", aio.AllCompleted, 6 * ms, []int{1, 2}},
		} {
			aws := []*aio.Task[int]{
				sleeper(c, 30*ms, 0, nil),
				sleeper(c, 1*ms, 1, nil),
				sleeper(c, 3*ms, 2, boom),
			}
			done, pending, err := aio.Wait(c, aws, tc.mode, tc.timeout)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var want, wantPending []*aio.Task[int]
			for i, a := range aws {
				if slices.Contains(tc.done, i) {
					want = append(want, a)
				} else {
					wantPending = append(wantPending, a)
				}
			}
			if !slices.Equal(done, want) || !slices.Equal(pending, wantPending) {
				t.Errorf("%s: done %v, pending %v; want %v, %v", tc.name, done, pending, want, wantPending)
			}
			for _, a := range pending {
				if a.IsDone() || a.WaitersForTest() != 0 {
					t.Errorf("%s: pending %v cancelled, or a waiter left on it", tc.name, a)
				}
			}
			if _, _, err := aio.GatherAll(c, aws...); err != nil {
				return err
			}
		}
		return nil
	})
}

// Wait of nothing, and Wait with a zero timeout, return at once; a nil
// awaitable is an error, not a hang; a cancellation of the waiting task is
// Wait's error and leaves no waiter behind.
func TestWaitEdges(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		done, pending, err := aio.Wait[*aio.Task[int]](c, nil, aio.AllCompleted, -1)
		if done != nil || pending != nil || err != nil {
			t.Errorf("Wait of nothing = %v, %v, %v", done, pending, err)
		}
		slow := sleeper(c, time.Hour, 0, nil)
		done, pending, err = aio.Wait(c, []*aio.Task[int]{slow}, aio.AllCompleted, 0)
		if len(done) != 0 || len(pending) != 1 || err != nil {
			t.Errorf("Wait with a zero timeout = %v, %v, %v", done, pending, err)
		}
		if _, _, err := aio.Wait(c, []*aio.Task[int]{slow, nil}, aio.AllCompleted, -1); !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("Wait with a nil awaitable = %v", err)
		}
		var waitErr error
		waiter, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			_, _, waitErr = aio.Wait(c, []*aio.Task[int]{slow}, aio.AllCompleted, -1)
			return 0, waitErr
		})
		aio.Yield(c)
		waiter.Cancel(nil)
		aio.Await(c, waiter)
		if !errors.Is(waitErr, context.Canceled) || slow.IsDone() || slow.WaitersForTest() != 0 {
			t.Errorf("cancelled Wait = %v; slow done %v, waiters %d", waitErr, slow.IsDone(), slow.WaitersForTest())
		}
		slow.Cancel(nil)
		aio.Await(c, slow)
		return nil
	})
}

// AsCompleted yields outcomes in completion order, errors included, and
// marks them retrieved; leaving it with break leaves no waiter on what is
// still pending, which goes on.
func TestAsCompleted(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		ms := time.Millisecond
		boom := errors.New("boom")
		aws := []*aio.Task[int]{sleeper(c, 5*ms, 5, nil), sleeper(c, 1*ms, 1, nil), sleeper(c, 3*ms, 3, boom)}
		var got []int
		var errs []error
		for v, err := range aio.AsCompleted(c, aws...) {
			got = append(got, v)
			errs = append(errs, err)
		}
		if !slices.Equal(got, []int{1, 3, 5}) || errs[0] != nil || !errors.Is(errs[1], boom) || errs[2] != nil {
			t.Errorf("AsCompleted = %v, %v; want [1 3 5], [nil boom nil]", got, errs)
		}
		aws = []*aio.Task[int]{sleeper(c, 10*ms, 10, nil), sleeper(c, 1*ms, 1, nil), sleeper(c, 20*ms, 20, nil)}
		for v := range aio.AsCompleted(c, aws...) {
			if v != 1 {
				t.Errorf("first = %d, want 1", v)
			}
			break
		}
		for _, a := range []*aio.Task[int]{aws[0], aws[2]} {
			if a.IsDone() || a.WaitersForTest() != 0 {
				t.Errorf("after break: %v done %v, waiters %d", a, a.IsDone(), a.WaitersForTest())
			}
		}
		if v, err := aio.Gather(c, aws...); err != nil || !slices.Equal(v, []int{10, 1, 20}) {
			t.Errorf("the rest after break: %v, %v", v, err)
		}
		for range aio.AsCompleted[*aio.Task[int]](c) {
			t.Error("AsCompleted of nothing yielded")
		}
		return nil
	})
}

// Awaitables that complete while AsCompleted's loop body is suspended
// elsewhere are yielded, in their order, when the body returns; they do not
// wake the body's own wait.
func TestAsCompletedBodySuspends(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		ms := time.Millisecond
		aws := []*aio.Task[int]{sleeper(c, 1*ms, 1, nil), sleeper(c, 3*ms, 3, nil), sleeper(c, 2*ms, 2, nil)}
		var got []int
		for v, err := range aio.AsCompleted(c, aws...) {
			if err != nil {
				return err
			}
			got = append(got, v)
			if v == 1 {
				if err := aio.Sleep(c, 10*ms); err != nil { // the others finish meanwhile
					return err
				}
			}
		}
		if !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("AsCompleted = %v, want [1 2 3]", got)
		}
		return nil
	})
}

// A task cancelled while it waits in AsCompleted gets the cancellation as
// the error of a last step.
func TestAsCompletedCancelled(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		slow := sleeper(c, time.Hour, 0, nil)
		var last error
		steps := 0
		waiter, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			for _, err := range aio.AsCompleted(c, slow) {
				steps++
				last = err
			}
			return 0, nil
		})
		aio.Yield(c)
		waiter.Cancel(nil)
		aio.Await(c, waiter)
		if steps != 1 || !errors.Is(last, context.Canceled) || slow.WaitersForTest() != 0 {
			t.Errorf("cancelled AsCompleted: %d steps, last %v, waiters %d", steps, last, slow.WaitersForTest())
		}
		slow.Cancel(nil)
		aio.Await(c, slow)
		return nil
	})
}

// Shield: cancelling the task that awaits a shielded task returns the
// cancellation there and leaves the inner task running; its result stays
// retrievable. GatherOrCancel does not cancel a shielded task either.
func TestShield(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		inner := sleeper(c, 3*time.Millisecond, 7, nil)
		var outer error
		waiter, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			v, err := aio.Await(c, aio.Shield[int](inner))
			outer = err
			return v, err
		})
		aio.Yield(c)
		waiter.Cancel(nil)
		aio.Await(c, waiter)
		if !errors.Is(outer, context.Canceled) || inner.IsDone() {
			t.Errorf("the waiter got %v; inner done %v (want running)", outer, inner.IsDone())
		}
		if v, err := aio.Await(c, inner); v != 7 || err != nil {
			t.Errorf("inner = %d, %v", v, err)
		}
		boom := errors.New("boom")
		kept := sleeper(c, 3*time.Millisecond, 8, nil)
		_, err := aio.GatherOrCancel[aio.Awaitable[int]](c, aio.Shield[int](kept), sleeper(c, time.Millisecond, 0, boom))
		if !errors.Is(err, boom) || kept.IsDone() {
			t.Errorf("GatherOrCancel = %v, the shielded task done %v", err, kept.IsDone())
		}
		if v, err := aio.Await(c, kept); v != 8 || err != nil {
			t.Errorf("the shielded task = %d, %v", v, err)
		}
		return nil
	})
}

// GatherOrCancel returns the results in order when all succeed; on the
// first failure it cancels the tasks not done, waits for them, and returns
// that failure; cancelled from outside, it cancels them too and returns the
// cancellation.
func TestGatherOrCancel(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		ms := time.Millisecond
		v, err := aio.GatherOrCancel(c, sleeper(c, 2*ms, 2, nil), sleeper(c, ms, 1, nil))
		if err != nil || !slices.Equal(v, []int{2, 1}) {
			t.Errorf("GatherOrCancel = %v, %v", v, err)
		}
		boom := errors.New("boom")
		slow := sleeper(c, time.Hour, 0, nil)
		if _, err := aio.GatherOrCancel(c, slow, sleeper(c, ms, 0, boom)); !errors.Is(err, boom) || !slow.Canceled() {
			t.Errorf("GatherOrCancel with a failure = %v; slow cancelled %v (want done and cancelled)", err, slow.Canceled())
		}
		slow = sleeper(c, time.Hour, 0, nil)
		var gerr error
		waiter, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			_, gerr = aio.GatherOrCancel(c, slow)
			return 0, gerr
		})
		aio.Yield(c)
		waiter.Cancel(errors.New("outside"))
		aio.Await(c, waiter)
		if aio.Cause(gerr) == nil || aio.Cause(gerr).Error() != "outside" || !slow.Canceled() {
			t.Errorf("cancelled GatherOrCancel = %v; slow cancelled %v", gerr, slow.Canceled())
		}
		return nil
	})
}
