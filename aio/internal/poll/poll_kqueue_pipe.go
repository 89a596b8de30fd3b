//go:build netbsd || openbsd

package poll

// Waking a kqueue by writing to a pipe, on the systems where the runtime's
// netpoller does so too (netpoll_kqueue_pipe.go): OpenBSD has no
// EVFILT_USER, and NetBSD has it only since 10.0, with no constants for it
// in golang.org/x/sys/unix.

import (
	"os"

	"golang.org/x/sys/unix"
)

// kqueueWake is a non-blocking, close-on-exec pipe whose read end is
// registered for EVFILT_READ.
type kqueueWake struct {
	r, w int
	buf  [16]byte // scratch for drain; loop goroutine only
}

// wakeByte is what trigger writes; any byte would do. It is only read.
var wakeByte = [1]byte{'w'}

func (w *kqueueWake) init(kq int) error {
	w.r, w.w = -1, -1
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return os.NewSyscallError("pipe2", err)
	}
	w.r, w.w = p[0], p[1]
	// Level-triggered, like every fd here: drain empties the pipe, and a
	// byte left over would just make the next Wait return at once.
	var kev unix.Kevent_t
	unix.SetKevent(&kev, w.r, unix.EVFILT_READ, unix.EV_ADD)
	if err := keventChange(kq, kev); err != nil {
		w.close()
		return err
	}
	return nil
}

// trigger writes one byte. EAGAIN means the pipe is full, so the read end
// is readable anyway.
func (w *kqueueWake) trigger(int) error {
	return writeWake(w.w, wakeByte[:])
}

func (w *kqueueWake) isWake(kev *unix.Kevent_t) bool {
	return kev.Filter == unix.EVFILT_READ && int(kev.Ident) == w.r
}

// drain reads the pipe until it is empty. Normally it holds one byte, as
// Wake writes at most once per consumed wake-up.
func (w *kqueueWake) drain() {
	for {
		n, err := unix.Read(w.r, w.buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < len(w.buf) {
			return
		}
	}
}

func (w *kqueueWake) isPollFD(fd int) bool {
	return fd == w.r || fd == w.w
}

func (w *kqueueWake) close() error {
	return closeFDs(&w.r, &w.w)
}
