package aio

import (
	"errors"
	"fmt"
	"time"
)

// Periodic timers: tokio's interval for the tasks of a loop. A Ticker keeps
// the deadline of its next tick; Tick waits for it, returns it, and moves
// it on as the missed-tick policy says. While a task waits, one timer of
// the loop's (a pooled record whose waker is the Ticker) is armed at the
// deadline; no goroutine, no channel.

// ErrTickerStopped is returned (wrapped) by Tick and Poll of a stopped
// Ticker.
var ErrTickerStopped = errors.New("aio: ticker stopped")

// MissedTick is what a Ticker does with ticks it could not deliver on time,
// because the loop was busy or the task did not call Tick (tokio's
// MissedTickBehavior).
type MissedTick int

const (
	// Burst delivers every missed tick, one per Tick call without waiting,
	// until the ticker has caught up with its schedule (tokio's default).
	Burst MissedTick = iota
	// Delay delivers one late tick and, if the ticker fell a full period or
	// more behind (a later tick was due too), schedules the next a full
	// period after the late one's delivery: the schedule shifts by the
	// delay. A tick that is merely late, by less than a period, keeps the
	// schedule, as tokio's Delay keeps it for a tick late by under 5 ms.
	Delay
	// Skip delivers one late tick and drops the others: the next tick is
	// the next deadline of the original schedule after now.
	Skip
)

// A TickerOption configures NewTicker.
type TickerOption func(*Ticker)

// WithFirstTickAfter sets the delay before the first tick (default: one
// period). A zero delay makes the first Tick return at once, as tokio's
// interval does.
func WithFirstTickAfter(d time.Duration) TickerOption {
	return func(t *Ticker) { t.first = max(d, 0) }
}

// WithMissedTick sets the missed-tick policy (default: Burst).
func WithMissedTick(p MissedTick) TickerOption {
	return func(t *Ticker) { t.policy = p }
}

// A Ticker delivers ticks at a fixed period to the tasks of one loop: Tick
// waits for the next one. Ticks are never early: Tick returns at or after
// the tick's deadline on the loop's clock, and returns that deadline.
// Ticks that could not be delivered on time are handled as the
// missed-tick policy says. Each tick goes to one Tick call; with several
// tasks waiting, to the first in line.
//
// A Ticker belongs to the loop it was made for; its methods must be called
// on that loop's goroutine or in its tasks (Tick returns an error matching
// ErrNotOnLoop or ErrNotInTask elsewhere; the others panic with one). It
// is an Awaitable of its next tick's time, so it can be awaited or used in
// a Select with AwaitCase.
type Ticker struct {
	loop    *Loop
	period  int64
	first   time.Duration
	next    int64 // the next tick's deadline, in loop nanoseconds
	policy  MissedTick
	stopped bool
	q       WaitQueue
	timer   *callback // armed at next while someone waits
}

// NewTicker returns a Ticker on l with the given period, whose first tick
// is one period from now unless WithFirstTickAfter says otherwise. A period
// of zero or less is an error matching ErrInvalidState, as is a zero Loop.
func NewTicker(l *Loop, period time.Duration, opts ...TickerOption) (*Ticker, error) {
	if l == nil || l.poller == nil {
		return nil, noLoop("NewTicker")
	}
	if period <= 0 {
		return nil, fmt.Errorf("%w: NewTicker with a period of %v", ErrInvalidState, period)
	}
	t := &Ticker{loop: l, period: int64(period), first: period}
	for _, o := range opts {
		o(t)
	}
	if t.policy < Burst || t.policy > Skip {
		return nil, fmt.Errorf("%w: NewTicker with an unknown MissedTick %d", ErrInvalidState, t.policy)
	}
	t.next = l.timers.after(t.first)
	return t, nil
}

