package aio

import (
	"context"
	"fmt"
)

// shutdownState is the loop's side of a Shutdown in progress.
type shutdownState struct {
	active  bool // new tasks are cancelled as they start (see startTask)
	expired bool // the Shutdown's context has ended
}

// Shutdown cancels every live task, with cause ErrShutdown, and runs the
// loop until they are all done, then reports through the error handler the
// errors of failed tasks that nobody retrieved. Tasks spawned while it runs
// (by the cleanup of a cancelled task, say) are cancelled as they start, so
// they never run. It is what Run does after its main task ends; call it
// before Close on a loop run by hand.
//
// Shutdown waits no longer than ctx allows (context.Background for no
// bound; a nil ctx is refused with ErrNilContext): if ctx ends first, it
// reports each task still
// running through the error handler and returns an error that says how many
// there were and wraps context.Cause(ctx); Close then unwinds them. If a
// Stop ends the run first, it returns an error matching ErrStopped that says
// how many tasks are still running. It must not be called on the loop
// goroutine (it runs the loop: ErrRunning), and returns the errors of
// RunUntil if the loop cannot run (ErrClosed on a closed loop).
func (l *Loop) Shutdown(ctx context.Context) error {
	if l.onLoop() {
		return fmt.Errorf("%w: Shutdown called from inside the loop", ErrRunning)
	}
	if ctx == nil {
		return fmt.Errorf("%w: Shutdown", ErrNilContext)
	}
	const (
		begin = iota
		waiting
		finishing // the reports are queued; one more iteration runs them
		finished
	)
	phase := begin
	alive := 0
	expired := false
	stopExpiry := func() bool { return false }
	defer func() { stopExpiry() }()
	err := l.runWith("Shutdown", func() bool {
		switch phase {
		case begin:
			// On the loop, before the first iteration: tasks that have
			// not started are cancelled before their first step, so their
			// bodies never run.
			l.down = shutdownState{active: true}
			for c := l.tasks.head; c != nil; c = c.next {
				c.cancel(ErrShutdown)
			}
			stopExpiry = context.AfterFunc(ctx, func() {
				l.post(func() { l.down.expired = true })
			})
			phase = waiting
			fallthrough
		case waiting:
			alive, expired = l.tasks.len(), l.down.expired
			if alive > 0 && !expired {
				return false
			}
			if expired {
				for c := l.tasks.head; c != nil; c = c.next {
					l.report(ErrorContext{Message: "aio: task still running when the shutdown's time was up", Err: context.Cause(ctx), Task: c.impl})
				}
			}
			// Behind the done callbacks the last tasks scheduled.
			l.queue(ready{fn: l.reportFailed})
			phase = finishing
			return false
		case finishing:
			phase = finished
		}
		return true
	}, func() {
		// The run ended, by its condition or by a Stop.
		alive = l.tasks.len()
		l.down = shutdownState{}
	})
	if err != nil {
		return err
	}
	switch {
	case alive == 0:
		return nil
	case phase != finished:
		return fmt.Errorf("%w: Shutdown: the loop was stopped with %d tasks still running", ErrStopped, alive)
	case expired:
		return fmt.Errorf("aio: Shutdown: %d tasks still running when the context ended: %w", alive, context.Cause(ctx))
	}
	return nil
}
