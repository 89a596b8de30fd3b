package executor

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// idleTimeout is how long a worker of a Pool waits for work before it exits.
const idleTimeout = 5 * time.Second

// spinFor is how long a Pool's spinner polls for a job before it parks (see
// Pool.spin): the CPU a Pool may burn after each function, on one P.
const spinFor = 20 * time.Microsecond

// A Pool is a bounded pool of worker goroutines: the default executor of a
// loop, and an Executor of its own for any program. At most Size functions
// run at once; the others wait in a FIFO queue, which Submit appends to
// without blocking. Workers are started when work arrives and exit after a
// few seconds without work, so an idle Pool holds no goroutine. A worker
// that runs out of work first spins for up to 20 microseconds (one worker
// per Pool at a time, yielding its P, and none when GOMAXPROCS is 1), so
// that a function submitted soon after starts without a goroutine wake-up.
//
// A Pool is safe for use by any number of goroutines and loops. Make one
// with NewPool; the zero Pool is not usable.
type Pool struct {
	mu      sync.Mutex
	size    int
	workers map[*worker]struct{} // the live workers
	idle    []*worker            // workers waiting for work, last idle last
	queue   []*job               // pending submissions, FIFO from head
	head    int
	closed  bool          // Shutdown was called: no more submissions
	done    chan struct{} // closed once closed, no worker is left and the queue is empty
	spinner *worker       // the idle worker in spin, if any: Submit's first choice
	// waking counts the workers readied or started by Submit that have not
	// run yet: a spinner that sees one stops, to leave them its P.
	waking atomic.Int32
}

// A job is one submitted function, with what Shutdown needs to report it.
type job struct {
	fn      func()
	pc      uintptr     // the function to name in reports
	drop    func(error) // called instead of fn when Shutdown discards the job; may be nil
	started time.Time   // when a worker took it
}

// name returns the name of the job's function, for reports.
func (j *job) name() string {
	if f := runtime.FuncForPC(j.pc); f != nil {
		return f.Name()
	}
	return "?"
}

type worker struct {
	work  chan *job // hands a job to an idle worker; nil job: exit
	cur   *job      // the job running, nil if none (under Pool.mu)
	timer *time.Timer
	// waking: Submit readied the worker and counted it in Pool.waking;
	// the worker uncounts itself once it has the job.
	waking atomic.Bool
}

// NewPool returns a Pool that runs at most size functions at once. A size
// below 1 is refused with an error matching ErrBadSize.
func NewPool(size int) (*Pool, error) {
	if size < 1 {
		return nil, fmt.Errorf("%w: NewPool(%d)", ErrBadSize, size)
	}
	return &Pool{size: size, workers: make(map[*worker]struct{}), done: make(chan struct{})}, nil
}

// Size returns the most functions p runs at once.
func (p *Pool) Size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.size
}

// SetSize changes the most functions p runs at once. Growing starts workers
// for the queued functions at once; shrinking lets the surplus workers
// finish their current function, then exit. A size below 1 is refused with
// an error matching ErrBadSize.
func (p *Pool) SetSize(size int) error {
	if size < 1 {
		return fmt.Errorf("%w: SetSize(%d)", ErrBadSize, size)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.size = size
	for len(p.workers) < p.size && p.queued() > 0 {
		p.startLocked(p.pop())
	}
	for len(p.workers) > p.size && len(p.idle) > 0 {
		w := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if w == p.spinner {
			p.spinner = nil
		}
		w.work <- nil // it looks again, and exits
	}
	return nil
}

// Len returns the number of submitted functions waiting for a worker.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued()
}

// Running returns the number of functions running.
func (p *Pool) Running() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for w := range p.workers {
		if w.cur != nil {
			n++
		}
	}
	return n
}

// Workers returns the number of worker goroutines alive, running or idle.
func (p *Pool) Workers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.workers)
}

// Submit arranges for task to run on a worker: at once if one is idle or
// fewer than Size are alive, else when one frees, after the functions
// submitted before it. It never blocks. It returns an error matching
// aio.ErrNilFunc for a nil task and ErrShutdown once Shutdown was called.
func (p *Pool) Submit(task func()) error {
	return p.submit(task, funcPC(task), nil, false)
}

// TrySubmit is Submit that fails fast: if every worker is busy and Size are
// alive, it returns an error matching ErrFull and task is not queued.
func (p *Pool) TrySubmit(task func()) error {
	return p.submit(task, funcPC(task), nil, true)
}

