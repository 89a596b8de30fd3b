package loops

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/aiogo/aio/aio"
)

// Call runs fn in a new task on the loop target and waits, in the calling
// task c, for its result: a future of target's task completed through the
// doors, awaited on c's loop (asyncio's run_coroutine_threadsafe awaited
// with wrap_future). target may be any loop, c's own included. fn's task
// is target's: it may await anything of target, and nothing of c's loop.
//
// Cancellation crosses both ways. If c is cancelled while it waits, Call
// cancels the remote task (with the same cause) and waits for it to end;
// then it returns c's cancellation, and, if the remote task had completed
// with a value before the cancellation reached it, that value with an
// error matching both the cancellation and ErrCompleted (look at it inside
// the cancel scope that cancelled: the scope's exit returns its own
// result, ErrTimeout say, in its place). If the remote
// task is cancelled by its own loop (its Shutdown, say), Call returns an
// error matching ErrRemoteCanceled, and aio.ErrClosed when target is
// shutting down or closing; it never matches context.Canceled then, so
// that c's scopes do not take it for theirs. If target closes before fn
// has returned (a Close, a failure), Call returns an error matching
// aio.ErrClosed; on a closed target it returns one at once. A panic in fn
// is returned as an *aio.PanicError.
//
// Call returns aio.ErrNilFunc for a nil fn, aio.ErrNoLoop for a nil
// target, and the errors of aio.Await when c is not the running task.
func Call[T any](c *aio.Ctx, target *aio.Loop, fn func(*aio.Ctx) (T, error)) (T, error) {
	v, err, _ := call(c, target, fn)
	return v, err
}

// call is Call; completed reports that the remote task had completed
// with a value although c was cancelled (Queue.Get puts it back).
func call[T any](c *aio.Ctx, target *aio.Loop, fn func(*aio.Ctx) (T, error)) (v T, err error, completed bool) {
	var zero T
	if fn == nil {
		return zero, fmt.Errorf("loops: Call: %w", aio.ErrNilFunc), false
	}
	if target == nil {
		return zero, fmt.Errorf("loops: Call: %w: a nil target loop", aio.ErrNoLoop), false
	}
	if err := check(c, "Call"); err != nil {
		return zero, err, false
	}
	r := newRemote[T](c.Loop(), target)
	var task atomic.Pointer[aio.Task[T]]
	var cancelReq atomic.Pointer[error]
	// The task is spawned on target by a callback of target, so that its
	// done callback can be added there: it reports every end of the task,
	// also a cancellation before its first step (when its body never runs).
	_, err = target.CallSoon(func() {
		t, err := aio.Spawn(target, fn)
		if err != nil {
			r.finish(zero, err)
			return
		}
		task.Store(t)
		if p := cancelReq.Load(); p != nil {
			t.Cancel(*p)
		}
		if _, err := t.AddDoneCallback(func() {
			v, err := t.Result()
			r.finish(v, err)
		}); err != nil {
			r.finish(zero, err)
		}
	})
	if err != nil {
		r.drop()
		return zero, fmt.Errorf("loops: Call: %w", err), false
	}
	return r.await(c, func(cause error) {
		cancelReq.Store(&cause)
		if t := task.Load(); t != nil {
			t.Cancel(cause)
		}
	})
}

// CallFunc runs fn as a callback on the loop target and waits, in the
// calling task c, for its result. It is Call without a task on the other
// side: cheaper (one callback and two trips through the doors), for work
// that does not wait. If c is cancelled before fn has begun, fn never runs
// and CallFunc returns the cancellation; once fn has begun, CallFunc waits
// for it and returns its value with an error matching the cancellation and
// ErrCompleted. The other errors are Call's.
func CallFunc[T any](c *aio.Ctx, target *aio.Loop, fn func() (T, error)) (T, error) {
	v, err, _ := callFunc(c, target, fn)
	return v, err
}

const (
	fnPending int32 = iota
	fnRunning
	fnCanceled
)

func callFunc[T any](c *aio.Ctx, target *aio.Loop, fn func() (T, error)) (v T, err error, completed bool) {
	var zero T
	if fn == nil {
		return zero, fmt.Errorf("loops: CallFunc: %w", aio.ErrNilFunc), false
	}
	if target == nil {
		return zero, fmt.Errorf("loops: CallFunc: %w: a nil target loop", aio.ErrNoLoop), false
	}
	if err := check(c, "CallFunc"); err != nil {
		return zero, err, false
	}
	r := newRemote[T](c.Loop(), target)
	var state atomic.Int32
	_, err = target.CallSoon(func() {
		if !state.CompareAndSwap(fnPending, fnRunning) {
			return // the caller was cancelled first: fn does not run
		}
		v, err := protect(fn)
		r.finish(v, err)
	})
	if err != nil {
		r.drop()
		return zero, fmt.Errorf("loops: CallFunc: %w", err), false
	}
	return r.await(c, func(cause error) {
		if state.CompareAndSwap(fnPending, fnCanceled) {
			r.finish(zero, aio.ErrInvalidState) // never read: await returns the cancellation
		}
	})
}

