package aio_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// Tests of Ticker (ticker.go), on the virtual clock: time moves only when
// every task waits, or when a test moves it as a blocked loop would.

// virtualTicks runs body as a task of a new loop on the virtual clock and
// returns its error.
func virtualTicks(t *testing.T, body func(c *aio.Ctx) error) {
	t.Helper()
	l := newLoop(t)
	if err := l.SetVirtualClock(); err != nil {
		t.Fatal(err)
	}
	task := runTask(t, l, func(c *aio.Ctx) (int, error) { return 0, body(c) })
	if _, err := task.Result(); err != nil {
		t.Fatal(err)
	}
}

// since returns the time of tm on the loop's clock in milliseconds since
// start.
func since(start, tm time.Time) int { return int(tm.Sub(start) / time.Millisecond) }

// Ticks come one period apart, never early: Tick returns the tick's
// deadline, at or after it on the loop's clock.
func TestTickerPeriod(t *testing.T) {
	virtualTicks(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		tk, err := aio.NewTicker(l, 10*time.Millisecond)
		if err != nil {
			return err
		}
		var ticks []int
		for range 3 {
			tick, err := tk.Tick(c)
			if err != nil {
				return err
			}
			if l.Now().Before(tick) {
				t.Errorf("tick %v returned early, at %v", tick, l.Now())
			}
			ticks = append(ticks, since(start, tick))
		}
		if !slices.Equal(ticks, []int{10, 20, 30}) {
			t.Errorf("ticks at %v ms, want [10 20 30]", ticks)
		}
		first, _ := aio.NewTicker(l, 10*time.Millisecond, aio.WithFirstTickAfter(0))
		now := l.Now()
		if tick, _ := first.Tick(c); !tick.Equal(now) {
			t.Errorf("a first tick after 0 came at %v, want now (%v)", tick, now)
		}
		return nil
	})
}

// The missed-tick policies, with a loop blocked for 35 ms on a 10 ms
// ticker: Burst delivers the missed ticks at once, then goes on on the
// schedule; Delay delivers one late tick and shifts the schedule; Skip
// delivers one late tick and goes on at the next deadline of the schedule.
func TestTickerMissedTicks(t *testing.T) {
	for _, tc := range []struct {
		policy aio.MissedTick
		want   []int // tick deadlines, ms
	}{
		{aio.Burst, []int{10, 20, 30, 40, 50}},
		{aio.Delay, []int{10, 20, 55, 65, 75}},
		{aio.Skip, []int{10, 20, 50, 60, 70}},
	} {
		virtualTicks(t, func(c *aio.Ctx) error {
			l := c.Loop()
			start := l.Now()
			tk, _ := aio.NewTicker(l, 10*time.Millisecond, aio.WithMissedTick(tc.policy))
			var ticks []int
			for k := range 5 {
				tick, err := tk.Tick(c)
				if err != nil {
					return err
				}
				ticks = append(ticks, since(start, tick))
				if k == 0 {
					if err := l.AdvanceClock(35 * time.Millisecond); err != nil { // the loop is blocked
						return err
					}
				}
			}
			if !slices.Equal(ticks, tc.want) {
				t.Errorf("policy %d: ticks at %v ms, want %v", tc.policy, ticks, tc.want)
			}
			return nil
		})
	}
}

