package aio

import (
	"errors"
	"log/slog"
)

// ErrorContext describes an error that has no caller to return to: a panic in
// a callback, a task error nobody retrieved, or a failure of the loop's own
// machinery. It is asyncio's exception-handler context.
type ErrorContext struct {
	Message string  // what happened, in a few words
	Err     error   // the error; a *PanicError for a panic
	Task    AnyTask // the task concerned, if any
}

// ErrorHandler receives the errors that have no caller to return to. It runs
// on the loop goroutine, in a callback of its own. A panic in an
// ErrorHandler is reported through the default handler and does not stop the
// loop.
type ErrorHandler func(l *Loop, ec ErrorContext)

// DefaultErrorHandler logs ec through log/slog's default logger at level
// Error, with the panic value and stack when ec.Err is a *PanicError.
func DefaultErrorHandler(l *Loop, ec ErrorContext) {
	var pe *PanicError
	if errors.As(ec.Err, &pe) {
		slog.Error(ec.Message, taskAttr(ec), "panic", pe.Value, "stack", string(pe.Stack))
		return
	}
	slog.Error(ec.Message, taskAttr(ec), "err", ec.Err)
}

// SetErrorHandler sets the function that receives errors nobody else can
// receive. A nil h restores DefaultErrorHandler. It may be called from any
// goroutine; to have a handler from the first moment of Run, pass
// WithErrorHandler to Run. On a zero Loop it panics with an error matching
// ErrNoLoop.
func (l *Loop) SetErrorHandler(h ErrorHandler) {
	if l.poller == nil {
		panic(noLoop("SetErrorHandler"))
	}
	if h == nil {
		h = DefaultErrorHandler
	}
	l.errHandler.Store(&h)
}

// ReportError passes ec to the loop's error handler, at once. It is for code
// built on the loop that has an error to report and nobody to return it to.
// It must be called on the loop goroutine or in one of its tasks: it panics
// with an error matching ErrNotOnLoop elsewhere (it has no error result).
func (l *Loop) ReportError(ec ErrorContext) {
	l.mustBeOnLoop("ReportError")
	l.reportNow(ec)
}

// reportNow runs the handler; the loop's own reports come here from places
// where onLoop does not hold (the close of a loop, a run that is ending).
func (l *Loop) reportNow(ec ErrorContext) {
	h := *l.errHandler.Load()
	defer func() {
		if r := recover(); r != nil {
			DefaultErrorHandler(l, ErrorContext{
				Message: "aio: panic in the loop's error handler",
				Err:     newPanicError(r),
			})
		}
	}()
	h(l, ec)
}

func taskAttr(ec ErrorContext) slog.Attr {
	if ec.Task == nil {
		return slog.Attr{}
	}
	return slog.String("task", ec.Task.String())
}
