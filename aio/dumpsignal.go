package aio

import (
	"fmt"
	"io"
	"os"
)

// DumpOnSignal makes the loop write a task dump (Dump.WriteText, with stacks
// if opts.Stacks) to w each time the process receives sig: kill -USR1 <pid>
// shows what every task of a program that seems stuck is waiting for. A nil
// sig means DefaultDumpSignal (SIGUSR1), a nil w os.Stderr. SIGQUIT is
// refused with an error matching ErrInvalidState: it is Go's (the runtime
// prints every goroutine's stack and ends the process), and a loop must not
// take it. It returns a function that removes the handler, as
// AddSignalHandler does, and AddSignalHandler's errors.
//
// The dump is made on the loop, in a signal handler of the loop
// (AddSignalHandler): a loop whose thread is held by a task that never
// yields cannot answer; SIGQUIT, or debug mode's watchdog, names that task.
// Writes to w happen on the loop's goroutine, so w should be quick (a file,
// a buffer); an error writing is reported through the loop's error handler.
func (l *Loop) DumpOnSignal(sig os.Signal, w io.Writer, opts DumpOptions) (remove func() bool, err error) {
	if sig == nil {
		sig = DefaultDumpSignal
	}
	if isSigQuit(sig) {
		return nil, fmt.Errorf("%w: DumpOnSignal: SIGQUIT is the Go runtime's (its goroutine dump), use SIGUSR1", ErrInvalidState)
	}
	if w == nil {
		w = os.Stderr
	}
	if l != nil && l.poller != nil && opts.Stacks {
		l.onLoopSoon("DumpOnSignal", func() { l.dumpStateOf().gids = true })
	}
	return l.AddSignalHandler(sig, func() {
		if err := l.Dump(opts).WriteText(w); err != nil {
			l.reportNow(ErrorContext{Message: "aio: writing the task dump", Err: err})
		}
	})
}
