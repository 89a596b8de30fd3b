package aio

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/aiogo/aio/aio/internal/heap"
)

// timers is the loop's timer component: the heap of pending timers and the
// clock they are measured on. A timer is an entry of a callback record; its
// value is the waker the timer wakes when it falls due: the record itself
// for CallLater and CallAt (which then runs its callback in the batch), the
// task for Sleep. Timers fire in the order of (deadline, rank, scheduling):
// the rank keeps equal deadlines in the order of the calls that scheduled
// them, across goroutines (see rank).
type timers struct {
	heap  heap.Heap[waker]
	clock *virtualClock // nil: the real monotonic clock, read inline (the hot path); see clock.go
	base  time.Time     // the clock's zero; immutable once the loop is shared

	// remote counts the timers other goroutines have scheduled; shared
	// with them, so atomic. See rank.
	remote atomic.Uint64
}

func (t *timers) init(base time.Time) {
	t.base = base
}

// now returns loop time in nanoseconds since base. Any goroutine.
func (t *timers) now() int64 {
	if t.clock == nil {
		return int64(time.Since(t.base))
	}
	return t.clock.ns.Load()
}

// timeAt converts loop nanoseconds to a Time.
func (t *timers) timeAt(ns int64) time.Time { return t.base.Add(time.Duration(ns)) }

// at converts a Time to loop nanoseconds, saturating at the ends of time,
// and never returning noDeadline (the mark of a CallSoon Handle).
func (t *timers) at(tm time.Time) int64 {
	when := int64(tm.Sub(t.base))
	if when == noDeadline {
		when++
	}
	return when
}

// after returns the loop time d from now, saturating at the end of time; a
// negative d means now. Any goroutine.
func (t *timers) after(d time.Duration) int64 {
	now := t.now()
	if d <= 0 {
		return now
	}
	if now > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return now + int64(d)
}

// rank returns the rank of a timer scheduled now on the loop: among timers
// with the same deadline, it sorts after every timer that other goroutines
// scheduled before now and before every one they schedule later. A timer
// from another goroutine gets the odd rank 2n-1 from the n it drew
// (remoteRank) before it entered the door; a loop-side timer gets 2r for the
// r it reads. If the remote call happened before the loop's, n <= r; if
// after, n > r. Equal ranks (loop-side timers with no remote timer between
// them) keep the heap's push order. One atomic load, of a counter that only
// remote timers write.
func (t *timers) rank() uint64 { return 2 * t.remote.Load() }

// remoteRank draws the rank of a timer scheduled from another goroutine.
func (t *timers) remoteRank() uint64 { return 2*t.remote.Add(1) - 1 }

// add schedules cb's timer at when, to wake w, ranked as a loop-side timer.
func (t *timers) add(cb *callback, when int64, w waker) {
	cb.timer.Value = w
	t.heap.PushRank(&cb.timer, when, t.rank())
}

// addRemote schedules cb's timer, which came through the door, at its
// deadline and rank.
func (t *timers) addRemote(cb *callback) {
	cb.timer.Value = cb
	t.heap.PushRank(&cb.timer, cb.due, cb.rank)
}

// remove takes cb's timer out of the heap, if it is there.
func (t *timers) remove(cb *callback) bool { return t.heap.Remove(&cb.timer) }

// next returns the time until the earliest timer (at least zero), or -1 if
// there is none.
func (t *timers) next() time.Duration {
	e := t.heap.Peek()
	if e == nil {
		return -1
	}
	// Compare before subtracting: a deadline far in the past (CallAt of the
	// zero Time) would overflow the difference.
	if now, when := t.now(), e.When(); when > now {
		return time.Duration(when - now)
	}
	return 0
}

// fire wakes the timers due by now, in heap order. The loop calls it in
// direct mode: what they wake goes straight to the ready queue.
func (t *timers) fire(l *Loop) {
	if t.heap.Len() == 0 {
		return
	}
	now := t.now()
	for e := t.heap.Peek(); e != nil && e.When() <= now; e = t.heap.Peek() {
		t.heap.Pop()
		l.met.noteLag(now, e.When()) // for the metrics (metrics.go)
		e.Value.wake(l)
	}
}

func (t *timers) len() int { return t.heap.Len() }
