package aio

import "time"

// clock is the loop's source of time, behind Now, timer deadlines and the
// poll timeout: the real monotonic clock by default (realClock, which the
// timers read inline when no clock is set, since now is on the hot path),
// and in a later test helper a virtual one that stands still while work is
// ready and jumps to the next deadline when everything waits. The loop measures time
// in nanoseconds since its base, an int64, so that deadline arithmetic is
// plain integer arithmetic. Loop goroutine only, except now, which any
// goroutine may call.
type clock interface {
	// now returns the current time, in nanoseconds since the loop's base.
	now() int64
	// pollTimeout returns what the poll of an idle loop should wait: given
	// d, the time until the next timer (negative: no timer), the real clock
	// waits d; a virtual clock may instead advance itself and not wait.
	pollTimeout(d time.Duration) time.Duration
}

// realClock is the monotonic clock: the time the loop was made plus the
// monotonic time elapsed since, so it never goes backwards even if the wall
// clock is changed.
type realClock struct {
	base time.Time
}

func (c *realClock) now() int64 { return int64(time.Since(c.base)) }

func (c *realClock) pollTimeout(d time.Duration) time.Duration { return d }
