package aio

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiogo/aio/aio/internal/heap"
	"github.com/aiogo/aio/aio/internal/mpsc"
	"github.com/aiogo/aio/aio/internal/poll"
	"github.com/aiogo/aio/aio/internal/ring"
)

// Loop states, kept in Loop.state.
const (
	stateIdle    int32 = iota // created, or between runs
	stateRunning              // inside RunForever or RunUntil
	stateClosed               // closed; final
)

// maxPooled is what the loop's pool of callback records is trimmed to when
// the loop goes idle. While busy the pool keeps every record it gets back,
// so a burst of 100k timers that are then cancelled (or fire) serves the
// next burst without allocating; when the loop is about to park, the pool
// gives back what exceeds maxPooled, so a burst does not pin its records
// for the loop's life.
const maxPooled = 8192

// A Loop is an event loop: it runs callbacks when they are due, fires timers,
// watches file descriptors, and resumes tasks when what they await is ready,
// all on one goroutine pinned to one OS thread. Create one with NewLoop, run
// it with RunForever or RunUntil (or use Run, which does all of it), and close
// it with Close.
//
// Methods say from which goroutines they may be called; see "Goroutines" in
// the package documentation.
type Loop struct {
	// Shared with other goroutines; every access is atomic or immutable.
	state      atomic.Int32
	loopG      atomic.Uintptr // curg of the goroutine running the loop; 0 when not running
	taskG      atomic.Uintptr // curg of the task coroutine resumed last (see step); 0 if none
	sleeping   atomic.Bool    // the loop is parked, or about to park, in the poller
	door       mpsc.Queue[doorItem]
	poller     *poll.Poller
	closed     chan struct{} // closed by Close
	base       time.Time     // the loop clock's zero; immutable
	errHandler atomic.Pointer[ErrorHandler]

	// Loop goroutine only.
	ready    ring.Ring[ready]
	timers   heap.Heap[*callback]
	free     *callback // pool of records, linked through next
	nfree    int
	stopping bool
	events   []poll.Event
	fds      map[int]*fdWatch
	stopFn   func()
	doorPos  uint64              // door position of the next item to drain
	dropped  map[uint64]struct{} // positions cancelled before they were drained
	ticket   *callback           // marker record of ticket Handles (cbTicket)

	// The binding to one goroutine and its OS thread. A run locks the thread;
	// the lock is kept after the run while any task coroutine exists, because
	// the runtime resumes a coroutine only on the thread that created it.
	// Written only while the loop is not running or by the loop goroutine.
	home    atomic.Uint64 // id of the goroutine that holds the lock (see goid); 0 if none
	closeMu sync.Mutex    // serialises Close (never taken by a running loop)
	coros   int           // live task coroutines (running, suspended or pooled)
	tasks   taskSet       // live tasks: spawned and not done
	current *Ctx          // the task being resumed, nil otherwise
	cpool   coroPool
	failed  []*Ctx // tasks that failed, to report if nobody retrieves the error
	runErr  error  // set when a run ended abnormally (runtime.Goexit in a task)
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
		base:   time.Now(),
		events: make([]poll.Event, 128),
		fds:    make(map[int]*fdWatch),
	}
	l.stopFn = func() { l.stopping = true }
	l.ticket = &callback{loop: l, state: cbTicket}
	l.SetErrorHandler(nil)
	return l, nil
}

// onLoop reports whether the caller runs on the loop: on the goroutine
// running it, or in the task coroutine the loop is resuming. It costs a few
// nanoseconds, so every method that touches loop state checks it.
func (l *Loop) onLoop() bool {
	g := curg()
	return g == l.loopG.Load() || g == l.taskG.Load()
}

// IsRunning reports whether the loop is running. Any goroutine.
func (l *Loop) IsRunning() bool { return l.state.Load() == stateRunning }

// IsClosed reports whether Close has been called. Any goroutine.
func (l *Loop) IsClosed() bool { return l.state.Load() == stateClosed }

// Closed returns a channel that is closed when the loop is closed. Any
// goroutine.
func (l *Loop) Closed() <-chan struct{} { return l.closed }

// Now returns the current time on the loop's clock. The clock is monotonic:
// it is the time the loop was created plus the monotonic time elapsed since,
// so it never goes backwards even if the wall clock is changed. Deadlines of
// CallAt and Handle.When are on this clock. Any goroutine.
func (l *Loop) Now() time.Time { return l.timeAt(l.now()) }

