package aio_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/aiotest"
)

// Specification tests of the virtual clock (clock.go): WithVirtualClock,
// Loop.SetVirtualClock, AdvanceClock, HoldClock, SetClockHoldLimit. Real
// durations are asserted only loosely (an hour of loop time in under a
// second of real time), never raced against each other.

// virtualMain runs body as the main task of a loop on the virtual clock,
// with aiotest.Run: it fails the test on an error or a report of the error
// handler, and ends a run stuck past runTimeout of real time.
func virtualMain(t *testing.T, body func(c *aio.Ctx) error) {
	t.Helper()
	leakCheck(t)
	aiotest.Run(t, body, aiotest.Timeout(runTimeout))
}

// elapsed returns the loop time since start.
func elapsed(c *aio.Ctx, start time.Time) time.Duration { return c.Loop().Now().Sub(start) }

// The virtual clock starts at 2000-01-01 00:00:00 UTC, with no monotonic
// reading, and an hour's Sleep advances it by exactly an hour while taking
// well under a second of real time.
func TestVirtualClockHourSleep(t *testing.T) {
	realStart := time.Now()
	virtualMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		if !l.HasVirtualClock() {
			t.Error("HasVirtualClock = false under WithVirtualClock")
		}
		start := l.Now()
		if want := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC); !start.Equal(want) || start.String() != want.String() {
			t.Errorf("Now at the start = %v, want %v", start, want)
		}
		if err := aio.Sleep(c, time.Hour); err != nil {
			return err
		}
		if got := elapsed(c, start); got != time.Hour {
			t.Errorf("an hour's Sleep advanced the clock by %v", got)
		}
		return nil
	})
	if d := time.Since(realStart); d > time.Second {
		t.Errorf("an hour's Sleep took %v of real time", d)
	}
}

// Time stands still while anything is ready: callbacks, yields and task
// steps take no loop time, even when they take real time.
func TestVirtualClockStandsStillWhileReady(t *testing.T) {
	virtualMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		for range 100 {
			if err := aio.Yield(c); err != nil {
				return err
			}
		}
		time.Sleep(5 * time.Millisecond) // real time, blocking the loop
		n := 0
		var chain func()
		chain = func() {
			if n++; n < 100 {
				l.CallSoon(chain)
			}
		}
		l.CallSoon(chain)
		if err := aio.Sleep(c, 0); err != nil {
			return err
		}
		if got := elapsed(c, start); got != 0 {
			t.Errorf("ready work moved the clock by %v", got)
		}
		return nil
	})
}

// Timers fire in the order of their deadlines, equal deadlines in the order
// they were scheduled, and each one at exactly its deadline.
func TestVirtualClockTimerOrder(t *testing.T) {
	virtualMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		offsets := []time.Duration{3 * time.Hour, time.Second, 2 * time.Minute, time.Second, 0, time.Nanosecond}
		var fired []string
		done := aio.NewFuture[struct{}](l)
		for i, off := range offsets {
			l.CallLater(off, func() {
				fired = append(fired, fmt.Sprintf("%d@%v", i, elapsed(c, start)))
				if len(fired) == len(offsets) {
					done.SetResult(struct{}{})
				}
			})
		}
		if _, err := aio.Await(c, done); err != nil {
			return err
		}
		want := []string{"4@0s", "5@1ns", "1@1s", "3@1s", "2@2m0s", "0@3h0m0s"}
		if !slices.Equal(fired, want) {
			t.Errorf("fired %v, want %v", fired, want)
		}
		return nil
	})
}

