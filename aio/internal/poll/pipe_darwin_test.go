package poll

import "golang.org/x/sys/unix"

// newPipe makes a pipe; Darwin has no pipe2, so fdSet.track sets
// O_NONBLOCK and FD_CLOEXEC afterwards.
func newPipe(p []int) error {
	return unix.Pipe(p)
}
