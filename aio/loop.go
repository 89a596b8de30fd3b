package aio

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aiogo/aio/aio/internal/poll"
	"github.com/aiogo/aio/aio/internal/ring"
)

// Loop states, kept in Loop.state.
const (
	stateIdle    int32 = iota // created, or between runs
	stateRunning              // inside RunForever or RunUntil
	stateClosed               // closed; final
)

// A Loop is an event loop: it runs callbacks when they are due, fires timers,
// watches file descriptors, and resumes tasks when what they await is ready,
// all on one goroutine pinned to one OS thread. Create one with NewLoop, run
// it with RunForever or RunUntil (or use Run, which does all of it), and close
// it with Close. The zero Loop is not usable: its methods return (or panic
// with) an error matching ErrNoLoop.
//
// Methods say from which goroutines they may be called; see "Goroutines" in
// the package documentation.
//
// The Loop owns its components, each in a file of its own: the door from
// other goroutines (door.go), the timers and their clock (timers.go,
// clock.go), the watched file descriptors (fd.go), the live tasks
// (tasktable.go), the record pool (pool.go), the thread binding (thread.go),
// the housekeeping of memory (housekeep.go). This file keeps the iteration
// and the runs; close.go and shutdown.go the end of a loop's life.
type Loop struct {
	// Shared with other goroutines; every access is atomic or immutable.
	state      atomic.Int32
	thread     binding // which goroutine runs the loop, and which task it resumes
	door       door
	poller     *poll.Poller
	closed     chan struct{} // closed by Close
	errHandler atomic.Pointer[ErrorHandler]
	timers     timers // shared only for the clock (Now) and the remote-timer count
	closers    closeHooks
	values     loopValues // the values of LoopValues (loopvalue.go)
	signals    signals

	// Loop goroutine only.
	ready     ring.Ring[ready]
	pool      recordPool
	scopes    scopePool
	fds       fdTable
	tasks     taskSet
	current   *Ctx // the task being resumed, nil otherwise
	cpool     coroPool
	stopping  bool
	direct    bool // the loop itself is taking work in (door, timers, I/O): queue pushes straight to the ring
	trim      housekeeping
	down      shutdownState
	failed    failures
	hook      TaskHook
	goStashes *loopStashes // values received from Go channels that nobody took yet (gochan.go)
	dumpx     *dumpState   // the task dump's wait clock and the stuck report; nil until used (dump.go, stuck.go)
	debug     debugMode    // debug mode (debug.go, watchdog.go)
	runErr    error        // set when a run ended abnormally (runtime.Goexit in a task)

	// The runtime metrics: counters of the loop goroutine, and their copy
	// that any goroutine reads (metrics.go).
	met loopMetrics
}

// NewLoop returns a new, idle event loop. It fails only if the operating
// system refuses the poller's descriptors.
func NewLoop() (*Loop, error) {
	p, err := poll.New()
	if err != nil {
		return nil, fmt.Errorf("aio: creating poller: %w", err)
	}
	l := &Loop{
		poller: p,
		closed: make(chan struct{}),
	}
	l.timers.init(time.Now())
	l.fds.init()
	l.door.ticket = &callback{loop: l, state: cbTicket}
	l.SetErrorHandler(nil)
	if debugFromEnv() {
		l.SetDebug(true) // AIODEBUG=1 (debug.go)
	}
	return l, nil
}

// onLoop reports whether the caller runs on the loop: on the goroutine
// running it, or in the task coroutine the loop is resuming. It costs a few
// nanoseconds, so every method that touches loop state checks it.
func (l *Loop) onLoop() bool {
	g := curg()
	return g == l.thread.loopG.Load() || g == l.thread.taskG.Load()
}

// mustBeOnLoop panics with an error matching ErrNotOnLoop (or ErrNoLoop) if
// the caller is not on l: the treatment of the loop-only methods that have
// no error result.
func (l *Loop) mustBeOnLoop(method string) {
	if err := l.checkOnLoop(method); err != nil {
		panic(err)
	}
}

// checkOnLoop returns the error mustBeOnLoop panics with, or nil.
func (l *Loop) checkOnLoop(method string) error {
	if l == nil || l.poller == nil {
		return noLoop(method)
	}
	if !l.onLoop() {
		return notOnLoop(method)
	}
	return nil
}