// Tick waits, in the calling task, for the next tick, and returns its
// deadline on the loop's clock. If the tick is due already it returns at
// once, without suspending. It returns an error matching ErrTickerStopped
// after Stop, and the task's cancellation (the tick is left for the next
// call).
func (t *Ticker) Tick(c *Ctx) (time.Time, error) {
	if err := t.q.CheckTask(c); err != nil {
		return time.Time{}, err
	}
	if err := c.takeCancel(); err != nil {
		return time.Time{}, err
	}
	// A tick that a woken waiter is about to take is not a newcomer's.
	wait := t.q.Len() > 0 || t.q.Waking() > 0
	for {
		if !wait || t.stopped {
			if tick, ok, err := t.take(); ok {
				return tick, err
			}
		}
		wait = false
		t.arm()
		if err := t.q.Park(c); err != nil {
			t.idle()
			return time.Time{}, err
		}
	}
}

// Poll makes a Ticker an Awaitable of its next tick (see Tick).
func (t *Ticker) Poll(w *Waiter) (time.Time, bool, error) {
	t.q.Check("Ticker.Poll")
	if t.stopped || t.q.Len() == 0 && t.q.Waking() == 0 {
		if tick, ok, err := t.take(); ok {
			return tick, true, err
		}
	}
	t.arm()
	t.q.Add(w)
	return time.Time{}, false, nil
}

// take delivers the next tick if it is due, or reports the stop.
func (t *Ticker) take() (time.Time, bool, error) {
	if t.stopped {
		return time.Time{}, true, fmt.Errorf("%w: Tick", ErrTickerStopped)
	}
	l := t.loop
	now := l.timers.now()
	if now < t.next {
		return time.Time{}, false, nil
	}
	tick := t.next
	switch t.policy {
	case Burst:
		t.next += t.period
	case Delay:
		if now-t.next >= t.period { // behind by a tick or more: shift the schedule
			t.next = now + t.period
		} else { // merely late, as every timer is: keep the schedule
			t.next += t.period
		}
	case Skip:
		t.next += ((now-t.next)/t.period + 1) * t.period
	}
	if t.q.Len() > 0 {
		t.arm() // the next waiter waits for the next tick
	} else {
		t.idle()
	}
	return l.timers.timeAt(tick), true, nil
}

// arm sets the timer at the next deadline.
func (t *Ticker) arm() {
	l := t.loop
	if t.timer != nil {
		if t.timer.timer.When() == t.next {
			return
		}
		l.timers.remove(t.timer)
	} else {
		t.timer = l.pool.get(l, nil)
	}
	l.timers.add(t.timer, t.next, t)
}

// idle drops the timer when no one waits.
func (t *Ticker) idle() {
	if t.timer != nil && t.q.Len() == 0 && t.q.Waking() == 0 {
		t.loop.timers.remove(t.timer)
		t.loop.pool.put(t.timer)
		t.timer = nil
	}
}

// wake is the Ticker's side of the waker contract: the next deadline has
// come; the first waiter takes the tick.
func (t *Ticker) wake(l *Loop) {
	l.pool.put(t.timer)
	t.timer = nil
	t.q.list.wakeOne(l)
}

// Reset restarts the schedule: the next tick is one period from now.
func (t *Ticker) Reset() {
	t.q.Check("Ticker.Reset")
	t.next = t.loop.timers.after(time.Duration(t.period))
	if t.timer != nil {
		t.arm()
	}
}

// Stop stops the Ticker: tasks waiting in Tick, and later calls, get an
// error matching ErrTickerStopped. Stopping a stopped Ticker does nothing.
func (t *Ticker) Stop() {
	t.q.Check("Ticker.Stop")
	if t.stopped {
		return
	}
	t.stopped = true
	if t.timer != nil {
		t.loop.timers.remove(t.timer)
		t.loop.pool.put(t.timer)
		t.timer = nil
	}
	t.q.WakeAll()
}

// Period returns the Ticker's period.
func (t *Ticker) Period() time.Duration { return time.Duration(t.period) }
