package aio

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
)

// ErrInterrupted is the cause of the cancellation of Run's main task when the
// process receives SIGINT (Ctrl-C).
var ErrInterrupted = errors.New("aio: interrupted")

// Run runs body as the main task of a new loop on the calling goroutine (the
// goroutine is locked to its OS thread meanwhile), and returns what body
// returns. It is asyncio.run: once the main task is done, Run cancels the
// tasks still alive (with cause ErrShutdown) and runs the loop until they have finished their
// cleanup, reports through the loop's error handler the errors of failed
// tasks that nobody retrieved, and closes the loop.
//
// While Run runs, the first SIGINT cancels the main task with cause
// ErrInterrupted; after it, SIGINT has its default effect again, so a
// second one ends the process at once. Run cannot stop a task body that
// ignores cancellation and never returns.
//
// If a task body calls runtime.Goexit (as t.FailNow does in a test), the
// calling goroutine exits: Run does not return, the loop is left closed,
// and the error handler reports it.
func Run[T any](body func(*Ctx) (T, error)) (T, error) {
	var zero T
	if body == nil {
		return zero, ErrNilFunc
	}
	l, err := NewLoop()
	if err != nil {
		return zero, err
	}
	defer l.Close() // after a Goexit, too
	main, err := Spawn(l, body, WithName("main"))
	if err != nil {
		return zero, err
	}
	stop := cancelOnInterrupt(main)
	defer stop()
	if err := l.RunUntil(main.IsDone); err != nil {
		return zero, err
	}
	stop()
	main.fut.retrieved.Store(true) // Run returns main's error itself
	if err := l.Shutdown(); err != nil {
		return zero, err
	}
	if err := l.Close(); err != nil {
		return zero, err
	}
	return main.Result()
}

// Shutdown cancels every live task, with cause ErrShutdown, and runs the
// loop until they are all done, then reports the errors of failed tasks that nobody retrieved
// through the error handler. It is what Run does after its main task ends;
// call it before Close on a loop run by hand. It must not be called on the
// loop goroutine (it runs the loop), and returns the errors of RunUntil.
func (l *Loop) Shutdown() error {
	if l.onLoop() {
		return fmt.Errorf("%w: Shutdown called from inside the loop", ErrRunning)
	}
	// A command, not a callback: it acts when the loop drains its door, before
	// the first steps of tasks that have not started yet, which therefore
	// never run their bodies.
	if err := l.post(l.cancelAll); err != nil {
		return err
	}
	if err := l.RunUntil(func() bool { return l.tasks.len() == 0 }); err != nil {
		return err
	}
	// One more iteration runs the done callbacks the last tasks scheduled,
	// then the report, queued behind them.
	if _, err := l.CallSoon(l.reportFailed); err != nil {
		return err
	}
	if err := l.Stop(); err != nil {
		return err
	}
	return l.RunForever()
}

func (l *Loop) cancelAll() {
	for c := l.tasks.head; c != nil; c = c.next {
		c.cancel(ErrShutdown)
	}
}

// cancelOnInterrupt cancels t at the first SIGINT, then lets SIGINT have its
// default effect. The returned stop ends the watch and waits for the
// watching goroutine; it may be called more than once.
func cancelOnInterrupt(t AnyTask) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-ch:
			signal.Stop(ch)
			t.Cancel(ErrInterrupted)
		case <-done:
		}
	})
	return sync.OnceFunc(func() {
		signal.Stop(ch)
		close(done)
		wg.Wait()
	})
}

// RunUntilComplete runs l until a is done and returns a's result and error
// (asyncio's run_until_complete). It returns the errors of Loop.RunUntil if
// the loop cannot run, and an error matching ErrInvalidState if a belongs to
// another loop or is nil. A Stop during the run makes it return early with
// an error matching ErrInvalidState, since a is not done.
func RunUntilComplete[T any](l *Loop, a Awaitable[T]) (T, error) {
	var zero T
	f := future(a)
	if f == nil || f.loop != l {
		return zero, fmt.Errorf("%w: RunUntilComplete of a nil future or one of another loop", ErrInvalidState)
	}
	if err := l.RunUntil(f.isDone); err != nil {
		return zero, err
	}
	return f.Result()
}