// Timeouts, deadlines, task groups, WaitFor and tickers keep their meaning
// on the virtual clock, at exact times.
func TestVirtualClockTimeoutsGroupsTickersWaitFor(t *testing.T) {
	virtualMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		// A timeout of an hour around a two-hour sleep expires at one hour.
		err := aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error { return aio.Sleep(c, 2*time.Hour) })
		if !errors.Is(err, aio.ErrTimeout) || elapsed(c, start) != time.Hour {
			t.Errorf("WithTimeout(1h) of Sleep(2h) = %v at %v", err, elapsed(c, start))
		}
		// A deadline on the loop's clock.
		start = l.Now()
		err = aio.WithDeadline(c, start.Add(time.Minute), func(c *aio.Ctx) error { return aio.Sleep(c, time.Hour) })
		if !errors.Is(err, aio.ErrTimeout) || elapsed(c, start) != time.Minute {
			t.Errorf("WithDeadline(+1m) of Sleep(1h) = %v at %v", err, elapsed(c, start))
		}
		// A group ends when its last child does.
		start = l.Now()
		var ends []time.Duration
		err = aio.WithGroup(c, func(g *aio.Group) error {
			for _, d := range []time.Duration{3 * time.Minute, time.Minute, 2 * time.Minute} {
				g.Go(func(c *aio.Ctx) error {
					err := aio.Sleep(c, d)
					ends = append(ends, elapsed(c, start))
					return err
				})
			}
			return nil
		})
		if err != nil || elapsed(c, start) != 3*time.Minute || !slices.Equal(ends, []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute}) {
			t.Errorf("group = %v at %v, children ended at %v", err, elapsed(c, start), ends)
		}
		// A failing child cancels its siblings at the instant it fails.
		start = l.Now()
		boom := errors.New("boom")
		err = aio.WithGroup(c, func(g *aio.Group) error {
			g.Go(func(c *aio.Ctx) error { return aio.Sleep(c, time.Hour) })
			g.Go(func(c *aio.Ctx) error { aio.Sleep(c, time.Second); return boom })
			return nil
		})
		if !errors.Is(err, boom) || elapsed(c, start) != time.Second {
			t.Errorf("failing group = %v at %v", err, elapsed(c, start))
		}
		// WaitFor: the result if it comes first, ErrTimeout at the bound if not.
		start = l.Now()
		slow, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 7, aio.Sleep(c, 10*time.Minute) })
		if _, err := aio.WaitFor[int](c, slow, 5*time.Minute); !errors.Is(err, aio.ErrTimeout) || elapsed(c, start) != 5*time.Minute {
			t.Errorf("WaitFor(10m task, 5m) = %v at %v", err, elapsed(c, start))
		}
		start = l.Now()
		quick, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 8, aio.Sleep(c, time.Minute) })
		if v, err := aio.WaitFor[int](c, quick, time.Hour); v != 8 || err != nil || elapsed(c, start) != time.Minute {
			t.Errorf("WaitFor(1m task, 1h) = %d, %v at %v", v, err, elapsed(c, start))
		}
		// A ticker ticks an hour's seconds in an hour, each at its deadline.
		start = l.Now()
		tk, err := aio.NewTicker(l, time.Second)
		if err != nil {
			return err
		}
		defer tk.Stop()
		for k := 1; k <= 3600; k++ {
			tick, err := tk.Tick(c)
			if err != nil {
				return err
			}
			if tick.Sub(start) != time.Duration(k)*time.Second || l.Now() != tick {
				t.Errorf("tick %d at %v (now %v)", k, tick.Sub(start), elapsed(c, start))
				break
			}
		}
		return nil
	})
}

// A timer scheduled from another goroutine is on the virtual clock too: it
// is due its delay after the virtual time at which it was scheduled.
func TestVirtualClockRemoteTimer(t *testing.T) {
	virtualMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		f := aio.NewFuture[time.Duration](l)
		offLoopDo(func() { l.CallLater(time.Hour, func() { f.SetResult(elapsed(c, start)) }) })
		if got, err := aio.Await(c, f); err != nil || got != time.Hour {
			t.Errorf("remote CallLater(1h) ran at %v, %v", got, err)
		}
		return nil
	})
}

// AdvanceClock moves the clock forward as a blocked loop would: the timers
// it passes fire at the next iteration, late by what the jump overshot;
// the clock never goes back, and the real clock refuses it.
func TestVirtualClockAdvance(t *testing.T) {
	virtualMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		var at time.Duration = -1
		l.CallLater(time.Minute, func() { at = elapsed(c, start) })
		if err := l.AdvanceClock(90 * time.Second); err != nil {
			return err
		}
		if at != -1 || elapsed(c, start) != 90*time.Second {
			t.Errorf("after AdvanceClock: timer ran at %v, now %v; want not yet, 1m30s", at, elapsed(c, start))
		}
		aio.Yield(c) // the iteration that fires the timer resumes this task first
		aio.Yield(c)
		if at != 90*time.Second {
			t.Errorf("the passed timer ran at %v, want 1m30s", at)
		}
		if err := l.AdvanceClock(0); err != nil {
			t.Errorf("AdvanceClock(0) = %v", err)
		}
		if err := l.AdvanceClock(-time.Second); !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("AdvanceClock(-1s) = %v, want ErrInvalidState", err)
		}
		if err := offLoop(func() error { return l.AdvanceClock(time.Second) }); !errors.Is(err, aio.ErrNotOnLoop) {
			t.Errorf("AdvanceClock off the loop = %v, want ErrNotOnLoop", err)
		}
		return nil
	})
	runMainRealClock(t, func(c *aio.Ctx) error {
		if err := c.Loop().AdvanceClock(time.Second); !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("AdvanceClock on the real clock = %v, want ErrInvalidState", err)
		}
		return nil
	})
}