// IsRunning reports whether the loop is running. Any goroutine.
func (l *Loop) IsRunning() bool { return l.state.Load() == stateRunning }

// IsClosed reports whether Close has been called. Any goroutine.
func (l *Loop) IsClosed() bool { return l.state.Load() == stateClosed }

// Closed returns a channel that is closed when the loop is closed. Any
// goroutine. On a zero Loop it panics with an error matching ErrNoLoop.
func (l *Loop) Closed() <-chan struct{} {
	if l.closed == nil {
		panic(noLoop("Closed"))
	}
	return l.closed
}

// Now returns the current time on the loop's clock. The clock is monotonic:
// it is the time the loop was created plus the monotonic time elapsed since,
// so it never goes backwards even if the wall clock is changed. Deadlines of
// CallAt and Handle.When are on this clock. On a loop with the virtual
// clock (SetVirtualClock) it is the virtual time instead, which starts at
// 2000-01-01 00:00:00 UTC. Any goroutine. On a zero Loop it panics with an
// error matching ErrNoLoop.
func (l *Loop) Now() time.Time {
	if l.poller == nil {
		panic(noLoop("Now"))
	}
	return l.timers.timeAt(l.timers.now())
}

// RunForever runs the loop until Stop is called. It returns nil after a
// Stop; ErrClosed if the loop is closed; and ErrRunning if the loop is
// already running, including when RunForever is called from one of the
// loop's own callbacks or tasks, or from those of another running loop.
//
// The loop runs on a goroutine of its own, locked to its OS thread
// (runtime.LockOSThread), which it starts at its first run and ends at
// Close: every callback and task body of the loop runs on that one thread,
// for the loop's whole life, whichever goroutine calls RunForever (which
// blocks until the run ends). The loop that Run makes runs on Run's own
// goroutine instead.
//
// If a task body or callback calls runtime.Goexit, the run ends: the loop
// unwinds its other tasks, closes itself, and RunForever returns an error
// matching ErrClosed that says so.
func (l *Loop) RunForever() error { return l.runWith("RunForever", nil, nil) }

// RunUntil runs the loop until done reports true, or Stop is called. done is
// called on the loop goroutine before the first iteration and after each
// iteration, except the iteration in which Stop was called: a Stop ends the
// run without asking done again. It returns errors as RunForever does, and
// ErrNilFunc if done is nil. A panic in done ends the run, leaves the loop
// idle and usable, and goes on in the goroutine that called RunUntil.
func (l *Loop) RunUntil(done func() bool) error {
	if done == nil {
		return ErrNilFunc
	}
	return l.runWith("RunUntil", done, nil)
}

// Stop makes a running loop return from RunForever or RunUntil once the
// callbacks of the current iteration have run. From another goroutine it
// takes effect at the loop's next iteration, however much work other
// goroutines have sent meanwhile (what they sent waits for the next run).
// If the loop is not running, the next run performs one iteration (polling
// without blocking) and returns. Stop may be called from any goroutine; it
// returns ErrClosed on a closed loop.
func (l *Loop) Stop() error {
	if l.poller == nil {
		return noLoop("Stop")
	}
	if l.onLoop() {
		l.stopping = true
		return nil
	}
	if l.state.Load() == stateClosed {
		return ErrClosed
	}
	l.door.stopReq.Store(true)
	// The flag is set before this load: see runOnce for the other half.
	if l.door.sleeping.Load() {
		l.poller.Wake()
	}
	return nil
}

// runWith is RunForever and RunUntil: it claims the loop and runs it on its
// goroutine until done reports true (nil: until Stop), then calls end there,
// if it is not nil.
func (l *Loop) runWith(method string, done func() bool, end func()) error {
	if err := l.enter(method); err != nil {
		return err
	}
	if l.thread.inline != 0 {
		return l.runHere(done, end) // enter checked that this is Run's goroutine
	}
	return l.ownerGoroutine().run(done, end)
}

