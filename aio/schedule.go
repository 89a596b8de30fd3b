package aio

import (
	"math"
	"time"
)

// CallSoon schedules fn to run on the loop goroutine: on the next iteration
// if called from the loop (so a callback that schedules itself never starves
// I/O and timers), or once the loop has received it if called from another
// goroutine. Callbacks run in the order of the calls that scheduled them
// whenever that order is defined: calls on one goroutine, or calls on
// several goroutines ordered by synchronisation (a call that happens before
// another, in the sense of the Go memory model, runs first). It returns a
// Handle that can cancel the call.
//
// CallSoon may be called from any goroutine (it is also asyncio's
// call_soon_threadsafe). From the loop goroutine and its tasks it does not
// allocate in steady state; from other goroutines it goes through the loop's
// lock-free door and wakes the loop if it is parked. It returns ErrNilFunc
// for a nil fn and ErrClosed on a closed loop.
func (l *Loop) CallSoon(fn func()) (Handle, error) {
	if fn == nil {
		return Handle{}, ErrNilFunc
	}
	if l.onLoop() {
		l.catchUp()
		// What soon does, written out: soon does not inline, and this is
		// the loop's hottest path.
		cb := l.get(fn)
		l.ready.PushBack(ready{cb: cb})
		return Handle{cb: cb, gen: cb.gen, when: noDeadline}, nil
	}
	// Only the function travels: the loop queues it as it is when it
	// drains the door, and the Handle names it by its door position.
	pos, err := l.send(doorItem{fn: fn})
	if err != nil {
		return Handle{}, err
	}
	return Handle{cb: l.ticket, gen: pos, when: noDeadline}, nil
}

// CallLater schedules fn to run on the loop goroutine once delay has passed
// on the loop's clock, and never before. A zero or negative delay means now:
// the callback runs at the next iteration that fires timers. Timers due at
// the same time run in the order they were scheduled. Goroutines and errors
// are as for CallSoon.
func (l *Loop) CallLater(delay time.Duration, fn func()) (Handle, error) {
	return l.callAt(l.after(delay), fn)
}

// after returns the loop time d from now, saturating at the end of time; a
// negative d means now.
func (l *Loop) after(d time.Duration) int64 {
	now := l.now()
	if d <= 0 {
		return now
	}
	if now > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return now + int64(d)
}

// CallAt schedules fn to run on the loop goroutine at t on the loop's clock
// (see Now), and never before. A time in the past means now. Goroutines and
// errors are as for CallSoon.
func (l *Loop) CallAt(t time.Time, fn func()) (Handle, error) {
	return l.callAt(int64(t.Sub(l.base)), fn)
}

func (l *Loop) callAt(when int64, fn func()) (Handle, error) {
	if fn == nil {
		return Handle{}, ErrNilFunc
	}
	if l.onLoop() {
		l.catchUp()
		cb := l.get(fn)
		l.timers.Push(&cb.timer, when)
		return Handle{cb: cb, gen: cb.gen, when: when}, nil
	}
	cb := l.newCallback()
	cb.fn, cb.due, cb.state = fn, when, cbScheduled
	// Build the Handle before sending: once the record is in the door the
	// loop may run and recycle it, changing its generation.
	h := Handle{cb: cb, gen: cb.gen, when: when}
	if _, err := l.send(doorItem{cb: cb}); err != nil {
		return Handle{}, err
	}
	return h, nil
}

// catchUp drains the door before the loop schedules anything itself, so
// that calls ordered by happens-before keep their order even when the
// earlier one came from another goroutine and is still in the door. It costs
// one atomic load when the door is empty.
func (l *Loop) catchUp() {
	if !l.door.Empty() {
		l.drainDoor(math.MaxInt)
	}
}
