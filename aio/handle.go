package aio

import (
	"time"

	"github.com/aiogo/aio/aio/internal/heap"
)

// callback is the loop's record of one scheduled call: a CallSoon from loop
// code, a CallLater or CallAt from anywhere, or the timer of a Sleep.
// Records are pooled by the loop (recordPool), so a callback scheduled and
// run (or cancelled) in steady state allocates nothing. A record is reused
// once its call has run or been cancelled; its generation counts the reuses,
// and a Handle names one generation, so a stale Handle can never cancel the
// record's next occupant.
type callback struct {
	fn    func()
	loop  *Loop  // set once when the record is made; never changes
	gen   uint64 // generation; bumped each time the record is recycled
	due   int64  // deadline of a timer sent through the door, or noDeadline
	rank  uint64 // rank of a timer sent through the door (see timers.rank)
	state cbState
	timer heap.Entry[waker] // deadline, heap position and waker of a timer
	next  *callback         // free-list link while pooled
}

type cbState uint8

const (
	cbFree       cbState = iota // in the pool
	cbScheduled                 // in the ready queue or the timer heap
	cbTravelling                // in the door: a timer from another goroutine, or loop-side work sent behind others
	cbCancelled                 // cancelled before it ran
	cbTicket                    // the loop's marker record that ticket Handles point to; never scheduled
)

// wake is the record's side of the waker contract: a timer that fell due, or
// a record that arrived through the door. A due record, or one that arrives
// as a callback, joins the ready queue; a timer from another goroutine
// arrives into the heap; a record cancelled meanwhile goes back to the pool.
func (cb *callback) wake(l *Loop) {
	switch cb.state {
	case cbScheduled:
		l.ready.PushBack(ready{cb: cb})
	case cbTravelling:
		cb.state = cbScheduled
		if cb.due == noDeadline {
			l.ready.PushBack(ready{cb: cb})
		} else {
			l.timers.addRemote(cb)
		}
	case cbCancelled:
		l.pool.put(cb)
	}
}

// Handle refers to a callback scheduled with CallSoon, CallLater or CallAt.
// It is a small value: copy it freely. The zero Handle refers to nothing;
// cancelling it does nothing.
type Handle struct {
	// cb is the callback's record and gen its generation. For a CallSoon
	// from another goroutine, which sends no record through the door, cb
	// is the loop's ticket marker and gen the call's position in the door.
	cb   *callback
	gen  uint64
	when int64 // deadline in loop nanoseconds, or noDeadline for a soon callback
}

// noDeadline marks the Handle of a callback scheduled with CallSoon.
const noDeadline = -1 << 63

// Cancel prevents the callback from running if it has not run yet.
// Cancelling twice, cancelling a callback that already ran, and cancelling the
// zero Handle do nothing.
//
// Cancel may be called from any goroutine. On the loop goroutine (and in its
// tasks) it takes effect at once; a cancelled timer leaves the timer heap
// immediately. From any other goroutine the request travels through the
// loop's door and takes effect when the loop receives it, unless the callback
// has run by then; on a closed loop it does nothing.
func (h Handle) Cancel() {
	if h.cb == nil {
		return
	}
	l := h.cb.loop
	if l.onLoop() {
		l.cancelHandle(h)
		return
	}
	l.post(func() { l.cancelHandle(h) })
}

// cancelHandle cancels h's call if it is still pending. Loop goroutine only.
func (l *Loop) cancelHandle(h Handle) {
	if h.cb.state == cbTicket {
		l.door.cancelTicket(l, h.gen)
		return
	}
	l.cancel(h.cb, h.gen)
}

// When returns the time at which a callback scheduled with CallLater or CallAt
// is due, on the loop's clock (see Loop.Now). For a callback scheduled with
// CallSoon, and for the zero Handle, it returns the zero Time. It may be
// called from any goroutine.
func (h Handle) When() time.Time {
	if h.cb == nil || h.when == noDeadline {
		return time.Time{}
	}
	return h.cb.loop.timers.timeAt(h.when)
}
