//go:build dragonfly || freebsd || linux || netbsd || openbsd

package poll

import "golang.org/x/sys/unix"

// newPipe makes a non-blocking, close-on-exec pipe in one step.
func newPipe(p []int) error {
	return unix.Pipe2(p, unix.O_NONBLOCK|unix.O_CLOEXEC)
}