func funcPC(fn any) uintptr {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return 0
	}
	return v.Pointer()
}

// submit is Submit and TrySubmit; pc names the function in reports, and
// drop, if not nil, is called in place of fn when Shutdown discards it.
func (p *Pool) submit(fn func(), pc uintptr, drop func(error), try bool) error {
	if fn == nil {
		return fmt.Errorf("%w: Pool.Submit", ErrNilFunc)
	}
	j := &job{fn: fn, pc: pc, drop: drop}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("%w: Pool.Submit", ErrShutdown)
	}
	if n := len(p.idle); n > 0 && len(p.workers)-n < p.size {
		w := p.idle[n-1]
		if s := p.spinner; s != nil && s != w && p.removeIdle(s) {
			w = s // it takes the job without a wake-up
		} else {
			p.idle = p.idle[:n-1]
		}
		if w == p.spinner {
			p.spinner = nil
		} else {
			p.waking.Add(1) // parked: the send readies it
			w.waking.Store(true)
		}
		w.cur = j
		j.started = time.Now()
		w.work <- j // buffered; the worker takes it
		return nil
	}
	if len(p.workers) < p.size {
		p.startLocked(j)
		return nil
	}
	if try {
		return fmt.Errorf("%w: %d functions running", ErrFull, p.size)
	}
	p.queue = append(p.queue, j)
	return nil
}

func (p *Pool) queued() int { return len(p.queue) - p.head }

// pop takes the first queued job. p.mu held, queue not empty.
func (p *Pool) pop() *job {
	j := p.queue[p.head]
	p.queue[p.head] = nil
	p.head++
	if p.head == len(p.queue) {
		p.queue, p.head = p.queue[:0], 0
	} else if p.head > 64 && p.head*2 > len(p.queue) {
		n := copy(p.queue, p.queue[p.head:])
		clear(p.queue[n:])
		p.queue, p.head = p.queue[:n], 0
	}
	return j
}

// startLocked starts a worker running j. p.mu held.
func (p *Pool) startLocked(j *job) {
	w := &worker{work: make(chan *job, 1), cur: j}
	j.started = time.Now()
	p.workers[w] = struct{}{}
	p.waking.Add(1)
	go p.serve(w, j)
}

// serve is a worker goroutine: it runs j, then what the queue holds, then
// waits idle for more until the idle timeout or Shutdown.
func (p *Pool) serve(w *worker, j *job) {
	p.waking.Add(-1)
	for j != nil {
		j.fn()
		j = p.next(w)
	}
}

// next returns the worker's next job, waiting idle for it; nil means exit.
func (p *Pool) next(w *worker) *job {
	p.mu.Lock()
	w.cur = nil
	for {
		if len(p.workers) > p.size || (p.closed && p.queued() == 0) {
			p.exitLocked(w)
			p.mu.Unlock()
			return nil
		}
		if p.queued() > 0 {
			j := p.pop()
			w.cur = j
			j.started = time.Now()
			p.mu.Unlock()
			return j
		}
		p.idle = append(p.idle, w)
		spin := p.spinner == nil && runtime.GOMAXPROCS(0) > 1
		if spin {
			p.spinner = w
		}
		p.mu.Unlock()
		if j, ok := p.spin(w, spin); ok {
			if j != nil {
				return j // Submit set w.cur
			}
			p.mu.Lock() // Shutdown woke us: look again
			continue
		}
		if w.timer == nil {
			w.timer = time.NewTimer(idleTimeout)
		} else {
			w.timer.Reset(idleTimeout)
		}
		select {
		case j := <-w.work:
			w.timer.Stop()
			if j != nil {
				p.woke(w)
				return j // Submit set w.cur
			}
			p.mu.Lock() // Shutdown woke us: look again
		case <-w.timer.C:
			p.mu.Lock()
			if p.removeIdle(w) {
				p.exitLocked(w)
				p.mu.Unlock()
				return nil
			}
			// Submit or Shutdown picked us meanwhile: take what it sent.
			p.mu.Unlock()
			if j := <-w.work; j != nil {
				p.woke(w)
				return j
			}
			p.mu.Lock()
		}
	}
}