// now returns loop time in nanoseconds since l.base.
func (l *Loop) now() int64 { return int64(time.Since(l.base)) }

// timeAt converts loop nanoseconds to a Time.
func (l *Loop) timeAt(ns int64) time.Time { return l.base.Add(time.Duration(ns)) }

// RunForever runs the loop until Stop is called. It returns nil after a
// Stop; ErrClosed if the loop is closed; ErrRunning if the loop is already
// running, including when RunForever is called from one of the loop's own
// callbacks or tasks; and an error wrapping ErrNotOnLoop if suspended tasks
// bind the loop to another goroutine's thread (see Close).
//
// The calling goroutine becomes the loop goroutine: it is locked to its OS
// thread for the run (runtime.LockOSThread) and blocks only in the poller.
func (l *Loop) RunForever() error { return l.run("RunForever", nil) }

// RunUntil runs the loop until done reports true, or Stop is called. done is
// called on the loop goroutine before the first iteration and after each
// one. It returns errors as RunForever does, and ErrNilFunc if done is nil.
func (l *Loop) RunUntil(done func() bool) error {
	if done == nil {
		return ErrNilFunc
	}
	return l.run("RunUntil", done)
}

// Stop makes a running loop return from RunForever or RunUntil once the
// callbacks of the current iteration have run. If the loop is not running,
// the next run performs one iteration (polling without blocking) and
// returns. Stop may be called from any goroutine; it returns ErrClosed on a
// closed loop.
func (l *Loop) Stop() error {
	if l.onLoop() {
		l.stopping = true
		return nil
	}
	return l.post(l.stopFn)
}

func (l *Loop) run(method string, done func() bool) (err error) {
	if err := l.enter(method); err != nil {
		return err
	}
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
	normal = true
	return nil
}

// enter moves the loop from idle to running and makes the caller the loop
// goroutine.
func (l *Loop) enter(method string) error {
	g := curg()
	if l.onLoop() {
		return fmt.Errorf("%w: %s called from inside the loop", ErrRunning, method)
	}
	if onAnyLoop(g) {
		// Another loop is running on this goroutine, or this is one of
		// its tasks. A nested run would stall the outer loop, and its
		// thread lock would break the runtime's coroutine rules (a fatal
		// error, not a panic). asyncio refuses this too.
		return fmt.Errorf("%w: %s called from a callback or task of another running loop", ErrRunning, method)
	}
	if !l.state.CompareAndSwap(stateIdle, stateRunning) {
		if l.state.Load() == stateClosed {
			return ErrClosed
		}
		return ErrRunning
	}
	// The CAS orders this run after the previous run's leave, so the
	// loop-only fields below are ours now. The home goroutine is named by
	// its id, never reused (see goid): a goroutine that exited with tasks
	// still bound must not be mistaken for a newcomer that got its g.
	id := goid()
	if h := l.home.Load(); h != 0 && h != id {
		l.state.Store(stateIdle)
		return fmt.Errorf("%w: %s: %d suspended tasks are bound to the OS thread of the goroutine that last ran the loop; run it from that goroutine",
			ErrNotOnLoop, method, l.tasks.len())
	}
	if l.home.Load() == 0 {
		running.pin()
		l.home.Store(id)
	}
	l.loopG.Store(g)
	running.add(l)
	return nil
}

// running is the set of loops inside a run, so that a run can refuse to
// start inside a callback or task of any of them, and the count of loops
// bound to each goroutine's thread. It is used only when runs start and end,
// so a mutex is fine.
var running = runningLoops{loops: make(map[*Loop]struct{}), pins: make(map[uint64]int)}

type runningLoops struct {
	mu    sync.Mutex
	loops map[*Loop]struct{}
	pins  map[uint64]int // goroutine id -> loops bound to its thread
}

// pin locks the calling goroutine to its thread for one more loop. The
// thread is locked once, however many loops are bound to it: the runtime
// resumes a coroutine only if the thread's lock count is what it was when
// the coroutine was made, so a second loop must not change the count that
// the first one's coroutines were made with. The map is keyed by goroutine
// id, never reused, rather than by curg, whose g may be reused by a new
// goroutine if this one exits with a loop still bound.
func (r *runningLoops) pin() {
	g := goid()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pins[g] == 0 {
		runtime.LockOSThread()
	}
	r.pins[g]++
}