// enter moves the loop from idle to running.
func (l *Loop) enter(method string) error {
	if l.poller == nil {
		return noLoop(method)
	}
	g := curg()
	if l.onLoop() {
		return fmt.Errorf("%w: %s called from inside the loop", ErrRunning, method)
	}
	if onAnyLoop(g) {
		// Another loop is running on this goroutine, or this is one of
		// its tasks: the run would stall the outer loop. asyncio refuses
		// this too ("Cannot run the event loop while another loop is
		// running").
		return fmt.Errorf("%w: %s called from a callback or task of another running loop", ErrRunning, method)
	}
	if l.thread.inline != 0 && g != l.thread.inline && l.state.Load() != stateClosed {
		return fmt.Errorf("%w: %s: the loop belongs to Run, which runs it", ErrRunning, method)
	}
	if !l.state.CompareAndSwap(stateIdle, stateRunning) {
		if l.state.Load() == stateClosed {
			return ErrClosed
		}
		return ErrRunning
	}
	return nil
}

// runHere runs the loop on the calling goroutine, which is the loop's
// goroutine (Run's caller, or the owner). The CAS in enter orders this run
// after the previous run's leave, so the loop-only fields are ours now.
func (l *Loop) runHere(done func() bool, end func()) error {
	l.thread.loopG.Store(curg())
	running.add(l)
	l.metricsRunBegin()
	normal := false
	defer func() {
		if normal {
			l.leave()
			return
		}
		if r := recover(); r != nil {
			// A panic reached the run: from done, since callbacks and
			// task bodies are recovered where they run. The goroutine
			// may survive it (its caller may recover), so leave the loop
			// idle and usable, and let the panic go on.
			l.stopping = false
			l.leave()
			panic(r)
		}
		l.abandon() // runtime.Goexit: the goroutine is going away
	}()
	for done == nil || !done() {
		l.runOnce()
		if l.stopping {
			break
		}
	}
	l.stopping = false
	if end != nil {
		end()
	}
	normal = true
	return nil
}

// leave ends a run normally.
func (l *Loop) leave() {
	l.stopWatchdog() // debug mode (watchdog.go)
	l.metricsRunEnd()
	running.remove(l)
	l.thread.loopG.Store(0)
	l.state.Store(stateIdle)
}

// abandon ends a run that is unwinding without returning: a task body or a
// callback called runtime.Goexit (t.FailNow in a test does). The loop
// cannot continue on a goroutine that is going away, so it closes: the
// goroutine's deferred calls still run on its locked thread, which is where
// the other tasks' coroutines can be resumed, so they are unwound here and
// no goroutine is left behind. The error is reported and kept for the run's
// caller.
func (l *Loop) abandon() {
	l.stopWatchdog() // debug mode (watchdog.go)
	l.metricsRunEnd()
	running.remove(l)
	l.thread.loopG.Store(0)
	if l.runErr == nil {
		l.runErr = fmt.Errorf("%w: the loop goroutine exited during a run (runtime.Goexit in a task or callback)", ErrClosed)
	}
	l.state.Store(stateClosed)
	l.reportNow(ErrorContext{Message: "aio: loop abandoned", Err: l.runErr})
	l.closeHere()
}

