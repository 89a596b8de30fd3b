package aio

import (
	"fmt"
	"sync/atomic"
	"time"
)

// The loop's clock. By default it is the real monotonic clock, which the
// timers read inline (timers.now: time.Since of the loop's base), since now
// is on the hot path; timers.clock is then nil. A loop on the virtual clock
// (WithVirtualClock, Loop.SetVirtualClock) has a *virtualClock there
// instead: time stands still while the loop has work, and jumps to the next
// timer's deadline when everything waits and nothing from outside the loop is
// pending (see virtualClock.idle and docs/design.md, "The virtual clock").
// The loop measures time in nanoseconds since the clock's base, an int64, so
// that deadline arithmetic is plain integer arithmetic.

// virtualEpoch is where every virtual clock starts, so that traces that
// print the loop's time repeat: 2000-01-01 00:00:00 UTC, with no monotonic
// reading.
var virtualEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// virtualClock is the virtual clock of one loop. ns is read by any
// goroutine (Loop.Now, CallLater from another goroutine) and written by the
// loop, so it is atomic; holds and limit are shared with the goroutines
// that take and release holds; heldSince is the loop goroutine's.
type virtualClock struct {
	ns    atomic.Int64 // loop time, in nanoseconds since virtualEpoch
	holds atomic.Int64 // outstanding HoldClock holds
	limit atomic.Int64 // SetClockHoldLimit, in nanoseconds; 0: no limit

	// heldSince is the real time (monotonic, from realBase) at which the
	// loop began to wait for held work with nothing else to do; 0 when it
	// is not waiting.
	heldSince int64
	realBase  time.Time
}

// idle is what an idle loop on the virtual clock does instead of asking
// for the time to the next timer: it returns the poll's timeout and whether
// the clock may jump after the poll (see maybeJump). A due timer needs no
// wait. No timer: the loop blocks for real, until the door or an fd wakes
// it (with no hold either, that is a deadlock, unless another goroutine
// sends work). A timer in the future and no hold: poll without waiting (the
// fds, if any are watched), then jump. A timer and a hold: wait for real,
// until the hold is released (which wakes the loop), work arrives, or the
// hold limit passes.
func (v *virtualClock) idle(l *Loop) (timeout time.Duration, jump bool) {
	d := l.timers.next()
	if d <= 0 {
		v.heldSince = 0
		return d, false // due now (0), or no timer (-1)
	}
	if v.holds.Load() == 0 {
		return 0, true
	}
	limit := v.limit.Load()
	if limit <= 0 {
		return -1, true
	}
	now := max(int64(time.Since(v.realBase)), 1) // 0 means "not waiting"
	if v.heldSince == 0 {
		v.heldSince = now
	}
	if rest := v.heldSince + limit - now; rest > 0 {
		return time.Duration(rest), true
	}
	return 0, true
}

// released reports, after the loop has announced its park, whether the
// last hold has been released meanwhile: then the loop must not block,
// since the release saw no sleeping loop to wake. See HoldClock.
func (v *virtualClock) released() bool { return v.holds.Load() == 0 }

// maybeJump is called after the poll of an iteration for which idle said
// the clock may jump: it jumps to the next timer's deadline if nothing came
// in (no fd callback, nothing in the door, no Stop) and no hold is
// outstanding, or the hold limit has passed. The holds are read before the
// door: a hold is released after the work it covers has pushed its
// completion into the door, so a zero count means that completion is
// visible now.
func (v *virtualClock) maybeJump(l *Loop) {
	holds := v.holds.Load()
	if l.ready.Len() > 0 || !l.door.q.Empty() || l.door.stopReq.Load() {
		v.heldSince = 0 // the loop has work: a later wait starts afresh
		return
	}
	if holds > 0 {
		limit := v.limit.Load()
		if limit <= 0 || v.heldSince == 0 || int64(time.Since(v.realBase))-v.heldSince < limit {
			return
		}
	}
	v.heldSince = 0
	if e := l.timers.heap.Peek(); e != nil && e.When() > v.ns.Load() {
		v.ns.Store(e.When())
	}
	// The loop is idle, though it does not park: give back what a burst
	// left, as a parking loop does (on the loop's clock, so at most once
	// per virtual trim interval).
	l.trim.idle(l, -1)
}

// noRelease is the release of a hold on the real clock, where holds are
// not needed.
var noRelease = func() {}

// WithVirtualClock runs the loop of Run on a virtual clock (see
// Loop.SetVirtualClock): a program that sleeps an hour finishes in
// microseconds, and the same program gives the same trace every run.
func WithVirtualClock() RunOption {
	return func(c *runConfig) { c.virtualClock = true }
}