// unpin releases one loop's hold on the calling goroutine's thread.
func (r *runningLoops) unpin() {
	g := goid()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pins[g]--; r.pins[g] <= 0 {
		delete(r.pins, g)
		runtime.UnlockOSThread()
	}
}

// forget drops the pins of the calling goroutine, which is exiting with
// its thread.
func (r *runningLoops) forget() {
	g := goid()
	r.mu.Lock()
	delete(r.pins, g)
	r.mu.Unlock()
}

func (r *runningLoops) add(l *Loop) {
	r.mu.Lock()
	r.loops[l] = struct{}{}
	r.mu.Unlock()
}

func (r *runningLoops) remove(l *Loop) {
	r.mu.Lock()
	delete(r.loops, l)
	r.mu.Unlock()
}

// onAnyLoop reports whether goroutine g is running some loop, or is the
// task coroutine that some loop is resuming.
func onAnyLoop(g uintptr) bool {
	running.mu.Lock()
	defer running.mu.Unlock()
	for l := range running.loops {
		if l.loopG.Load() == g || l.taskG.Load() == g {
			return true
		}
	}
	return false
}

// leave ends a run normally: the thread is unlocked unless task coroutines
// still need it.
func (l *Loop) leave() {
	running.remove(l)
	l.cpool.drain(l)
	l.loopG.Store(0)
	if l.coros == 0 {
		l.home.Store(0)
		running.unpin()
	}
	l.state.Store(stateIdle)
}

// abandon ends a run that is unwinding without returning: a task body or a
// callback called runtime.Goexit (t.FailNow in a test does), or the loop
// itself panicked. The loop cannot continue on a goroutine that is going
// away, so it is closed; the error is reported and kept for Run.
func (l *Loop) abandon() {
	running.remove(l)
	running.forget()
	l.loopG.Store(0)
	l.taskG.Store(0)
	if l.runErr == nil {
		l.runErr = fmt.Errorf("%w: the loop goroutine exited during a run (runtime.Goexit in a task or callback, or a panic in the loop); %d tasks were abandoned",
			ErrClosed, l.tasks.len())
	}
	l.ReportError(ErrorContext{Message: "aio: loop abandoned", Err: l.runErr})
	// The goroutine exits still locked, so the runtime retires its thread
	// with every coroutine bound to it; nothing can resume them.
	l.coros = 0
	l.home.Store(0)
	l.state.Store(stateClosed)
	l.shutdown()
}

// Close closes the loop: later scheduling fails with ErrClosed, callbacks
// and timers still pending are dropped, goroutines waiting for the loop's
// futures are released with ErrClosed, and the poller is closed. Close
// returns ErrRunning if the loop is running. Closing a closed loop returns
// nil, unless the first Close left work for this call (below).
//
// Tasks still suspended are unwound: each pending Await returns a
// *CancelledError whose cause is ErrClosed, and the task body runs to its
// end. This must happen on the OS thread that created the tasks, so Close
// must then be called from the goroutine that last ran the loop, which
// stays locked to its thread until it does. Called from another goroutine,
// Close closes everything else and returns an error wrapping ErrNotOnLoop
// that says how many tasks are left suspended; a later Close on the
// goroutine that ran the loop unwinds them and unlocks its thread. Run
// closes its loop itself, so this concerns only loops run by hand.
func (l *Loop) Close() error {
	if l.onLoop() {
		return fmt.Errorf("%w: Close called from inside the loop", ErrRunning)
	}
	l.closeMu.Lock()
	defer l.closeMu.Unlock()
	first := false
	for !first {
		switch l.state.Load() {
		case stateRunning:
			return ErrRunning
		case stateIdle:
			first = l.state.CompareAndSwap(stateIdle, stateClosed)
			continue
		}
		break // closed before: only the work a refused Close left remains
	}
	id := goid()
	var err error
	if l.coros > 0 {
		if id == l.home.Load() {
			l.unwindTasks()
			l.ready.Clear() // the steps and callbacks the unwinding queued
		} else {
			err = fmt.Errorf("%w: Close: %d suspended tasks belong to the OS thread of the goroutine that ran the loop; call Close from that goroutine to unwind them",
				ErrNotOnLoop, l.tasks.len())
		}
	}
	if l.coros == 0 && id == l.home.Load() {
		running.unpin()
		l.home.Store(0)
	}
	if first {
		l.reportFailed()
		l.shutdown()
	}
	return err
}

