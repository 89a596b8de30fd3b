package executor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiogo/aio/aio"
)

// DefaultPoolSize returns the size of a loop's default pool unless
// SetPoolSize says otherwise: min(32, GOMAXPROCS+4), as Python's
// ThreadPoolExecutor. Blocking calls mostly wait (on a file, a syscall, a C
// library, a lock), so more of them than GOMAXPROCS can usefully be under
// way; the +4 keeps a few for waiting calls on a small machine, and the cap
// keeps CPU-heavy calls from piling threads onto a large one.
func DefaultPoolSize() int {
	return min(32, runtime.GOMAXPROCS(0)+4)
}

// loopState is what the package keeps per loop: its default executor,
// the base context of its calls, and its counters. It is made at the first
// use and closed by the loop's close hook (see states).
type loopState struct {
	loop   *aio.Loop
	q      aio.WaitQueue // for CheckTask only
	ctx    context.Context
	cancel context.CancelCauseFunc
	stats  counters

	mu      sync.Mutex
	exec    Executor // set by SetDefault; nil: the pool
	pool    *Pool    // the default pool, made at first use
	size    int      // the default pool's size; 0: DefaultPoolSize
	timeout time.Duration
	closed  bool
}

type counters struct {
	submitted, started, skipped, late, delivered atomic.Int64
}

// states is each loop's *loopState (aio.LoopValue): made at the first use
// from any goroutine, closed by the loop's close hook, after which the loop
// keeps nothing of the package.
var states = aio.NewLoopValue(newLoopState, func(_ *aio.Loop, st *loopState) { st.close() })

// stateOf returns l's state, making it at the first call.
func stateOf(l *aio.Loop) (*loopState, error) {
	if l == nil {
		return nil, fmt.Errorf("%w: executor", aio.ErrNoLoop)
	}
	return states.Get(l)
}

// newLoopState makes l's state; on a closed loop it makes none.
func newLoopState(l *aio.Loop) (*loopState, error) {
	if l.IsClosed() {
		return nil, fmt.Errorf("%w: executor", aio.ErrClosed)
	}
	st := &loopState{loop: l, timeout: aio.DefaultShutdownTimeout}
	st.ctx, st.cancel = context.WithCancelCause(context.Background())
	return st, nil
}

// executor returns the loop's default executor, making the pool if need be.
func (st *loopState) executor() (Executor, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return nil, fmt.Errorf("%w: executor", aio.ErrClosed)
	}
	if st.exec != nil {
		return st.exec, nil
	}
	if st.pool == nil {
		size := st.size
		if size == 0 {
			size = DefaultPoolSize()
		}
		p, err := NewPool(size)
		if err != nil {
			return nil, err
		}
		st.pool = p
	}
	return st.pool, nil
}

// close is the loop's close hook: it cancels the contexts of the loop's
// calls, shuts the default pool down bounded by the shutdown timeout, and
// reports each function that did not finish.
func (st *loopState) close() {
	st.cancel(aio.ErrClosed)
	st.mu.Lock()
	st.closed = true
	p, d := st.pool, st.timeout
	st.mu.Unlock()
	if p == nil {
		return
	}
	ctx := context.Background()
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d,
			fmt.Errorf("%w: executor: the loop's shutdown timeout (%v) passed", context.DeadlineExceeded, d))
		defer cancel()
	}
	err := p.Shutdown(ctx)
	var ue *UnfinishedError
	if !errors.As(err, &ue) {
		return
	}
	// A close hook runs as loop code: report each unfinished function
	// through the loop's error handler.
	for _, u := range ue.Running {
		st.loop.ReportError(aio.ErrorContext{
			Message: "executor: a function did not finish before the loop closed",
			Err:     &UnfinishedError{Running: []Unfinished{u}, Cause: ue.Cause},
		})
	}
	for _, u := range ue.Queued {
		st.loop.ReportError(aio.ErrorContext{
			Message: "executor: a queued function was discarded when the loop closed",
			Err:     &UnfinishedError{Queued: []Unfinished{u}, Cause: ue.Cause},
		})
	}
}

// SetDefault sets e as the default executor of l, for the calls of Run and
// Go that give no WithExecutor. A nil e restores the default pool. The
// loop's close does not shut e down (the program owns it), but it does
// cancel the contexts of the functions it runs for l's calls. SetDefault
// may be called from any goroutine; on a closed loop it returns an error
// matching aio.ErrClosed.
func SetDefault(l *aio.Loop, e Executor) error {
	st, err := stateOf(l)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed {
		return fmt.Errorf("%w: SetDefault", aio.ErrClosed)
	}
	st.exec = e
	return nil
}

// Default returns l's default executor: the one SetDefault set, or the
// loop's default *Pool, made at the first call (DefaultPoolSize workers at
// most, or SetPoolSize's). It returns an error matching aio.ErrClosed on a
// closed loop. Any goroutine.
func Default(l *aio.Loop) (Executor, error) {
	st, err := stateOf(l)
	if err != nil {
		return nil, err
	}
	return st.executor()
}

// SetPoolSize sets the size of l's default pool, made or not yet. A size
// below 1 is refused with an error matching ErrBadSize. Any goroutine.
func SetPoolSize(l *aio.Loop, size int) error {
	if size < 1 {
		return fmt.Errorf("%w: SetPoolSize(%d)", ErrBadSize, size)
	}
	st, err := stateOf(l)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.size = size
	if st.pool != nil {
		return st.pool.SetSize(size)
	}
	return nil
}

// SetShutdownTimeout sets how long the close of l waits for the functions of
// its default pool (aio.DefaultShutdownTimeout unless set). A zero or
// negative d means no bound. Any goroutine.
func SetShutdownTimeout(l *aio.Loop, d time.Duration) error {
	st, err := stateOf(l)
	if err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.timeout = d
	return nil
}

// Stats counts the calls of Run and Go of one loop, whatever their
// executor.
type Stats struct {
	Submitted int64 // calls handed to an executor
	Started   int64 // functions that began to run
	Skipped   int64 // calls whose function never ran: cancelled while queued, or discarded by a Shutdown
	Late      int64 // functions that returned after their call was cancelled or their loop closed: the result was dropped
	Delivered int64 // outcomes delivered to the call's future
}

// StatsOf returns l's counters. They are kept until l closes; on a loop
// never used by the package, or closed, they are zero. Any goroutine.
func StatsOf(l *aio.Loop) Stats {
	st, ok := states.Lookup(l)
	if !ok {
		return Stats{}
	}
	c := &st.stats
	return Stats{
		Submitted: c.submitted.Load(),
		Started:   c.started.Load(),
		Skipped:   c.skipped.Load(),
		Late:      c.late.Load(),
		Delivered: c.delivered.Load(),
	}
}