// protect calls fn and turns a panic into an *aio.PanicError.
func protect[T any](fn func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &aio.PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn()
}

// check returns Await's error for a c that is not the running task.
func check(c *aio.Ctx, fn string) error {
	if c == nil {
		return fmt.Errorf("loops: %s: %w: a nil *aio.Ctx", fn, aio.ErrNotInTask)
	}
	var probe aio.WaitQueue
	if err := probe.CheckTask(c); err != nil {
		return fmt.Errorf("loops: %s: %w", fn, err)
	}
	return nil
}

// remote is the caller's side of a cross-loop operation: a future of the
// caller's loop that the remote side completes through the caller's door,
// once, and an entry in the remote loop's close watch, which completes it
// with aio.ErrClosed if the remote loop closes first.
type remote[T any] struct {
	fut    *aio.Future[T]
	target *aio.Loop
	once   atomic.Bool
	watch  uint64 // the entry in target's closeWatch; 0 if none
}

func newRemote[T any](home, target *aio.Loop) *remote[T] {
	r := &remote[T]{fut: aio.NewFuture[T](home), target: target}
	r.watch = watchClose(target, func() {
		var zero T
		r.finish(zero, fmt.Errorf("loops: the remote loop closed: %w", aio.ErrClosed))
	})
	return r
}

// finish completes the future, the first time. Any goroutine.
func (r *remote[T]) finish(v T, err error) {
	if !r.once.CompareAndSwap(false, true) {
		return
	}
	if err != nil {
		r.fut.SetError(err)
	} else {
		r.fut.SetResult(v)
	}
}

// drop forgets the close watch.
func (r *remote[T]) drop() { unwatchClose(r.target, r.watch) }

// await waits for the outcome in c. On a cancellation of c it calls
// cancel(cause) and waits for the remote side to end.
func (r *remote[T]) await(c *aio.Ctx, cancel func(cause error)) (T, error, bool) {
	defer r.drop()
	var zero T
	v, err := aio.Await(c, r.fut)
	if err == nil {
		return v, nil, false
	}
	if r.fut.IsDone() {
		if rv, rerr := r.fut.Result(); rerr == err {
			return rv, remoteError(rerr), false // the remote side's error
		} else if rerr == nil {
			// Completed in the turn c was cancelled in: keep the value.
			return rv, fmt.Errorf("%w (%w)", err, ErrCompleted), true
		}
		return zero, err, false
	}
	// c was cancelled (or its loop is closing): pass it on, and wait for
	// the remote side, which may have completed meanwhile.
	cancel(aio.Cause(err))
	for !r.fut.IsDone() {
		if c.Loop().IsClosed() {
			return zero, err, false // unwinding: no more waiting
		}
		aio.Await(c, r.fut) // a second cancellation changes nothing
	}
	if rv, rerr := r.fut.Result(); rerr == nil {
		return rv, fmt.Errorf("%w (%w)", err, ErrCompleted), true
	}
	return zero, err, false
}

// remoteError is what a caller gets for the remote side's error: a
// cancellation on the remote loop must not look like the caller's own.
func remoteError(err error) error {
	if !errors.Is(err, context.Canceled) {
		return err
	}
	cause := aio.Cause(err)
	if errors.Is(cause, aio.ErrShutdown) || errors.Is(cause, aio.ErrClosed) {
		return fmt.Errorf("%w: %w: %v", aio.ErrClosed, ErrRemoteCanceled, err)
	}
	return fmt.Errorf("%w: %v", ErrRemoteCanceled, err)
}

// closeWatch is a loop's list of cross-loop operations in flight to it,
// failed with aio.ErrClosed by one close hook of the loop.
type closeWatch struct {
	mu     sync.Mutex
	closed bool
	next   uint64
	fns    map[uint64]func()
}

// watches is each loop's closeWatch (aio.LoopValue): made at the first
// cross-loop operation to the loop, from any goroutine, and closed by the
// loop's close hook.
var watches = aio.NewLoopValue(func(*aio.Loop) (*closeWatch, error) {
	return &closeWatch{fns: map[uint64]func(){}}, nil
}, func(_ *aio.Loop, w *closeWatch) { w.closeAll() })

// watchClose registers fn to run when l closes (at once if it is closed
// already) and returns its id for unwatchClose.
func watchClose(l *aio.Loop, fn func()) uint64 {
	w, err := watches.Get(l)
	if err != nil {
		fn() // closed already
		return 0
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		fn()
		return 0
	}
	w.next++
	id := w.next
	w.fns[id] = fn
	w.mu.Unlock()
	return id
}

func unwatchClose(l *aio.Loop, id uint64) {
	if id == 0 {
		return
	}
	if w, ok := watches.Lookup(l); ok {
		w.mu.Lock()
		delete(w.fns, id)
		w.mu.Unlock()
	}
}

// closeAll is the loop's close hook: it runs the functions of the
// operations still in flight.
func (w *closeWatch) closeAll() {
	w.mu.Lock()
	w.closed = true
	fns := w.fns
	w.fns = nil
	w.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}