// SetVirtualClock is for a new loop: it refuses a running, closed or
// already used loop (one that ran or has timers), and is idempotent.
func TestSetVirtualClockErrors(t *testing.T) {
	l := newLoop(t)
	if err := l.SetVirtualClock(); err != nil {
		t.Fatalf("SetVirtualClock of a new loop = %v", err)
	}
	if err := l.SetVirtualClock(); err != nil {
		t.Errorf("second SetVirtualClock = %v", err)
	}

	l = newLoop(t)
	l.CallLater(time.Hour, func() {})
	if err := l.SetVirtualClock(); !errors.Is(err, aio.ErrInvalidState) {
		t.Errorf("SetVirtualClock with a timer = %v, want ErrInvalidState", err)
	}

	l = newLoop(t)
	var inside error
	l.CallSoon(func() { inside = l.SetVirtualClock() })
	iterate(t, l, nil)
	if !errors.Is(inside, aio.ErrRunning) {
		t.Errorf("SetVirtualClock on the running loop = %v, want ErrRunning", inside)
	}
	if err := l.SetVirtualClock(); !errors.Is(err, aio.ErrInvalidState) {
		t.Errorf("SetVirtualClock after a run = %v, want ErrInvalidState", err)
	}
	l.Close()
	if err := l.SetVirtualClock(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("SetVirtualClock of a closed loop = %v, want ErrClosed", err)
	}
	if err := (&aio.Loop{}).SetVirtualClock(); !errors.Is(err, aio.ErrNoLoop) {
		t.Errorf("SetVirtualClock of a zero Loop = %v, want ErrNoLoop", err)
	}
}

// On the real clock holds cost nothing and do nothing, and the hold limit
// is refused.
func TestClockHoldOnRealClock(t *testing.T) {
	l := newLoop(t)
	release := l.HoldClock()
	if l.ClockHolds() != 0 || l.HasVirtualClock() {
		t.Errorf("real clock: ClockHolds %d, HasVirtualClock %v", l.ClockHolds(), l.HasVirtualClock())
	}
	release()
	release()
	if err := l.SetClockHoldLimit(time.Second); !errors.Is(err, aio.ErrInvalidState) {
		t.Errorf("SetClockHoldLimit on the real clock = %v, want ErrInvalidState", err)
	}
}

// A hold stops the jump: a goroutine that completes a future after 50 ms of
// real time, under a hold, wins against a task that sleeps an hour of
// virtual time; time does not move while it waits. Releasing twice counts
// once.
func TestVirtualClockHoldStopsJump(t *testing.T) {
	virtualMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		var order []string
		sleeper, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			err := aio.Sleep(c, time.Hour)
			order = append(order, fmt.Sprintf("sleeper@%v", elapsed(c, start)))
			return 0, err
		})
		f := aio.NewFuture[int](l)
		release := l.HoldClock()
		if l.ClockHolds() != 1 {
			t.Errorf("ClockHolds = %d, want 1", l.ClockHolds())
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(50 * time.Millisecond)
			f.SetResult(1)
			release()
			release()
		}()
		if _, err := aio.Await(c, f); err != nil {
			return err
		}
		order = append(order, fmt.Sprintf("future@%v", elapsed(c, start)))
		wg.Wait()
		if l.ClockHolds() != 0 {
			t.Errorf("ClockHolds after release = %d, want 0", l.ClockHolds())
		}
		if _, err := aio.Await(c, sleeper); err != nil {
			return err
		}
		if want := []string{"future@0s", "sleeper@1h0m0s"}; !slices.Equal(order, want) {
			t.Errorf("order %v, want %v", order, want)
		}
		return nil
	})
}

// The last release wakes a loop that waits for real on a hold, even when
// the held work sent nothing through the door: the clock then jumps.
func TestVirtualClockReleaseWakesLoop(t *testing.T) {
	virtualMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		release := l.HoldClock()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(20 * time.Millisecond)
			release()
		}()
		err := aio.Sleep(c, time.Hour)
		wg.Wait()
		if err != nil || elapsed(c, start) != time.Hour {
			t.Errorf("Sleep(1h) under a released hold = %v at %v", err, elapsed(c, start))
		}
		return nil
	})
}