// SetVirtualClock puts the loop on a virtual clock, trio's MockClock with
// autojump and tokio's paused time, for tests. The clock starts at a fixed
// instant, 2000-01-01 00:00:00 UTC (Now returns it, with no monotonic
// reading), and moves only in two ways:
//
//   - It jumps. When the loop has nothing to do (no callback or task step
//     is ready, nothing is in the door, no watched file descriptor is ready
//     when polled without waiting) and no hold is outstanding (see
//     HoldClock), the clock jumps to the deadline of the next timer, which
//     then fires. While anything is ready, time stands still: a callback or
//     task step takes no time at all.
//   - It is advanced, by AdvanceClock.
//
// So Sleep, CallLater, timeouts, deadlines, tickers and WaitFor behave as on
// the real clock, in the same order, but without waiting, and the loop's
// times and the order of its events depend only on the program, not on the
// machine's speed. With no timer pending, an idle loop blocks for real in
// its poller, as on the real clock, until another goroutine or a file
// descriptor wakes it.
//
// Work outside the loop does not stop the clock by itself: a goroutine that
// will complete a future after a real delay is not seen, and the clock may
// jump past the timeouts of its waiters first. Such work takes a hold
// (HoldClock) while it is in flight; aio/executor does for every call of
// Run and Go. Deadlines of CallAt and WithDeadline are on this clock
// (l.Now()), not the wall clock.
//
// SetVirtualClock must be called before the loop first runs, with no timer
// scheduled on it, before the loop is shared with other goroutines (right
// after NewLoop); Run does it with WithVirtualClock. It returns an error
// matching ErrRunning on a running loop, ErrClosed on a closed one,
// ErrInvalidState if the loop has run or has timers; nil if the loop is on
// the virtual clock already.
func (l *Loop) SetVirtualClock() error {
	switch {
	case l.poller == nil:
		return noLoop("SetVirtualClock")
	case l.timers.clock != nil:
		return nil
	case l.state.Load() == stateRunning:
		return fmt.Errorf("%w: SetVirtualClock on a running loop", ErrRunning)
	case l.state.Load() == stateClosed:
		return ErrClosed
	case l.thread.owner != nil || l.timers.heap.Len() > 0 || l.timers.remote.Load() > 0:
		return fmt.Errorf("%w: SetVirtualClock after the loop has run or scheduled timers", ErrInvalidState)
	}
	l.timers.base = virtualEpoch
	l.timers.clock = &virtualClock{realBase: time.Now()}
	return nil
}

// HasVirtualClock reports whether the loop runs on a virtual clock. Any
// goroutine.
func (l *Loop) HasVirtualClock() bool { return l.timers.clock != nil }

// AdvanceClock moves the loop's virtual clock forward by d, as trio's
// MockClock.jump: the timers that fall due fire at the loop's next
// iteration, after the current callbacks. A zero d does nothing. It returns
// an error matching ErrInvalidState if the loop is not on a virtual clock
// or d is negative (the clock never goes back), and one matching
// ErrNotOnLoop if it is not called on the loop goroutine or one of its
// tasks.
func (l *Loop) AdvanceClock(d time.Duration) error {
	if err := l.checkOnLoop("AdvanceClock"); err != nil {
		return err
	}
	v := l.timers.clock
	switch {
	case v == nil:
		return fmt.Errorf("%w: AdvanceClock on a loop with the real clock", ErrInvalidState)
	case d < 0:
		return fmt.Errorf("%w: AdvanceClock(%v): the clock never goes back", ErrInvalidState, d)
	}
	v.ns.Add(int64(d))
	return nil
}

// HoldClock keeps the loop's virtual clock from jumping until release is
// called: the seam through which work outside the loop that a task awaits
// (a function on another goroutine, a socket operation, a subprocess) says
// that it is in flight. While any hold is outstanding, an idle loop does not
// jump its clock but waits in its poller for real, until work arrives, the
// last hold is released, or the hold limit passes (SetClockHoldLimit). Holds
// are counted; release is idempotent, and may be called from any goroutine.
//
// The protocol for work that completes a future from another goroutine:
// take the hold on the loop before handing the work out, and release it
// after the completion (Future.SetResult, Loop.CallSoon) has returned, so
// that the loop sees the completion before it sees the hold gone. Releasing
// it when the awaiting task gives up (it was cancelled) lets time go on
// without waiting for work nobody waits for.
//
// On the real clock holds are not needed and cost nothing: HoldClock returns
// a release that does nothing. HoldClock may be called from any goroutine;
// on a zero Loop it panics with an error matching ErrNoLoop.
func (l *Loop) HoldClock() (release func()) {
	if l.poller == nil {
		panic(noLoop("HoldClock"))
	}
	v := l.timers.clock
	if v == nil {
		return noRelease
	}
	v.holds.Add(1)
	var done atomic.Bool
	return func() {
		if done.Swap(true) {
			return
		}
		// The count is lowered before the flag is read; the loop stores
		// the flag before it reads the count (released): so either it
		// sees zero, or this sees it parked and wakes it.
		if v.holds.Add(-1) == 0 && l.door.sleeping.Load() {
			l.poller.Wake()
		}
	}
}

// ClockHolds returns the number of outstanding HoldClock holds of the loop's
// virtual clock (zero on the real clock). Any goroutine.
func (l *Loop) ClockHolds() int {
	if v := l.timers.clock; v != nil {
		return int(v.holds.Load())
	}
	return 0
}

// SetClockHoldLimit is the user's way to let the virtual clock jump despite
// outstanding holds, as trio's autojump_threshold: once the loop has waited
// d of real time for held work, with nothing arriving, the clock jumps to
// the next timer as if nothing were held. Useful when a held operation may
// never complete (a read from a peer that stays silent) and the test wants
// its timeout to fire. Zero or negative d, the default, means no limit:
// holds are waited for as long as they last. It returns an error matching
// ErrInvalidState if the loop is not on a virtual clock. Any goroutine.
func (l *Loop) SetClockHoldLimit(d time.Duration) error {
	if l.poller == nil {
		return noLoop("SetClockHoldLimit")
	}
	v := l.timers.clock
	if v == nil {
		return fmt.Errorf("%w: SetClockHoldLimit on a loop with the real clock", ErrInvalidState)
	}
	v.limit.Store(max(int64(d), 0))
	if l.door.sleeping.Load() {
		l.poller.Wake() // a loop parked on a hold takes the new limit into account
	}
	return nil
}
