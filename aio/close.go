package aio

import "fmt"

// Close closes the loop: later scheduling fails with ErrClosed, callbacks
// and timers still pending are dropped, goroutines waiting for the loop's
// futures are released with ErrClosed, and the poller is closed. Close
// returns ErrRunning if the loop is running, including when it is called
// from one of the loop's callbacks or tasks. Closing a closed loop returns
// nil.
//
// Tasks that are still alive are unwound: a task that has not started is
// cancelled and never runs; in a suspended one, the pending Await returns a
// *CanceledError whose cause is ErrClosed, as does every later one, and
// the body runs to its end. The errors of failed tasks that nobody
// retrieved are then reported through the error handler. Unwinding happens
// on the loop's own goroutine and thread, whichever goroutine calls Close,
// which waits for it.
//
// The loop that Run makes is closed by Run; calling Close on it while Run
// runs returns ErrRunning. Close may be called from any other goroutine.
func (l *Loop) Close() error {
	if l.poller == nil {
		return noLoop("Close")
	}
	g := curg()
	if l.onLoop() || l.thread.unwindG.Load() == g {
		return fmt.Errorf("%w: Close called from inside the loop", ErrRunning)
	}
	if l.thread.inline != 0 && g != l.thread.inline && l.state.Load() != stateClosed {
		return fmt.Errorf("%w: Close: the loop belongs to Run, which closes it", ErrRunning)
	}
	l.thread.close.Lock()
	defer l.thread.close.Unlock()
	for {
		switch l.state.Load() {
		case stateRunning:
			return ErrRunning
		case stateClosed:
			return nil
		}
		if l.state.CompareAndSwap(stateIdle, stateClosed) {
			break
		}
	}
	// From here on every producer gets ErrClosed.
	if o := l.thread.owner; o != nil {
		if err := o.do(ownerReq{close: true}); err != errOwnerGone {
			return err
		}
		// The owner exited with a Goexit and closed the loop itself.
		return nil
	}
	// Run's goroutine, or a loop that never ran: no coroutine is bound to
	// another thread.
	l.closeHere()
	return nil
}

// closeHere finishes the close on the loop's goroutine: it unwinds the live
// tasks, reports unretrieved failures, and releases what the loop holds.
// The loop is already in its closed state.
func (l *Loop) closeHere() {
	if isClosedChan(l.closed) {
		return // abandoned during a run, which closed it already
	}
	l.unwindTasks()
	l.ready.Clear() // the steps and callbacks the unwinding queued
	l.reportFailed()
	l.reportUnclosed() // debug mode (debug.go)
	l.runCloseHooks()
	l.reportPending() // debug mode (debug.go)
	l.release()
}

func isClosedChan(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// release frees what a closed loop holds.
func (l *Loop) release() {
	l.ready.Clear()
	l.ready.ShrinkTo(0)
	for l.timers.heap.Pop() != nil {
	}
	for {
		if _, ok := l.door.q.Pop(); !ok {
			break
		}
	}
	l.pool.trim(0)
	clear(l.fds.watches)
	l.poller.Close()
	close(l.closed) // once: the loop moves to closed once, and closeHere checks
}

// unwindTasks finishes every live task of a closing loop, on the thread
// that created their coroutines: a task that has not started is cancelled;
// a suspended one is stopped, which makes its pending Await (and every
// later one) return a *CanceledError whose cause is ErrClosed, and lets the
// body run to its end.
func (l *Loop) unwindTasks() {
	// The unwinding bodies must not pass for the loop (taskG may still name
	// one of them): what they schedule goes to the door, closed, and fails
	// with ErrClosed. unwindG names the body being unwound, so that a Close
	// or a blocking Wait from it returns an error instead of deadlocking.
	l.thread.taskG.Store(0)
	running.add(l)
	defer running.remove(l)
	l.cpool.drain(l)
	for c := l.tasks.head; c != nil; c = l.tasks.head {
		if c.coro == nil {
			c.impl.abort(canceled(ErrClosed))
			continue
		}
		co := c.coro
		l.current = c
		l.thread.unwindG.Store(co.g)
		l.endCoro(co) // runs the body to its end; runBody completes the task
		l.thread.unwindG.Store(0)
		l.current = nil
		c.coro, co.task = nil, nil
		if c.state != taskDone {
			// The body called runtime.Goexit during unwinding; the
			// goroutine calling Close is exiting. Record the task as lost.
			l.tasks.remove(c)
		}
	}
}
