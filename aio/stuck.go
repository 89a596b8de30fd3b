package aio

import (
	"errors"
	"fmt"
	"time"
)

// The stuck report: a loop parked with live tasks, no timer and no file
// descriptor has nothing that can wake it but another goroutine (a
// Future.SetResult, a CallSoon, an executor call returning, a signal). If
// none comes, the program hangs in the poller, silently: Go's "all
// goroutines are asleep" never fires, since the poller's thread is not
// asleep in a way the runtime can see. The report names that state.
//
// Off (the default), it costs nothing: the loop asks for it only when it is
// about to park with no timer at all (l.dumpx is nil unless a dump feature
// was turned on). On, such a park gets a timeout of the threshold instead of
// none; if the threshold passes with nothing in the door, the loop reports
// once, with the task dump, and parks without a timeout until something
// comes.

// ErrStuck is matched (errors.Is) by a *StuckError.
var ErrStuck = errors.New("aio: loop stuck")

// A StuckError is the error of the stuck report (see Loop.SetStuckReport):
// the loop has been parked for Idle with Tasks live tasks waiting, no timer
// and no file descriptor watched, so that only another goroutine can wake
// them. Dump is the task dump at that moment, with stacks; Error includes
// its text.
type StuckError struct {
	Idle  time.Duration
	Tasks int
	Dump  *Dump
}

// Error says how long the loop has been stuck, with how many tasks, and
// gives the dump's text on the lines after.
func (e *StuckError) Error() string {
	s := fmt.Sprintf("%v: %d tasks have waited %v with no timer pending and no file descriptor watched: only another goroutine can wake them (through the loop's door: Future.SetResult, CallSoon, an executor call's return)",
		ErrStuck, e.Tasks, e.Idle.Round(time.Millisecond))
	if e.Dump != nil {
		s += "\n" + e.Dump.String()
	}
	return s
}

// Is makes a *StuckError match ErrStuck.
func (e *StuckError) Is(target error) bool { return target == ErrStuck }

// DefaultStuckThreshold is the threshold of the stuck report that debug mode
// turns on.
const DefaultStuckThreshold = time.Second

// SetStuckReport turns the stuck report on, with the given threshold, or off
// (threshold zero or negative). On, when the loop has been parked for
// threshold with live tasks waiting, no timer pending and no file descriptor
// watched (nothing but another goroutine could wake them), it reports
// through the loop's error handler, once per such stretch, an ErrorContext
// with the message "aio: loop stuck" and a *StuckError (matching ErrStuck)
// that carries the task dump, stacks included. Debug mode turns it on with
// DefaultStuckThreshold. It also turns on TrackWaits, so that the dump says
// how long each task has waited. Off, it costs nothing.
//
// It may be called from any goroutine: on the loop, and before the loop
// first runs, it takes effect at once; from another goroutine while the
// loop has run, through the loop's door. On a zero Loop it panics with an
// error matching ErrNoLoop.
func (l *Loop) SetStuckReport(threshold time.Duration) {
	l.onLoopSoon("SetStuckReport", func() {
		d := l.dumpStateOf()
		d.stuck = stuckState{threshold: max(threshold, 0)}
		if threshold > 0 {
			d.track, d.gids = true, true
		}
	})
}

// onLoopSoon runs fn now if the caller may touch loop-only state (it is on
// the loop, or the loop is not running on another goroutine), and through
// the door otherwise.
func (l *Loop) onLoopSoon(method string, fn func()) {
	if l == nil || l.poller == nil {
		panic(noLoop(method))
	}
	if l.thread.loopG.Load() == 0 || l.onLoop() {
		fn()
		return
	}
	_ = l.post(fn) // a closed loop: nothing to report on
}

// stuckState is the stuck report's state. Loop goroutine only.
type stuckState struct {
	threshold time.Duration // 0: off
	armed     bool          // the park under way has the report's timeout
	since     int64         // real-clock ns when the quiet stretch began (stuckNow); 0: none
	reported  bool          // this stretch was reported
	steps     uint64        // task steps run (counted by dumpState.stepped)
	stepsThen uint64        // ... when the report was made
}

var stuckEpoch = time.Now()

// stuckNow is the real monotonic clock, also under a virtual clock: a
// stuck loop's virtual clock stands still.
func stuckNow() int64 { return int64(time.Since(stuckEpoch)) + 1 }

// idle is called by runOnce when the loop is about to park with no timer:
// it returns the park's timeout, -1 (none) unless the report is on and the
// loop has live tasks and no fd watched.
func (s *stuckState) idle(l *Loop) time.Duration {
	s.armed = false
	if s.reported && s.steps != s.stepsThen {
		s.since, s.reported = 0, false // tasks ran since the report: a new stretch
	}
	if s.threshold <= 0 || s.reported || len(l.fds.watches) > 0 || l.tasks.len() == 0 {
		return -1
	}
	now := stuckNow()
	if s.since == 0 {
		s.since = now
	}
	s.armed = true
	return max(time.Duration(s.since+int64(s.threshold)-now), time.Millisecond)
}

// woke is called by runOnce after every park: it reports if the report's
// park ran out with nothing come, and ends the quiet stretch if anything
// came or the park was not one of the report's.
func (s *stuckState) woke(l *Loop) {
	if !s.armed {
		if !s.reported {
			s.since = 0 // a park with a timer or an fd: not a stretch
		}
		return
	}
	s.armed = false
	if !l.door.q.Empty() || l.door.stopReq.Load() {
		s.since = 0
		return
	}
	idle := time.Duration(stuckNow() - s.since)
	if idle < s.threshold {
		return // woken early with nothing: park for the rest
	}
	s.reported, s.stepsThen = true, s.steps
	n := l.tasks.len()
	d := l.dump(DumpOptions{Stacks: true})
	l.report(ErrorContext{
		Message: "aio: loop stuck",
		Err:     &StuckError{Idle: idle, Tasks: n, Dump: d},
	})
}
