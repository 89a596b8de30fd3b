package aio

import (
	"errors"
	"log/slog"
)

// ErrorContext describes an error that has no caller to return to: a panic in
// a callback, or a failure of the loop's own machinery. It is asyncio's
// exception-handler context.
type ErrorContext struct {
	Message string  // what happened, in a few words
	Err     error   // the error; a *PanicError for a panic
	Task    AnyTask // the task concerned, if any
}

// ErrorHandler receives the errors that have no caller to return to. It runs
// on the loop goroutine. A panic in an ErrorHandler is reported through the
// default handler and does not stop the loop.
type ErrorHandler func(l *Loop, ctx ErrorContext)

// DefaultErrorHandler logs ctx through log/slog's default logger at level
// Error, with the panic value and stack when ctx.Err is a *PanicError.
func DefaultErrorHandler(l *Loop, ctx ErrorContext) {
	var pe *PanicError
	if errors.As(ctx.Err, &pe) {
		slog.Error(ctx.Message, taskAttr(ctx), "panic", pe.Value, "stack", string(pe.Stack))
		return
	}
	slog.Error(ctx.Message, taskAttr(ctx), "err", ctx.Err)
}

// SetErrorHandler sets the function that receives errors nobody else can
// receive. A nil h restores DefaultErrorHandler. It may be called from any
// goroutine before the loop runs, and from the loop goroutine while it runs.
func (l *Loop) SetErrorHandler(h ErrorHandler) {
	if h == nil {
		h = DefaultErrorHandler
	}
	l.errHandler.Store(&h)
}

// ReportError passes ctx to the loop's error handler. It must be called on
// the loop goroutine; it is for code built on the loop that has an error to
// report and nobody to return it to.
func (l *Loop) ReportError(ctx ErrorContext) {
	h := *l.errHandler.Load()
	defer func() {
		if r := recover(); r != nil {
			DefaultErrorHandler(l, ErrorContext{
				Message: "aio: panic in the loop's error handler",
				Err:     newPanicError(r),
			})
		}
	}()
	h(l, ctx)
}

func taskAttr(ctx ErrorContext) slog.Attr {
	if ctx.Task == nil {
		return slog.Attr{}
	}
	return slog.String("task", ctx.Task.String())
}