// shutdown releases what a closed loop holds.
func (l *Loop) shutdown() {
	l.ready.Clear()
	for l.timers.Pop() != nil {
	}
	for {
		if _, ok := l.door.Pop(); !ok {
			break
		}
	}
	l.free, l.nfree = nil, 0
	clear(l.fds)
	l.poller.Close()
	close(l.closed) // once: shutdown runs at the loop's only move to closed
}

// runOnce is one iteration, as in asyncio's _run_once and libuv's uv_run:
// compute the poll timeout, poll, drain the door, move due timers to the
// ready queue, then run the callbacks that are ready at that point. Callbacks
// scheduled while they run wait for the next iteration, after the next poll.
func (l *Loop) runOnce() {
	var timeout time.Duration // zero: work is ready, do not block
	if l.ready.Len() == 0 && !l.stopping {
		timeout = -1 // nothing pending: block until woken
		if e := l.timers.Peek(); e != nil {
			// Compare before subtracting: a deadline far in the past
			// (CallAt of the zero Time) would overflow the difference.
			timeout = 0
			if now, when := l.now(), e.When(); when > now {
				timeout = time.Duration(when - now)
			}
		}
	}
	parked := false
	if timeout != 0 {
		if l.nfree > maxPooled {
			l.trimPool() // going idle: give back what a burst left
		}
		// Publish that we are about to park, then look at the door again.
		// A producer pushes before it reads sleeping, so either it sees
		// sleeping and wakes us, or we see its item here and do not block.
		l.sleeping.Store(true)
		parked = true
		if !l.door.Empty() {
			timeout = 0
		}
	}
	// With work ready and no descriptor watched, the poll has nothing to
	// report: skip the syscall. A pending wake-up stays armed in the poller
	// and is consumed by the next blocking poll, so none is lost.
	if timeout != 0 || len(l.fds) > 0 {
		n, err := l.poller.Wait(l.events, timeout)
		if err != nil {
			l.ReportError(ErrorContext{Message: "aio: poller wait failed", Err: err})
		}
		l.dispatchIO(l.events[:n])
		if n == len(l.events) && n < 4096 {
			l.events = make([]poll.Event, 2*n)
		}
	}
	if parked {
		l.sleeping.Store(false)
	}
	l.drainDoor(maxDrain)
	if l.timers.Len() > 0 {
		now := l.now()
		for e := l.timers.Peek(); e != nil && e.When() <= now; e = l.timers.Peek() {
			l.timers.Pop()
			l.ready.PushBack(ready{cb: e.Value})
		}
	}
	for n := l.ready.Len(); n > 0; {
		n = l.runReady(n)
	}
}

// doorItem is what other goroutines send through the door: a record (a
// timer, or an internal command), or just the function of a CallSoon, which
// goes into the ready queue as it is. Sending the function alone keeps
// cross-goroutine submission free of allocation; the caller's Handle names
// the call by its door position instead.
type doorItem struct {
	cb *callback
	fn func()
}

// maxDrain bounds the door items an iteration takes in. Producers that
// outpace the loop would otherwise pour everything they sent into the ready
// queue at once (growing it without bound, which a channel's buffer never
// lets happen); the rest waits in the door for the next iteration, which
// polls without blocking.
const maxDrain = 4096

// drainDoor moves up to max items that other goroutines sent to the loop's
// queues.
func (l *Loop) drainDoor(max int) {
	for range max {
		it, ok := l.door.Pop()
		if !ok {
			return
		}
		pos := l.doorPos
		l.doorPos++
		if it.cb == nil {
			if len(l.dropped) > 0 {
				if _, ok := l.dropped[pos]; ok {
					delete(l.dropped, pos) // cancelled while in the door
					continue
				}
			}
			l.ready.PushBack(ready{fn: it.fn, ticket: pos + 1})
			continue
		}
		cb := it.cb
		switch {
		case cb.state == cbCommand:
			// Internal requests (cancel, stop, complete a future) do not
			// run user code, so they act at once.
			cb.fn()
		case cb.state == cbCancelled:
			// Cancelled on the loop while it was still in the door.
			l.recycle(cb)
		case cb.due == noDeadline:
			l.ready.PushBack(ready{cb: cb})
		default:
			l.timers.Push(&cb.timer, cb.due)
		}
	}
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
			l.ReportError(ErrorContext{Message: "aio: panic in callback", Err: newPanicError(r)})
		}
	}()
	for rest > 0 {
		r, _ := l.ready.PopFront()
		rest--
		if r.fn != nil {
			r.fn() // a CallSoon from another goroutine
			continue
		}
		if r.task != nil {
			l.step(r.task)
			continue
		}
		cb := r.cb
		if cb == nil {
			continue // a CallSoon from another goroutine, cancelled
		}
		if cb.state != cbScheduled {
			l.recycle(cb) // cancelled while queued
			continue
		}
		fn, t := cb.fn, cb.task
		l.recycle(cb)
		switch {
		case t == nil:
			fn()
		case t.state == taskSuspended && !t.woken:
			// A Sleep timer: resume the task now, unless something else
			// already woke it.
			t.woken = true
			l.step(t)
		}
	}
	finished = true
	return 0
}