// spin is the first part of an idle wait, for the worker that became p's
// spinner (at most one at a time, and none with one P only): it polls its
// channel for up to spinFor, yielding the P between looks, before it
// parks. A job that Submit gives it meanwhile is taken without waking a
// goroutine: see docs/benchmarks.md ("Blocking code and processes"). ok
// reports that the channel gave j (nil: look again).
func (p *Pool) spin(w *worker, spin bool) (j *job, ok bool) {
	if !spin {
		return nil, false
	}
	t0 := time.Now()
	for {
		select {
		case j := <-w.work:
			return j, true
		default:
		}
		if p.waking.Load() > 0 || time.Since(t0) >= spinFor {
			break
		}
		runtime.Gosched()
	}
	p.mu.Lock()
	if p.spinner == w {
		p.spinner = nil
	}
	p.mu.Unlock()
	return nil, false // a job sent since the last look waits in the channel
}

// woke uncounts w from p.waking if Submit counted it there.
func (p *Pool) woke(w *worker) {
	if w.waking.Swap(false) {
		p.waking.Add(-1)
	}
}

// removeIdle takes w off the idle list and reports whether it was there.
func (p *Pool) removeIdle(w *worker) bool {
	for i, x := range p.idle {
		if x == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return true
		}
	}
	return false
}

// exitLocked forgets w, and closes done if it was the last of a shut-down
// pool. p.mu held.
func (p *Pool) exitLocked(w *worker) {
	delete(p.workers, w)
	p.checkDoneLocked()
}

func (p *Pool) checkDoneLocked() {
	if p.closed && len(p.workers) == 0 && p.queued() == 0 {
		select {
		case <-p.done:
		default:
			close(p.done)
		}
	}
}

// Shutdown stops p from accepting functions (Submit returns ErrShutdown
// from then on) and waits until the running and queued functions have all
// returned and every worker has exited, or until ctx is done. It is
// asyncio's shutdown_default_executor(timeout).
//
// If ctx ends first, the queued functions are discarded (they never run),
// the running ones go on (Go cannot stop a goroutine; their workers exit
// when they return), and Shutdown returns an *UnfinishedError, matching
// ErrUnfinished and ctx's cause, that names them. Calling Shutdown again
// waits again. A nil ctx is refused with aio.ErrNilContext.
func (p *Pool) Shutdown(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("%w: Pool.Shutdown", ErrNilContext)
	}
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		for _, w := range p.idle {
			w.work <- nil
		}
		p.idle, p.spinner = nil, nil
		p.checkDoneLocked()
	}
	p.mu.Unlock()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	select {
	case <-p.done:
		p.mu.Unlock()
		return nil
	default:
	}
	ue := &UnfinishedError{Cause: context.Cause(ctx)}
	now := time.Now()
	for w := range p.workers {
		if w.cur != nil {
			ue.Running = append(ue.Running, Unfinished{Func: w.cur.name(), For: now.Sub(w.cur.started)})
		}
	}
	sort.Slice(ue.Running, func(i, k int) bool { return ue.Running[i].For > ue.Running[k].For })
	var dropped []*job
	for p.queued() > 0 {
		j := p.pop()
		ue.Queued = append(ue.Queued, Unfinished{Func: j.name()})
		dropped = append(dropped, j)
	}
	p.checkDoneLocked()
	p.mu.Unlock()
	for _, j := range dropped {
		if j.drop != nil {
			j.drop(fmt.Errorf("%w: discarded, never run", ErrShutdown))
		}
	}
	return ue
}

// Unfinished names a function that a Shutdown did not see finish.
type Unfinished struct {
	Func string        // the function's name, as runtime.FuncForPC gives it
	For  time.Duration // how long it had been running (zero for a queued one)
}

// UnfinishedError is the error of a Shutdown that ended before the pool's
// functions did. It matches ErrUnfinished and unwraps to Cause.
type UnfinishedError struct {
	Running []Unfinished // still running, longest first
	Queued  []Unfinished // discarded before they ran, in queue order
	Cause   error        // why the wait ended: the cause of Shutdown's ctx
}

// Error lists the functions.
func (e *UnfinishedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: %d running, %d queued", ErrUnfinished, len(e.Running), len(e.Queued))
	for _, u := range e.Running {
		fmt.Fprintf(&b, "; %s (running for %v)", u.Func, u.For.Round(time.Millisecond))
	}
	for _, u := range e.Queued {
		fmt.Fprintf(&b, "; %s (queued, discarded)", u.Func)
	}
	if e.Cause != nil {
		fmt.Fprintf(&b, " (%v)", e.Cause)
	}
	return b.String()
}

// Is reports target == ErrUnfinished.
func (e *UnfinishedError) Is(target error) bool { return target == ErrUnfinished }

// Unwrap returns Cause.
func (e *UnfinishedError) Unwrap() error { return e.Cause }
