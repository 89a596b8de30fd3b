//go:build linux

package subprocess

import "github.com/aiogo/aio/aio"

// SetPidfd forces the exit watch of the children started from now on: the
// pidfd (true) or the fallback's goroutine (false). It returns a function
// that restores the run-time choice.
func SetPidfd(on bool) (restore func()) {
	pidfdSupported()
	old := pidfdMode.Load()
	if on {
		pidfdMode.Store(1)
	} else {
		pidfdMode.Store(2)
	}
	return func() { pidfdMode.Store(old) }
}

// Registered returns the number of children in the close-hook registry of
// the running loop (call it from a task), and the number of loops with a
// hook among it: 1 if it has a registry, 0 if not.
func Registered() (procs, loops int) {
	r, ok := regs.Lookup(aio.RunningLoop())
	if !ok {
		return 0, 0
	}
	return len(r.procs), 1
}