// get takes a record from the pool, or makes one, for fn.
func (l *Loop) get(fn func()) *callback {
	cb := l.free
	if cb != nil {
		l.free = cb.next
		l.nfree--
		cb.next = nil
	} else {
		cb = l.newCallback()
	}
	cb.fn = fn
	cb.state = cbScheduled
	return cb
}

// newCallback makes a record; any goroutine may call it.
func (l *Loop) newCallback() *callback {
	cb := &callback{loop: l, due: noDeadline}
	cb.timer.Value = cb
	return cb
}

// recycle returns a record whose call is about to run to the pool. The
// generation changes first, so the record's Handles go stale.
func (l *Loop) recycle(cb *callback) {
	cb.fn, cb.task = nil, nil
	cb.gen++
	cb.state = cbFree
	cb.due = noDeadline
	cb.next = l.free
	l.free = cb
	l.nfree++
}

// trimPool shortens the record pool to maxPooled records.
func (l *Loop) trimPool() {
	cb := l.free
	for range maxPooled - 1 {
		cb = cb.next
	}
	cb.next = nil
	l.nfree = maxPooled
}

// cancel cancels the record's call if generation gen of it is still
// pending. A timer leaves the heap and its record is reused at once; a
// record in the ready queue or the door is marked, and reused when the loop
// dequeues it. Loop goroutine only.
func (l *Loop) cancel(cb *callback, gen uint64) {
	if cb.gen != gen || cb.state != cbScheduled {
		return
	}
	if l.timers.Remove(&cb.timer) {
		l.recycle(cb)
		return
	}
	cb.state = cbCancelled
	cb.fn, cb.task = nil, nil
}

// cancelTicket cancels the CallSoon that another goroutine sent through the
// door at position pos, if it has not run. Loop goroutine only.
func (l *Loop) cancelTicket(pos uint64) {
	if pos >= l.doorPos {
		// Still in the door: drop it when it is drained.
		if l.dropped == nil {
			l.dropped = make(map[uint64]struct{})
		}
		l.dropped[pos] = struct{}{}
		return
	}
	// Drained: it waits in the ready queue (drained calls run in the same
	// or the next iteration), or it has run.
	for i := range l.ready.Len() {
		if l.ready.At(i).ticket == pos+1 {
			l.ready.Set(i, ready{})
			return
		}
	}
}

// soon queues fn to run in the next batch. Loop goroutine only; it
// allocates nothing in steady state.
func (l *Loop) soon(fn func()) {
	l.ready.PushBack(ready{cb: l.get(fn)})
}

// ready is an entry of the ready queue: a callback record, a task to step,
// or the function of a CallSoon from another goroutine with its door
// position. Task steps need no record: a task is stepped at most once per
// suspension (see Ctx.wake), so there is nothing to cancel or recycle. Nor
// do calls from the door: their Handle names them by position, and
// cancelling one blanks its entry. An all-zero entry is skipped.
type ready struct {
	cb     *callback
	task   *Ctx
	fn     func()
	ticket uint64 // 1 + the door position of fn
}

// post sends an internal request through the door from any goroutine. The
// request runs on the loop goroutine as soon as the loop drains the door.
func (l *Loop) post(fn func()) error {
	cb := l.newCallback()
	cb.fn, cb.state = fn, cbCommand
	_, err := l.send(doorItem{cb: cb})
	return err
}

// send pushes an item through the door, wakes the loop if it is parked, and
// returns the item's door position.
func (l *Loop) send(it doorItem) (uint64, error) {
	if l.state.Load() == stateClosed {
		return 0, ErrClosed
	}
	pos := l.door.Push(it)
	// The push is complete before this load: see runOnce for the other half.
	if l.sleeping.Load() {
		l.poller.Wake()
	}
	return pos, nil
}
