package aio

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"time"
)

// The watchdog of debug mode: a goroutine that runs beside the loop while
// the loop runs in debug mode, and looks, a few times per slow-callback
// duration, at what the loop publishes before and after each callback and
// step (debugState.begin and end). A callback or step that has held the loop
// for the slow-callback duration is reported at once, while it still runs,
// with the stacks of the goroutines concerned: the task's coroutine, where
// the blocking call is, and the loop's goroutine. So a step blocked in a Go
// channel operation, a mutex or a blocking system call is named as it
// happens, even if it never returns.
//
// The loop is blocked, so the report cannot wait for it: the watchdog calls
// the error handler itself, on its own goroutine. The loop publishes with
// atomic stores only (no lock on the loop's side); a time-per-iteration
// counter would not do, since a long iteration of many short callbacks is
// not a blocked loop, and a parked loop is not one either.

// watchdog is a running watchdog goroutine.
type watchdog struct {
	stop chan struct{}
	done chan struct{}
}

// startWatchdog starts the watchdog for d. Loop goroutine, during a run.
func (l *Loop) startWatchdog(d *debugState) {
	d.loopG.Store(goid())
	w := &watchdog{stop: make(chan struct{}), done: make(chan struct{})}
	l.debug.wd = w
	go w.run(l, d)
}

// stopWatchdog stops the watchdog, if one runs, and waits for it to end. The
// loop goroutine, as its run ends.
func (l *Loop) stopWatchdog() {
	w := l.debug.wd
	if w == nil {
		return
	}
	l.debug.wd = nil
	close(w.stop)
	<-w.done
}

func (w *watchdog) run(l *Loop, d *debugState) {
	defer close(w.done)
	period := min(max(l.SlowCallbackDuration()/4, time.Millisecond), 50*time.Millisecond)
	tick := time.NewTicker(period)
	defer tick.Stop()
	var reported uint64
	for {
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
		start := d.busy.Load()
		if start == 0 {
			continue
		}
		seq := d.seq.Load()
		if seq == reported {
			continue
		}
		held := time.Duration(debugNow() - start)
		slow := l.SlowCallbackDuration()
		if held < slow {
			continue
		}
		c, pc, s, g := d.curTask.Load(), d.curFn.Load(), d.curSite.Load(), d.curG.Load()
		if d.seq.Load() != seq || d.busy.Load() != start {
			continue // it ended meanwhile
		}
		reported = seq
		ec := ErrorContext{
			Message:  "aio: loop blocked",
			Duration: held,
			Stack:    loopStacks(d.loopG.Load(), g, c != nil),
		}
		if c != nil {
			ec.Task, ec.TaskID, ec.TaskName, ec.Site = c.impl, c.id, c.Name(), s.String()
			ec.Err = fmt.Errorf("%w: a step of task %s has held the loop for %v and still runs (slow-callback duration %v)",
				ErrLoopBlocked, c.String(), held.Round(time.Millisecond), slow)
		} else {
			ec.Callback = funcName(pc)
			ec.Site = s.String()
			ec.Err = fmt.Errorf("%w: callback %s has held the loop for %v and still runs (slow-callback duration %v)",
				ErrLoopBlocked, ec.Callback, held.Round(time.Millisecond), slow)
		}
		l.handle(ec) // not reportNow: c's loop-only fields may be changing
	}
}

// loopStacks returns the stacks of the goroutine of the task's coroutine
// taskG (if known), then of the loop's goroutine loopG, taken from
// runtime.Stack of all goroutines. For a step whose coroutine is not known
// (made before debug mode was on), the coroutines the loop made that are
// not parked stand in for it.
func loopStacks(loopG, taskG uint64, step bool) string {
	buf := make([]byte, 256<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= 64<<20 {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	blocks := bytes.Split(buf, []byte("\n\n"))
	header := func(id uint64) []byte { return []byte("goroutine " + strconv.FormatUint(id, 10) + " [") }
	var out [][]byte
	if taskG != 0 {
		h := header(taskG)
		for _, b := range blocks {
			if bytes.HasPrefix(b, h) {
				out = append(out, b)
			}
		}
	} else if step && loopG != 0 {
		by := []byte("created by iter.Pull")
		in := []byte("in goroutine " + strconv.FormatUint(loopG, 10) + "\n")
		for _, b := range blocks {
			if bytes.Contains(b, by) && (bytes.Contains(b, in) || bytes.HasSuffix(b, in[:len(in)-1])) &&
				!bytes.Contains(b[:bytes.IndexByte(b, '\n')+1], []byte("[coroutine")) {
				out = append(out, b)
			}
		}
	}
	if loopG != 0 {
		h := header(loopG)
		for _, b := range blocks {
			if bytes.HasPrefix(b, h) {
				out = append(out, b)
			}
		}
	}
	return string(bytes.Join(out, []byte("\n\n")))
}
