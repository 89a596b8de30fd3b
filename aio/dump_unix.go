//go:build unix

package aio

import "syscall"

// DefaultDumpSignal is the signal DumpOnSignal uses when given nil: SIGUSR1
// (SIGQUIT is Go's own: it prints every goroutine's stack and ends the
// process, so the loop never takes it).
var DefaultDumpSignal = syscall.SIGUSR1

// isSigQuit reports whether sig is SIGQUIT.
func isSigQuit(sig any) bool { return sig == syscall.SIGQUIT }
