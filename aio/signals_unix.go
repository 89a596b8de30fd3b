//go:build unix

package aio

import (
	"os"
	"syscall"
)

// uncatchable reports whether sig can be neither caught nor ignored.
func uncatchable(sig os.Signal) bool {
	return sig == syscall.SIGKILL || sig == syscall.SIGSTOP
}
