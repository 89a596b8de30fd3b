package aio

import "time"

// housekeeping gives back the memory a burst left behind: the ready ring,
// the timer heap's backing array and the callback record pool grow to what
// a burst needs and keep it while the loop is busy, so that a steady state
// allocates nothing. Once the loop goes idle (it is about to park in the
// poller), and at most once per trimInterval, each is cut back to what the
// interval needed: the ring and the heap to twice their high-water mark
// (the heap's since its last trim or shrink), if that was at most a quarter
// of their capacity; the pool to maxPooled records. While something could still be cut, the park
// is bounded by the interval, so that a loop that goes idle for good after a
// burst still gives the memory back.
//
// Deciding on the interval's high-water mark, not on the moment's length,
// is the hysteresis: a loop that alternates bursts and short idle spells
// (a benchmark's repetitions, a server's load) keeps its room. Loop goroutine
// only.
type housekeeping struct {
	last     int64 // loop time of the last trim
	readyHWM int   // largest ready batch since
}

// trimInterval is the shortest time between two trims. A variable, so that
// tests can shorten it (export_test.go).
var trimInterval = int64(time.Second)

// ringFloor is the ready ring's capacity below which it is never shrunk:
// 1024 entries are 32 KiB.
const ringFloor = 1024

// note records the size of one iteration's batch. The timer heap keeps
// its own high-water mark (heap.Heap.Trim).
func (h *housekeeping) note(ready int) {
	if ready > h.readyHWM {
		h.readyHWM = ready
	}
}

// idle is called when the loop is about to park for timeout (negative:
// until woken). It trims if the interval has passed, and returns the
// timeout, bounded so that the loop wakes to trim what is still oversized.
func (h *housekeeping) idle(l *Loop, timeout time.Duration) time.Duration {
	if !h.trimmable(l) {
		return timeout
	}
	now := l.timers.now()
	if now-h.last >= trimInterval {
		h.trim(l)
		h.last = now
		if !h.trimmable(l) {
			return timeout
		}
	}
	if wait := time.Duration(h.last + trimInterval - now); timeout < 0 || timeout > wait {
		return max(wait, 0)
	}
	return timeout
}

// trimmable reports whether a trim could give memory back now.
func (h *housekeeping) trimmable(l *Loop) bool {
	if c := l.ready.Cap(); c > ringFloor && 4*l.ready.Len() <= c {
		return true
	}
	if c := l.timers.heap.Cap(); c > 1024 && 4*l.timers.heap.Len() <= c {
		return true
	}
	return l.pool.n > maxPooled
}

// trim cuts the ring, the heap and the pool back (see housekeeping), and
// starts a new interval.
func (h *housekeeping) trim(l *Loop) {
	if c := l.ready.Cap(); c > ringFloor && 4*h.readyHWM <= c {
		l.ready.ShrinkTo(max(2*h.readyHWM, ringFloor))
	}
	l.timers.heap.Trim()
	l.pool.trim(maxPooled)
	h.readyHWM = l.ready.Len()
}

// setTrimInterval sets trimInterval to d and returns a function that
// restores it. For tests.
func setTrimInterval(d time.Duration) (restore func()) {
	old := trimInterval
	trimInterval = int64(d)
	return func() { trimInterval = old }
}
