package aio

import (
	"fmt"
	"sync"
)

// Close hooks: what a sibling package (an executor, subprocesses, signal
// handlers) must do when a loop closes, after the loop's tasks have ended
// and before its poller and descriptors are released: shut a pool down and
// wait for it, reap children, restore signal dispositions. Run closes its
// loop after the shutdown of its tasks, so the hooks are the last step of
// Run's graceful shutdown.

// closeHooks is the list of a loop's close hooks. It is shared: OnClose may
// be called from any goroutine.
type closeHooks struct {
	mu    sync.Mutex
	next  uint64
	hooks []closeHook
	done  bool // the hooks ran; OnClose fails from then on
}

type closeHook struct {
	id uint64
	fn func()
}

// OnClose registers fn to run when l closes: after every task of l has
// ended (and the failures nobody retrieved were reported), before l
// releases its poller, on the goroutine that closes l, outside any task and
// with nothing of l running. Hooks run in the reverse order of their
// registration, as deferred calls do, each once. A hook runs as loop code:
// it may call the loop's loop-only methods that make sense on a closing
// loop (ReportError, which runs the error handler at once; RemoveReader and
// RemoveWriter; Now), and RunningLoop returns l; callbacks it schedules
// never run, and Spawn fails. A panic in a hook is reported through the
// error handler, and the next hook runs.
//
// The returned function removes the hook if it has not run, and reports
// whether it did remove it. OnClose may be called from any goroutine; on a
// loop that is closed (or closing past its hooks) it returns an error
// matching ErrClosed and registers nothing.
func (l *Loop) OnClose(fn func()) (remove func() bool, err error) {
	if l == nil || l.poller == nil {
		return nil, noLoop("OnClose")
	}
	if fn == nil {
		return nil, fmt.Errorf("%w: OnClose", ErrNilFunc)
	}
	h := &l.closers
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return nil, fmt.Errorf("%w: OnClose", ErrClosed)
	}
	h.next++
	id := h.next
	h.hooks = append(h.hooks, closeHook{id, fn})
	return func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for i, k := range h.hooks {
			if k.id == id {
				h.hooks = append(h.hooks[:i], h.hooks[i+1:]...)
				return true
			}
		}
		return false
	}, nil
}

// runCloseHooks runs the hooks, last registered first. A hook registered by
// a hook runs too, before the others left. The hooks pass for loop code
// (the closing goroutine is named the loop's task goroutine meanwhile, as
// unwindTasks does), so that they may call the loop-only methods that make
// sense on a closing loop.
func (l *Loop) runCloseHooks() {
	h := &l.closers
	h.mu.Lock()
	empty := len(h.hooks) == 0
	if empty {
		h.done = true
	}
	h.mu.Unlock()
	if empty {
		return
	}
	l.thread.taskG.Store(curg())
	running.add(l)
	defer func() {
		running.remove(l)
		l.thread.taskG.Store(0)
	}()
	for {
		h.mu.Lock()
		n := len(h.hooks)
		if n == 0 {
			h.done = true
			h.mu.Unlock()
			return
		}
		k := h.hooks[n-1]
		h.hooks = h.hooks[:n-1]
		h.mu.Unlock()
		l.runCloseHook(k.fn)
	}
}

func (l *Loop) runCloseHook(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			l.reportNow(ErrorContext{Message: "aio: panic in a close hook", Err: newPanicError(r)})
		}
	}()
	fn()
}
