package aio

import (
	"context"
	"errors"
)

// CancelledError is the error of a cancelled future or task, and the error
// that Await, Sleep and Yield return in a task that has been cancelled. It
// matches context.Canceled under errors.Is, so code written for contexts
// recognises it, and it unwraps to its Cause, so errors.Is(err, cause) holds
// too (context.DeadlineExceeded for a timeout, ErrClosed for a closing loop).
type CancelledError struct {
	Cause error // why; context.Canceled when the canceller gave no cause
}

// Error returns "aio: cancelled", followed by the cause if it is not
// context.Canceled.
func (e *CancelledError) Error() string {
	if e.Cause == nil || e.Cause == context.Canceled {
		return "aio: cancelled"
	}
	return "aio: cancelled: " + e.Cause.Error()
}

// Is reports whether target is context.Canceled.
func (e *CancelledError) Is(target error) bool { return target == context.Canceled }

// Unwrap returns the cause.
func (e *CancelledError) Unwrap() error { return e.Cause }

// Cause returns the cause of a cancellation error, as context.Cause does for
// a context: for an error that wraps a *CancelledError, its Cause; for any
// other error matching context.Canceled, context.Canceled; and nil for nil or
// an error that is not a cancellation.
func Cause(err error) error {
	var ce *CancelledError
	if errors.As(err, &ce) {
		if ce.Cause == nil {
			return context.Canceled
		}
		return ce.Cause
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	return nil
}

// cancelled returns the error for a cancellation with cause.
func cancelled(cause error) error {
	if cause == nil {
		cause = context.Canceled
	}
	return &CancelledError{Cause: cause}
}