// runOnce is one iteration, as in asyncio's _run_once and libuv's uv_run:
// compute the poll timeout, poll, drain the door, move due timers to the
// ready queue, then run the callbacks that are ready at that point. Callbacks
// scheduled while they run wait for the next iteration, after the next poll.
func (l *Loop) runOnce() {
	var timeout time.Duration // zero: work is ready, do not block
	jump := false             // virtual clock: it may jump after the poll (clock.go)
	// Work in the door counts as ready: the loop's own work goes there
	// too while other goroutines submit (see queue), and a loop that
	// announced a park for it would cost them wake-up calls.
	if l.ready.Len() == 0 && !l.stopping && l.door.q.Empty() {
		if l.timers.clock == nil {
			timeout = l.timers.next()
		} else {
			timeout, jump = l.timers.clock.idle(l)
		}
		if timeout < 0 && !jump && l.dumpx != nil {
			timeout = l.dumpx.stuck.idle(l) // SetStuckReport (stuck.go)
		}
	}
	parked := false
	if timeout != 0 {
		timeout = l.trim.idle(l, timeout) // going idle: give back what a burst left
		// Publish that we are about to park, then look at the door and the
		// stop flag again. A producer publishes before it reads sleeping,
		// so either it sees sleeping and wakes us, or we see its work here
		// and do not block. The last release of a clock hold does the
		// same with the count of holds.
		l.publishMetrics() // an idle loop is seen exactly (metrics.go)
		l.door.sleeping.Store(true)
		parked = true
		if !l.door.q.Empty() || l.door.stopReq.Load() || (jump && l.timers.clock.released()) {
			timeout = 0
		}
	}
	if timeout != 0 || len(l.fds.watches) > 0 {
		l.direct = true
		l.metricsPollBegin()
		l.fds.poll(l, timeout)
		l.metricsPollEnd()
		l.direct = false
	}
	if parked {
		l.door.sleeping.Store(false)
		if l.dumpx != nil {
			l.dumpx.stuck.woke(l) // SetStuckReport (stuck.go)
		}
	}
	if jump {
		l.timers.clock.maybeJump(l)
	}
	if l.door.stopReq.Load() {
		l.door.stopReq.Store(false)
		l.stopping = true
	}
	l.door.drain(l, maxDrain)
	if l.timers.heap.Len() > 0 {
		l.direct = true
		l.timers.fire(l)
		l.direct = false
	}
	n := l.ready.Len()
	l.trim.note(n)
	batch := n
	if d := l.debug.on.Load(); d != nil {
		n = l.runDebug(d, n) // timed, watched; returns 0 (debug.go)
	}
	for n > 0 {
		n = l.runReady(n)
	}
	l.met.noteIteration(l, batch)
}

// runReady runs the first n callbacks of the ready queue and returns how
// many of them are left to run, which is zero unless one panicked. The one
// deferred recover covers the whole batch, so a callback costs no defer; after
// a panic the caller calls runReady again for the rest.
func (l *Loop) runReady(n int) (rest int) {
	rest = n
	finished := false
	defer func() {
		if finished {
			return // the common case: no recover call at all
		}
		if r := recover(); r != nil {
			// Right after the callback that panicked, before the next
			// one, as asyncio reports an exception from a callback.
			l.reportNow(ErrorContext{Message: "aio: panic in callback", Err: newPanicError(r)})
		}
	}()
	for rest > 0 {
		r, _ := l.ready.PopFront()
		rest--
		switch {
		case r.cb != nil:
			// A record's call, run from the ready queue: the record goes back to
			// the pool first, so that the call may schedule again without
			// allocating. Written out here: this is the loop's hottest path.
			cb := r.cb
			if cb.state != cbScheduled {
				l.pool.put(cb) // cancelled while queued
				continue
			}
			fn := cb.fn
			l.pool.put(cb)
			l.met.callbacks++
			fn()
		case r.task != nil:
			l.step(r.task)
		case r.fn != nil:
			l.met.callbacks++
			r.fn() // a CallSoon from another goroutine, or an internal call
		}
		// An all-zero entry is a cancelled CallSoon from another goroutine.
	}
	finished = true
	return 0
}

// ready is an entry of the ready queue: a callback record, a task to step,
// or a function with, for a CallSoon from another goroutine, its door
// position. Task steps need no record: a task is stepped at most once per
// suspension (see Ctx.wake), so there is nothing to cancel or recycle. Nor
// do calls from the door: their Handle names them by position, and
// cancelling one blanks its entry. An all-zero entry is skipped.
type ready struct {
	cb     *callback
	task   *Ctx
	fn     func()
	ticket uint64 // 1 + the door position of fn, or 0
}

// report passes ctx to the error handler in a callback of its own, in the
// next batch: the handler, which is user code, never runs inside the loop's
// machinery or inside a user's call (a completion that arrives through the
// door, a stale registration found by the poller). Loop goroutine only.
func (l *Loop) report(ec ErrorContext) {
	l.ready.PushBack(ready{fn: func() { l.reportNow(ec) }})
}

// pollError reports an error of the poller's Wait.
func (l *Loop) pollError(err error) {
	if se, ok := err.(*poll.StaleError); ok {
		l.report(ErrorContext{
			Message: "aio: file descriptors were closed while watched, and a duplicate kept them in the poller; they are no longer watched",
			Err:     fmt.Errorf("aio: fds %v: %w", se.FDs, err),
		})
		return
	}
	l.report(ErrorContext{Message: "aio: poller wait failed", Err: err})
}