// The hold limit is the user's opt-out: with it, the clock jumps despite a
// hold that is never released, once the loop has waited that long in real
// time with nothing arriving. A timeout around work that never ends then
// fires.
func TestVirtualClockHoldLimit(t *testing.T) {
	virtualMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		if err := l.SetClockHoldLimit(10 * time.Millisecond); err != nil {
			return err
		}
		release := l.HoldClock() // a peer that stays silent
		defer release()
		never := aio.NewFuture[int](l)
		start := l.Now()
		if _, err := aio.WaitFor[int](c, never, time.Minute); !errors.Is(err, aio.ErrTimeout) || elapsed(c, start) != time.Minute {
			t.Errorf("WaitFor under a held, silent operation = %v at %v", err, elapsed(c, start))
		}
		return nil
	})
}

// Real I/O under the virtual clock: a descriptor that is ready when the
// idle loop polls without waiting is served before the clock jumps; data
// that arrives later, from a goroutine that holds nothing, is not waited
// for: the clock jumps past an hour's timer first (the goroutine writes
// only once that timer has run, so the order does not depend on speed).
func TestVirtualClockRealIO(t *testing.T) {
	r, w := pipe(t)
	virtualMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		var order []string
		readable := aio.NewFuture[struct{}](l)
		if err := l.AddReader(r, func() {
			readFD(r, make([]byte, 16))
			order = append(order, fmt.Sprintf("read@%v", elapsed(c, start)))
			readable.SetResult(struct{}{})
		}); err != nil {
			return err
		}
		defer l.RemoveReader(r)
		fired := make(chan struct{})
		l.CallLater(time.Hour, func() {
			order = append(order, fmt.Sprintf("timer@%v", elapsed(c, start)))
			close(fired)
		})
		writeFD(w, []byte("x")) // ready before the loop idles
		if _, err := aio.Await(c, readable); err != nil {
			return err
		}
		// Now data that a goroutine holding nothing writes later.
		readable = aio.NewFuture[struct{}](l)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-fired
			writeFD(w, []byte("y"))
		}()
		_, err := aio.Await(c, readable)
		wg.Wait()
		if err != nil {
			return err
		}
		if want := []string{"read@0s", "timer@1h0m0s", "read@1h0m0s"}; !slices.Equal(order, want) {
			t.Errorf("order %v, want %v", order, want)
		}
		return nil
	})
}

// With no timer and no hold, an idle loop on the virtual clock waits for
// real, as on the real clock, until another goroutine wakes it; the clock
// does not move meanwhile.
func TestVirtualClockBlocksWithoutTimers(t *testing.T) {
	virtualMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		f := aio.NewFuture[int](l)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !l.ParkedForTest() {
				time.Sleep(time.Millisecond)
			}
			f.SetResult(5)
		}()
		v, err := aio.Await(c, f)
		wg.Wait()
		if v != 5 || err != nil || elapsed(c, start) != 0 {
			t.Errorf("Await of a remote completion = %d, %v at %v", v, err, elapsed(c, start))
		}
		return nil
	})
}

// A loop made by hand goes on the virtual clock with SetVirtualClock, and
// its Stop from another goroutine still ends a run parked for ever.
func TestVirtualClockHandLoop(t *testing.T) {
	l := newLoop(t)
	if err := l.SetVirtualClock(); err != nil {
		t.Fatal(err)
	}
	start := l.Now()
	var at time.Duration
	l.CallLater(24*time.Hour, func() { at = l.Now().Sub(start) })
	runUntil(t, l, func() bool { return at != 0 })
	if at != 24*time.Hour {
		t.Errorf("a day's timer ran at %v", at)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- l.RunForever() }()
	for !l.ParkedForTest() {
		time.Sleep(time.Millisecond)
	}
	l.Stop()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("RunForever = %v", err)
		}
	case <-time.After(runTimeout):
		t.Fatal("Stop did not end the parked run")
	}
}

// A program on the virtual clock: a day of polling every hour, with a
// timeout, in a moment of real time, and the same output every run.
func ExampleWithVirtualClock() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		l := c.Loop()
		fmt.Println("start", l.Now().Format(time.DateTime))
		tk, _ := aio.NewTicker(l, time.Hour)
		defer tk.Stop()
		polls := 0
		err := aio.WithTimeout(c, 24*time.Hour+time.Minute, func(c *aio.Ctx) error {
			for {
				if _, err := tk.Tick(c); err != nil {
					return err
				}
				polls++
			}
		})
		fmt.Println(polls, "polls;", err, "at", l.Now().Format(time.DateTime))
		return struct{}{}, nil
	}, aio.WithVirtualClock())
	// Output:
	// start 2000-01-01 00:00:00
	// 24 polls; aio: timeout at 2000-01-02 00:01:00
}
