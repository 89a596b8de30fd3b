package executor_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/aiotest"
	"github.com/aiogo/aio/aio/executor"
)

// Calls under the virtual clock (aiotest.Run): every call holds
// the clock (aio.Loop.HoldClock) from its submission until its outcome is
// in the loop's door, or it is abandoned.

// An executor call that takes 50 ms of real time returns before a task that
// sleeps an hour of virtual time: the clock does not jump while the call is
// in flight, and has not moved when it returns. While it runs, the loop
// counts one hold; none after.
func TestVirtualClockWaitsForCall(t *testing.T) {
	aiotest.Run(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		var order []string
		sleeper, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			err := aio.Sleep(c, time.Hour)
			order = append(order, fmt.Sprintf("sleeper@%v", l.Now().Sub(start)))
			return 0, err
		})
		holds := -1
		v, err := executor.Run(c, func(context.Context) (int, error) {
			time.Sleep(50 * time.Millisecond)
			holds = l.ClockHolds() // read by the worker, before the outcome is sent
			return 1, nil
		})
		if v != 1 || err != nil {
			t.Errorf("Run = %d, %v", v, err)
		}
		order = append(order, fmt.Sprintf("call@%v", l.Now().Sub(start)))
		// The worker releases its hold just after it sends the outcome.
		for deadline := time.Now().Add(10 * time.Second); l.ClockHolds() != 0 && time.Now().Before(deadline); {
			aio.Yield(c)
		}
		if holds != 1 || l.ClockHolds() != 0 {
			t.Errorf("holds during the call %d, after %d; want 1, 0", holds, l.ClockHolds())
		}
		if _, err := aio.Await(c, sleeper); err != nil {
			return err
		}
		if want := []string{"call@0s", "sleeper@1h0m0s"}; !slices.Equal(order, want) {
			t.Errorf("order %v, want %v", order, want)
		}
		return nil
	}, aiotest.Timeout(10*time.Second))
}

// A timeout around a call that takes 50 ms of real time does not fire:
// WaitFor returns the call's value, as on the real clock, however short
// the timeout in virtual time is. The same holds for a future of Go.
func TestVirtualClockTimeoutAroundCall(t *testing.T) {
	aiotest.Run(t, func(c *aio.Ctx) error {
		caller, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			return executor.Run(c, func(context.Context) (int, error) {
				time.Sleep(50 * time.Millisecond)
				return 2, nil
			})
		})
		v, err := aio.WaitFor[int](c, caller, time.Millisecond)
		if v != 2 || err != nil {
			t.Errorf("WaitFor(Run of 50 ms real, 1 ms) = %d, %v; want 2, nil", v, err)
		}
		f, err := executor.Go(c, func(context.Context) (int, error) {
			time.Sleep(50 * time.Millisecond)
			return 3, nil
		})
		if err != nil {
			return err
		}
		if v, err := aio.WaitFor[int](c, f, time.Millisecond); v != 3 || err != nil {
			t.Errorf("WaitFor(Go of 50 ms real, 1 ms) = %d, %v; want 3, nil", v, err)
		}
		return nil
	}, aiotest.Timeout(10*time.Second))
}

// A call abandoned by its task (cancelled by a timeout) releases its hold
// at once: the clock goes on without waiting for the function, which ends
// when its context is cancelled.
func TestVirtualClockAbandonedCallReleases(t *testing.T) {
	aiotest.Run(t, func(c *aio.Ctx) error {
		l := c.Loop()
		started := make(chan struct{})
		var callErr error
		release := make(chan struct{})
		worker, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			_, callErr = executor.Run(c, func(ctx context.Context) (int, error) {
				close(started)
				<-ctx.Done()
				<-release
				return 0, ctx.Err()
			})
			return 0, nil
		})
		for l.ClockHolds() == 0 {
			aio.Yield(c)
		}
		if _, _, err := aio.GoRecv(c, started); err != nil {
			return err
		}
		start := l.Now()
		worker.Cancel(nil)
		if _, err := aio.Await(c, worker); err != nil {
			return err
		}
		if !errors.Is(callErr, context.Canceled) || l.ClockHolds() != 0 {
			t.Errorf("cancelled call = %v, holds %d; want a cancellation, 0", callErr, l.ClockHolds())
		}
		if err := aio.Sleep(c, time.Hour); err != nil || l.Now().Sub(start) != time.Hour {
			t.Errorf("Sleep(1h) after the abandoned call = %v at %v", err, l.Now().Sub(start))
		}
		close(release)
		return nil
	}, aiotest.Timeout(10*time.Second))
}
