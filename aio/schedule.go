package aio

import "time"

// CallSoon schedules fn to run on the loop goroutine: on the next iteration
// if called from the loop (so a callback that schedules itself never starves
// I/O and timers), or once the loop has received it if called from another
// goroutine. Callbacks run in the order of the calls that scheduled them
// whenever that order is defined: calls on one goroutine, or calls on
// several goroutines ordered by synchronisation (a call that happens before
// another, in the sense of the Go memory model, runs first), whether each
// call was made on the loop or elsewhere. It returns a Handle that can
// cancel the call.
//
// CallSoon may be called from any goroutine (it is also asyncio's
// call_soon_threadsafe). From the loop goroutine and its tasks it does not
// allocate in steady state; from other goroutines it goes through the loop's
// lock-free door and wakes the loop if it is parked. It returns ErrNilFunc
// for a nil fn, ErrClosed on a closed loop and ErrNoLoop on a zero one.
func (l *Loop) CallSoon(fn func()) (Handle, error) {
	if fn == nil {
		return Handle{}, ErrNilFunc
	}
	if l.onLoop() {
		// What soon and queue do, written out: they do not inline, and
		// this is the loop's hottest path.
		cb := l.pool.get(l, fn)
		if d := l.debug.on.Load(); d != nil {
			d.noteCallback(cb) // debug mode: keep the site (debug.go)
		}
		if l.direct || !l.door.q.Pending() {
			l.ready.PushBack(ready{cb: cb})
		} else {
			l.queueBehind(ready{cb: cb})
		}
		return Handle{cb: cb, gen: cb.gen, when: noDeadline}, nil
	}
	if l.poller == nil {
		return Handle{}, noLoop("CallSoon")
	}
	// Only the function travels: the loop queues it as it is when it
	// drains the door, and the Handle names it by its door position.
	pos, err := l.send(remoteCall(fn))
	if err != nil {
		return Handle{}, err
	}
	return Handle{cb: l.door.ticket, gen: pos, when: noDeadline}, nil
}

// CallLater schedules fn to run on the loop goroutine once delay has passed
// on the loop's clock, and never before. A zero or negative delay means now:
// the callback runs at the next iteration that fires timers. Timers due at
// the same time run in the order they were scheduled (see CallAt).
// Goroutines and errors are as for CallSoon.
func (l *Loop) CallLater(delay time.Duration, fn func()) (Handle, error) {
	if l.poller == nil {
		return Handle{}, noLoop("CallLater")
	}
	return l.callAt(l.timers.after(delay), fn)
}

// CallAt schedules fn to run on the loop goroutine at t on the loop's clock
// (see Now), and never before. A time in the past means now. Goroutines and
// errors are as for CallSoon.
//
// Timers fire in the order of their deadlines. Timers with the same deadline
// fire in the order of the calls that scheduled them, when that order is
// defined (as for CallSoon), with one exception: a timer scheduled from
// another goroutine enters the loop when the loop drains the door, and if
// the loop has not received it by its deadline (a flood of work ahead of it
// in the door, or its sender descheduled in the middle of the call), it
// fires when received, after the timers with its deadline that the loop
// had. A timer scheduled on the loop never waits for the door.
func (l *Loop) CallAt(t time.Time, fn func()) (Handle, error) {
	if l.poller == nil {
		return Handle{}, noLoop("CallAt")
	}
	return l.callAt(l.timers.at(t), fn)
}

func (l *Loop) callAt(when int64, fn func()) (Handle, error) {
	if fn == nil {
		return Handle{}, ErrNilFunc
	}
	if l.onLoop() {
		cb := l.pool.get(l, fn)
		if d := l.debug.on.Load(); d != nil {
			d.noteCallback(cb) // debug mode: keep the site (debug.go)
		}
		l.timers.add(cb, when, cb)
		return Handle{cb: cb, gen: cb.gen, when: when}, nil
	}
	cb := l.newCallback()
	cb.fn, cb.due, cb.state = fn, when, cbTravelling
	// Draw the rank before the push: the loop ranks a timer of its own by
	// the count it reads when scheduling it (see timers.rank).
	cb.rank = l.timers.remoteRank()
	// Build the Handle before sending: once the record is in the door the
	// loop may run and recycle it, changing its generation.
	h := Handle{cb: cb, gen: cb.gen, when: when}
	if _, err := l.send(cb); err != nil {
		return Handle{}, err
	}
	return h, nil
}
