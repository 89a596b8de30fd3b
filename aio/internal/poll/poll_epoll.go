//go:build linux

package poll

// Readiness polling with epoll, woken by an eventfd.

import (
	"encoding/binary"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ctlOp names the syscall in errors from Add, Modify and Remove.
const ctlOp = "epoll_ctl"

// pollerSys is the epoll implementation's state. epfd and efd are written
// only by init and close; close runs with Poller.wakeMu held, which is what
// makes wakeup's use of efd safe from any goroutine.
type pollerSys struct {
	epfd int               // epoll instance
	efd  int               // eventfd, registered for EPOLLIN; written by wakeup
	buf  []unix.EpollEvent // scratch for epoll_wait, as long as the last events slice
	rbuf [8]byte           // scratch for draining efd; loop goroutine only
	wbuf [8]byte           // the native-endian uint64 1 that wakeup writes; set by init
}

func (s *pollerSys) init() error {
	s.epfd, s.efd = -1, -1
	var err error
	if s.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		s.epfd = -1
		return os.NewSyscallError("epoll_create1", err)
	}
	// Non-blocking, so that a Wait that finds efd readable can never block
	// in read, and so that wakeup gets EAGAIN instead of blocking if the
	// counter were ever about to overflow.
	if s.efd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		s.efd = -1
		closeFDs(&s.epfd)
		return os.NewSyscallError("eventfd", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(s.efd)}
	if err := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, s.efd, &ev); err != nil {
		closeFDs(&s.efd, &s.epfd)
		return os.NewSyscallError("epoll_ctl", err)
	}
	binary.NativeEndian.PutUint64(s.wbuf[:], 1)
	return nil
}

func (s *pollerSys) isPollFD(fd int) bool {
	return fd == s.epfd || fd == s.efd
}

func (s *pollerSys) ownFDs() []int { return []int{s.epfd, s.efd} }

// epollFlags returns the epoll events to request for interest ev. Read
// also asks for EPOLLRDHUP so that a peer's shutdown is reported even
// before any pending data is read. EPOLLERR and EPOLLHUP need no asking:
// epoll always reports them, which is why an fd with no interest is removed
// from the epoll set instead of being kept with an empty mask.
// No EPOLLET: the Poller is level-triggered.
func epollFlags(ev Events) uint32 {
	var flags uint32
	if ev&Read != 0 {
		flags |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if ev&Write != 0 {
		flags |= unix.EPOLLOUT
	}
	return flags
}

// epollReady maps the events epoll reported for an fd to the readiness to
// report, given the fd's interest. Errors and hang-ups make every interested
// direction ready, so that the caller's next read or write returns the
// error; EPOLLRDHUP concerns reading only.
func epollReady(flags uint32, interest Events) Events {
	var ev Events
	if flags&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		ev |= Read
	}
	if flags&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		ev |= Write
	}
	return ev & interest
}

// ctl makes the epoll_ctl call. The registration id travels in the event's
// data beside the fd (Pad is the upper half of epoll_data), and comes back in
// every event of that registration. With old == new it is EPOLL_CTL_MOD, which
// fails with ENOENT if the kernel dropped the registration.
func (s *pollerSys) ctl(fd int32, id uint32, old, new Events) (Events, error) {
	var op int
	switch {
	case old == 0 && new == 0:
		return 0, nil
	case old == 0:
		op = unix.EPOLL_CTL_ADD
	case new == 0:
		op = unix.EPOLL_CTL_DEL
	default:
		op = unix.EPOLL_CTL_MOD
	}
	// EPOLL_CTL_DEL ignores ev, but kernels before 2.6.9 required it.
	ev := unix.EpollEvent{Events: epollFlags(new), Fd: fd, Pad: int32(id)}
	if err := unix.EpollCtl(s.epfd, op, int(fd), &ev); err != nil {
		return old, os.NewSyscallError(ctlOp, err)
	}
	return new, nil
}

func (p *Poller) wait(events []Event, timeout time.Duration) (int, error) {
	s := &p.sys
	s.buf = fit(s.buf, len(events))
	n, err := unix.EpollWait(s.epfd, s.buf, timeoutMillis(timeout))
	if err != nil {
		return 0, p.waitErr("epoll_wait", err)
	}
	k := 0
	var stale []int
	for i := range n {
		ev := &s.buf[i]
		fd := int(ev.Fd)
		if fd == s.efd && ev.Pad == 0 {
			// Reading resets the counter to 0 (no EFD_SEMAPHORE). EAGAIN
			// cannot happen, as only wakeup writes and only we read.
			unix.Read(s.efd, s.rbuf[:])
			p.wakeConsumed()
			continue
		}
		// An fd missing from the table, or reported under another
		// registration id, is a registration the kernel kept after its fd
		// was closed (see StaleError).
		st := p.lookup(fd)
		if st == nil || uint32(ev.Pad) != st.id {
			stale = append(stale, fd)
			continue
		}
		if r := epollReady(ev.Events, st.interest); r != 0 {
			events[k] = Event{FD: ev.Fd, Events: r}
			k++
		}
	}
	if stale != nil {
		if err := p.rebuild(); err != nil {
			return k, err
		}
		return k, &StaleError{FDs: stale}
	}
	return k, nil
}

// rebuild replaces the epoll instance with a new one holding the wake
// eventfd and every registration of the table, and closes the old one,
// which takes the stale registrations with it. A registered fd that the new
// instance refuses (it was closed without Remove) stays in the table, so
// that Remove still works, with nothing in the kernel.
func (p *Poller) rebuild() error {
	s := &p.sys
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(s.efd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, s.efd, &ev); err != nil {
		unix.Close(epfd)
		return os.NewSyscallError("epoll_ctl", err)
	}
	for fd, st := range p.registered {
		if st.interest == 0 {
			continue
		}
		ev := unix.EpollEvent{Events: epollFlags(st.interest), Fd: int32(fd), Pad: int32(st.id)}
		unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev)
	}
	// Swap under wakeMu: wakeup does not use epfd, but Close does.
	p.wakeMu.Lock()
	old := s.epfd
	s.epfd = epfd
	p.wakeMu.Unlock()
	unix.Close(old)
	// A wake-up written while the old instance was being replaced is
	// still in the eventfd, which the new instance reports.
	return nil
}

func (s *pollerSys) wakeup() error {
	// EAGAIN: the counter is full, so efd is readable anyway.
	return writeWake(s.efd, s.wbuf[:])
}

func (s *pollerSys) close() error {
	s.buf = nil
	return closeFDs(&s.efd, &s.epfd)
}