// The same policies on the real clock, with the loop really blocked (a
// time.Sleep in the task) for 3.5 periods after the first tick: no tick
// is ever delivered before its deadline; Burst keeps the deadlines on the
// schedule and delivers the missed ones without waiting; Delay delivers
// the late tick and puts the next one a full period after it; Skip
// delivers the late tick and goes on at a deadline of the original
// schedule that lies after the blocking.
func TestTickerMissedTicksRealClock(t *testing.T) {
	const period = 10 * time.Millisecond
	for _, policy := range []aio.MissedTick{aio.Burst, aio.Delay, aio.Skip} {
		l := newLoop(t)
		task := runTask(t, l, func(c *aio.Ctx) (int, error) {
			tk, err := aio.NewTicker(l, period, aio.WithMissedTick(policy))
			if err != nil {
				return 0, err
			}
			defer tk.Stop()
			var deadlines, returned []time.Time
			for k := range 4 {
				d, err := tk.Tick(c)
				if err != nil {
					return 0, err
				}
				deadlines, returned = append(deadlines, d), append(returned, l.Now())
				if k == 0 {
					time.Sleep(35 * time.Millisecond) // the loop is blocked
				}
			}
			for k := range deadlines {
				if returned[k].Before(deadlines[k]) {
					t.Errorf("policy %d: tick %d returned %v before its deadline", policy, k, deadlines[k].Sub(returned[k]))
				}
			}
			d0 := deadlines[0]
			if returned[0].Sub(d0) >= period {
				t.Skipf("the first tick came %v late on this loaded machine: the schedule itself moved", returned[0].Sub(d0))
			}
			if got := deadlines[1].Sub(d0); got != period {
				t.Errorf("policy %d: the late tick's deadline is %v after the first, want %v", policy, got, period)
			}
			switch policy {
			case aio.Burst:
				for k := range deadlines {
					if got := deadlines[k].Sub(d0); got != time.Duration(k)*period {
						t.Errorf("Burst: tick %d at %v after the first, want %v", k, got, time.Duration(k)*period)
					}
				}
			case aio.Delay:
				if gap := deadlines[2].Sub(returned[1]); gap > period || gap <= 0 || deadlines[2].Sub(d0) < 4*period {
					t.Errorf("Delay: the tick after the late one is %v after its delivery (%v after the first), want at most %v after and past the blocking", gap, deadlines[2].Sub(d0), period)
				}
				if late := returned[2].Sub(deadlines[2]); late >= period {
					// The machine held the loop past a period again: Delay's
					// rule applies to this tick too.
					if gap := deadlines[3].Sub(returned[2]); gap > period || gap <= 0 {
						t.Errorf("Delay: tick 2 came %v late, the next is %v after its delivery, want at most %v", late, gap, period)
					}
				} else if got := deadlines[3].Sub(deadlines[2]); got != period {
					t.Errorf("Delay: then %v apart, want %v", got, period)
				}
			case aio.Skip:
				off := deadlines[2].Sub(d0)
				if off%period != 0 || off < 4*period {
					t.Errorf("Skip: the tick after the late one is %v after the first, want a multiple of %v of at least %v", off, period, 4*period)
				}
			}
			return 0, nil
		})
		if _, err := task.Result(); err != nil {
			t.Fatal(err)
		}
	}
}

// Reset restarts the schedule from now; Stop wakes a waiting Tick with
// ErrTickerStopped, and later Ticks get it too; a cancelled Tick leaves
// the tick for the next call.
func TestTickerResetStopCancel(t *testing.T) {
	virtualTicks(t, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		tk, _ := aio.NewTicker(l, 10*time.Millisecond)
		aio.Sleep(c, 5*time.Millisecond)
		tk.Reset()
		tick, _ := tk.Tick(c)
		if got := since(start, tick); got != 15 {
			t.Errorf("first tick after a Reset at 5 ms: %d ms, want 15", got)
		}
		var tickErr error
		waiter, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { _, tickErr = tk.Tick(c); return 0, nil })
		aio.Yield(c)
		waiter.Cancel(nil)
		aio.Await(c, waiter)
		if !errors.Is(tickErr, context.Canceled) {
			t.Errorf("cancelled Tick = %v", tickErr)
		}
		tick, _ = tk.Tick(c)
		if got := since(start, tick); got != 25 {
			t.Errorf("the tick after a cancelled Tick: %d ms, want 25", got)
		}
		waiter, _ = aio.Spawn(c, func(c *aio.Ctx) (int, error) { _, tickErr = tk.Tick(c); return 0, nil })
		aio.Yield(c)
		tk.Stop()
		aio.Await(c, waiter)
		if !errors.Is(tickErr, aio.ErrTickerStopped) {
			t.Errorf("Tick waiting at Stop = %v", tickErr)
		}
		if _, err := tk.Tick(c); !errors.Is(err, aio.ErrTickerStopped) {
			t.Errorf("Tick after Stop = %v", err)
		}
		if n := l.TimersForTest(); n != 0 {
			t.Errorf("%d timers left after Stop", n)
		}
		return nil
	})
}

// A Ticker is an Awaitable: it works in Select beside a Chan.
func TestTickerInSelect(t *testing.T) {
	virtualTicks(t, func(c *aio.Ctx) error {
		tk, _ := aio.NewTicker(c.Loop(), 10*time.Millisecond)
		var ch aio.Chan[int]
		ticks := 0
		for ticks < 3 {
			i, err := aio.Select(c, aio.RecvCase(&ch, nil, nil), aio.AwaitCase[time.Time](tk, nil, nil))
			if err != nil || i != 1 {
				t.Fatalf("Select = %d, %v", i, err)
			}
			ticks++
		}
		return nil
	})
}

// Bad input: a period of zero or less, an unknown policy, the zero Loop.
func TestTickerBadInput(t *testing.T) {
	l := newLoop(t)
	if _, err := aio.NewTicker(l, 0); !errors.Is(err, aio.ErrInvalidState) {
		t.Errorf("NewTicker(0) = %v", err)
	}
	if _, err := aio.NewTicker(l, time.Second, aio.WithMissedTick(9)); !errors.Is(err, aio.ErrInvalidState) {
		t.Errorf("NewTicker with policy 9 = %v", err)
	}
	if _, err := aio.NewTicker(&aio.Loop{}, time.Second); !errors.Is(err, aio.ErrNoLoop) {
		t.Errorf("NewTicker on the zero Loop = %v", err)
	}
}
