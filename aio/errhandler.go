package aio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// ErrorContext describes an error that has no caller to return to: a panic in
// a callback, a task error nobody retrieved, a failure of the loop's own
// machinery, or a report of debug mode (a slow callback, a blocked loop, a
// future never completed, a resource never closed: see Loop.SetDebug). It is
// asyncio's exception-handler context. The loop fills TaskID and TaskName
// from Task, and Site from the task's creation site in debug mode, before
// the handler sees it.
type ErrorContext struct {
	Message string  // what happened, in a few words
	Err     error   // the error; a *PanicError for a panic
	Task    AnyTask // the task concerned, if any

	TaskID   uint64        // the task's ID, if a task is concerned (also once it is gone)
	TaskName string        // the task's name, likewise
	Callback string        // the function of the callback concerned, by its full name
	Site     string        // where the task, callback, future or resource was created, "file:line" (debug mode)
	Duration time.Duration // how long a slow callback or step held the loop (debug mode)
	Stack    string        // the stacks of a blocked loop: the task's coroutine, then the loop goroutine (debug mode)
}

// String formats ec on one line (then the stack, if any), with every field
// that is set: for logs and test failures.
func (ec ErrorContext) String() string {
	var b strings.Builder
	b.WriteString(ec.Message)
	if ec.Err != nil {
		b.WriteString(": ")
		b.WriteString(ec.Err.Error())
	}
	var fs []string
	switch {
	case ec.Task != nil:
		fs = append(fs, "task "+ec.Task.String())
	case ec.TaskID != 0:
		fs = append(fs, "task "+ec.TaskName+"#"+strconv.FormatUint(ec.TaskID, 10))
	}
	if ec.Callback != "" {
		fs = append(fs, "callback "+ec.Callback)
	}
	if ec.Site != "" {
		fs = append(fs, "created at "+ec.Site)
	}
	if ec.Duration != 0 {
		fs = append(fs, "held the loop "+ec.Duration.Round(time.Millisecond).String())
	}
	if len(fs) > 0 {
		b.WriteString(" (" + strings.Join(fs, ", ") + ")")
	}
	if ec.Stack != "" {
		b.WriteString("\n")
		b.WriteString(ec.Stack)
	}
	return b.String()
}

// ErrorHandler receives the errors that have no caller to return to. It runs
// on the loop goroutine, in a callback of its own, with one exception: the
// reports of debug mode's watchdog (errors matching ErrLoopBlocked) come on
// the watchdog's goroutine, while the loop is blocked, so a handler that
// keeps state guards it with a lock for them, and must not wait for the
// loop (the run's end waits for the watchdog). A panic in an ErrorHandler is
// reported through the default handler and does not stop the loop.
type ErrorHandler func(l *Loop, ec ErrorContext)

// DefaultErrorHandler logs ec through log/slog's default logger: at level
// Warn for the slow-callback and blocked-loop reports of debug mode, Error
// for the others. The attributes are the fields of ec that are set: "task"
// (name#ID), "task_id", "task_name", "callback", "site", "duration",
// "stack", and "err", or "panic" and its "stack" when ec.Err is a
// *PanicError.
func DefaultErrorHandler(l *Loop, ec ErrorContext) {
	attrs := ec.attrs()
	level := slog.LevelError
	if errors.Is(ec.Err, ErrSlowCallback) || errors.Is(ec.Err, ErrLoopBlocked) {
		level = slog.LevelWarn
	}
	slog.Default().LogAttrs(context.Background(), level, ec.Message, attrs...)
}

// attrs returns the slog attributes of ec.
func (ec ErrorContext) attrs() []slog.Attr {
	attrs := make([]slog.Attr, 0, 8)
	if ec.Task != nil {
		attrs = append(attrs, taskAttr(ec))
	}
	if ec.TaskID != 0 {
		attrs = append(attrs, slog.Uint64("task_id", ec.TaskID))
	}
	if ec.TaskName != "" {
		attrs = append(attrs, slog.String("task_name", ec.TaskName))
	}
	if ec.Callback != "" {
		attrs = append(attrs, slog.String("callback", ec.Callback))
	}
	if ec.Site != "" {
		attrs = append(attrs, slog.String("site", ec.Site))
	}
	if ec.Duration != 0 {
		attrs = append(attrs, slog.Duration("duration", ec.Duration))
	}
	var pe *PanicError
	if errors.As(ec.Err, &pe) {
		attrs = append(attrs, slog.Any("panic", pe.Value), slog.String("stack", string(pe.Stack)))
	} else {
		attrs = append(attrs, slog.Any("err", ec.Err))
		if ec.Stack != "" {
			attrs = append(attrs, slog.String("stack", ec.Stack))
		}
	}
	return attrs
}

// complete fills the fields that the loop can tell from the others.
func (ec *ErrorContext) complete() {
	if ec.Task == nil {
		return
	}
	if ec.TaskID == 0 {
		ec.TaskID = ec.Task.ID()
	}
	if ec.TaskName == "" {
		ec.TaskName = ec.Task.Name()
	}
	if ec.Site == "" {
		ec.Site = CreationSite(ec.Task)
	}
}

var _ fmt.Stringer = ErrorContext{}

// nameOf returns the name in a task's String, "name#id".
func nameOf(s string, id uint64) string {
	return strings.TrimSuffix(s, "#"+strconv.FormatUint(id, 10))
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
	ec.complete()
	l.handle(ec)
}

// handle runs the handler on ec as it is: the watchdog's way, which fills
// the fields itself (it must not read the task's loop-only state).
func (l *Loop) handle(ec ErrorContext) {
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
