package aio

import (
	"errors"
	"fmt"
)

// ErrClosed is returned (possibly wrapped) by operations on a closed loop:
// scheduling a callback, submitting a task, running the loop, or waiting from
// another goroutine for a future that the closing loop never completed. Test
// for it with errors.Is.
var ErrClosed = errors.New("aio: loop is closed")

// ErrRunning is returned by Loop.RunForever and Loop.RunUntil when the loop is
// already running (on another goroutine, or the call comes from inside the
// loop itself), and by Loop.Close when the loop is running.
var ErrRunning = errors.New("aio: loop is already running")

// ErrNotOnLoop is returned (wrapped, with the name of the method) when a
// method that may only be called on the loop goroutine, or from a task of the
// loop, is called from some other goroutine. See "Goroutines" in the package
// documentation.
var ErrNotOnLoop = errors.New("aio: called off the loop goroutine")

// ErrOnLoop is returned (wrapped) by blocking waits meant for other
// goroutines, such as Future.Wait, when they are called on the loop
// goroutine or in one of its tasks, where they would block the loop forever.
// Tasks use Await.
var ErrOnLoop = errors.New("aio: blocking call on the loop goroutine")

// ErrShutdown is the cause of the cancellation of the tasks that are still
// alive when Loop.Shutdown (and so Run) ends a loop.
var ErrShutdown = errors.New("aio: loop shutting down")

// ErrNilFunc is returned when a nil function is passed where a callback or a
// task body is expected.
var ErrNilFunc = errors.New("aio: nil function")

// ErrInvalidState is returned when an operation does not fit the state of a
// future or task: setting the result of a future that is already done, for
// instance. It is asyncio's InvalidStateError. The operation changes nothing.
var ErrInvalidState = errors.New("aio: invalid state")

// ErrNotInTask is returned by Await, Sleep and Yield when they are called
// from code that is not running inside a task of a loop, or with a task
// handle that is not the running task's own.
var ErrNotInTask = errors.New("aio: not called from the running task")

// PanicError is the error that a recovered panic becomes: the error of a task
// whose body panicked, or the Err of the ErrorContext that reports a panic in
// a callback. It keeps the panic value and the stack of the panicking
// goroutine at the moment of the panic.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the stack at the panic, as runtime/debug.Stack formats it
}

// Error returns "aio: panic: " and the panic value; the stack is in Stack.
func (e *PanicError) Error() string { return fmt.Sprintf("aio: panic: %v", e.Value) }

// Unwrap returns the panic value if it is an error, so that errors.Is and
// errors.As see through a panic(err).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// notOnLoop builds the error for a loop-only method called elsewhere.
func notOnLoop(method string) error {
	return fmt.Errorf("%w: %s must be called on the loop goroutine or from one of its tasks", ErrNotOnLoop, method)
}

// ErrStopped is returned (wrapped) when Stop ends a run before what the run
// waited for: by RunUntilComplete before its future is done, and by
// Loop.Shutdown before the tasks are.
var ErrStopped = errors.New("aio: loop stopped")

// ErrNoLoop is returned (wrapped) by operations on a nil or zero Loop, and on
// a future that belongs to no loop (a zero Future, or one made with
// NewFuture(nil)). Make loops with NewLoop.
var ErrNoLoop = errors.New("aio: no loop (a nil or zero Loop; make one with NewLoop)")

// ErrNilContext is returned by the methods that take a context.Context
// (Future.Wait, Loop.Shutdown) when they are given a nil one. Pass
// context.Background() for no deadline.
var ErrNilContext = errors.New("aio: nil context.Context")

// noLoop builds the error for method called on no loop.
func noLoop(method string) error {
	return fmt.Errorf("%w: %s", ErrNoLoop, method)
}
