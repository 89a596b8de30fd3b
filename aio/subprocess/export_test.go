//go:build linux

package subprocess

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
// loops, and the number of loops with a hook.
func Registered() (procs, loops int) {
	regMu.Lock()
	defer regMu.Unlock()
	for _, r := range regs {
		procs += len(r.procs)
	}
	return procs, len(regs)
}
