//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package poll

import (
	"fmt"
	"math"
	"os"

	"golang.org/x/sys/unix"
)

// checkFD implements the pollerSys contract for both epoll and kqueue:
// negative fds and fds beyond int32 are EBADF, the Poller's own fds are
// EINVAL (registering them again would break wake-ups), and with ev == 0,
// where no kernel call will check fd, fcntl(F_GETFD) makes sure fd is open,
// so that the dense fd table only grows to fds that exist.
func (s *pollerSys) checkFD(fd int, ev Events) error {
	if fd < 0 || fd > math.MaxInt32 {
		return os.NewSyscallError(ctlOp, unix.EBADF)
	}
	if s.isPollFD(fd) {
		return fmt.Errorf("poll: fd %d is the poller's own descriptor: %w", fd, os.NewSyscallError(ctlOp, unix.EINVAL))
	}
	if ev == 0 {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return os.NewSyscallError("fcntl", err)
		}
	}
	return nil
}

// waitErr maps the error of a kernel wait to Wait's: nil for EINTR, because
// a signal interrupting the wait is not a failure and the caller's loop just
// calls Wait again (after running its timers, since the timeout was cut
// short), and an *os.SyscallError naming op otherwise.
func (p *Poller) waitErr(op string, err error) error {
	if err == unix.EINTR {
		p.interrupts++
		return nil
	}
	return os.NewSyscallError(op, err)
}

// closeFDs closes each fd that is not -1, sets it to -1, and returns the
// first error.
func closeFDs(fds ...*int) error {
	var first error
	for _, fd := range fds {
		if *fd == -1 {
			continue
		}
		if err := unix.Close(*fd); err != nil && first == nil {
			first = os.NewSyscallError("close", err)
		}
		*fd = -1
	}
	return first
}

// fit returns buf with length n, reusing its array when it is large enough:
// Wait's kernel event buffer follows the length of the caller's slice.
func fit[E any](buf []E, n int) []E {
	if cap(buf) >= n {
		return buf[:n]
	}
	return make([]E, n)
}

// writeWake writes b to the wake-up descriptor fd (an eventfd, or a pipe's
// write end), retrying on EINTR. EAGAIN means the descriptor is already
// full of wake-ups, hence readable: the wake is delivered.
func writeWake(fd int, b []byte) error {
	for {
		_, err := unix.Write(fd, b)
		switch err {
		case nil, unix.EAGAIN:
			return nil
		case unix.EINTR:
			continue
		}
		return os.NewSyscallError("write", err)
	}
}
