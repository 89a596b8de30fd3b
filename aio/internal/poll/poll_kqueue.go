//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poll

// Readiness polling with kqueue. The wake mechanism, kqueueWake, is an
// EVFILT_USER event where the system has one (poll_kqueue_event.go) and a
// pipe elsewhere (poll_kqueue_pipe.go), as in the runtime's netpoller.
//
// kqueueWake must provide:
//
//	func (w *kqueueWake) init(kq int) error     // create (close-on-exec) and register with kq
//	func (w *kqueueWake) trigger(kq int) error  // make kq's wait return; any goroutine, under Poller.wakeMu
//	func (w *kqueueWake) isWake(kev *unix.Kevent_t) bool
//	func (w *kqueueWake) drain()                // after isWake; loop goroutine
//	func (w *kqueueWake) isPollFD(fd int) bool  // fd belongs to the wake mechanism
//	func (w *kqueueWake) close() error          // under Poller.wakeMu

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ctlOp names the syscall in errors from Add, Modify and Remove.
const ctlOp = "kevent"

// pollerSys is the kqueue implementation's state. kq and the wake
// mechanism's fds are written only by init and close; close runs with
// Poller.wakeMu held, which is what makes wakeup's use of them safe from any
// goroutine.
type pollerSys struct {
	kq   int
	wake kqueueWake
	buf  []unix.Kevent_t // scratch for kevent, as long as the last events slice
	ts   unix.Timespec   // scratch for kevent's timeout
}

func (s *pollerSys) init() error {
	s.kq = -1
	// kqueue has no close-on-exec flag everywhere (only FreeBSD 14's
	// kqueuex and NetBSD's kqueue1), so hold ForkLock, as the syscall and
	// net packages do, to keep a concurrent fork/exec from inheriting kq
	// before it is marked.
	syscall.ForkLock.RLock()
	kq, err := unix.Kqueue()
	if err == nil {
		unix.CloseOnExec(kq)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return os.NewSyscallError("kqueue", err)
	}
	s.kq = kq
	if err := s.wake.init(kq); err != nil {
		closeFDs(&s.kq)
		return err
	}
	return nil
}

func (s *pollerSys) isPollFD(fd int) bool {
	return fd == s.kq || s.wake.isPollFD(fd)
}

func (s *pollerSys) ownFDs() []int { return []int{s.kq} }

// keventChange applies the single change kev to kq. Like the runtime it
// retries on EINTR, although kevent has nothing to sleep on when it gets no
// event list. If the interrupted call had already applied an EV_DELETE, the
// retry fails with ENOENT, which is then success.
func keventChange(kq int, kev unix.Kevent_t) error {
	changes := [1]unix.Kevent_t{kev}
	retried := false
	for {
		_, err := unix.Kevent(kq, changes[:], nil, nil)
		switch {
		case err == nil:
			return nil
		case err == unix.EINTR:
			retried = true
			continue
		case err == unix.ENOENT && retried && kev.Flags&unix.EV_DELETE != 0:
			return nil
		}
		return os.NewSyscallError(ctlOp, err)
	}
}

// filterChange adds (level-triggered: EV_ADD without EV_CLEAR) or deletes
// the kqueue filter for direction d of fd.
func (s *pollerSys) filterChange(fd int32, d Events, add bool) error {
	filter := unix.EVFILT_READ
	if d == Write {
		filter = unix.EVFILT_WRITE
	}
	flags := unix.EV_DELETE
	if add {
		flags = unix.EV_ADD
	}
	var kev unix.Kevent_t
	unix.SetKevent(&kev, int(fd), filter, flags)
	return keventChange(s.kq, kev)
}

// ctl adds and deletes the read and write filters to go from old to new.
// Each filter is a separate kevent call: when a call with several changes
// and no event list fails, the changes before the failing one stay applied
// but the caller cannot tell which those were (EV_RECEIPT, which would say,
// is missing from NetBSD). A failure rolls back the filters already changed,
// and the result is whatever the kernel holds in the end.
//
// kqueue needs no registration id: closing an fd deletes its filters
// whatever duplicates remain, so no stale registration can report events.
// With old == new, the filters are added again (EV_ADD on a live filter
// changes nothing): that re-registers an fd that was closed and whose number
// now names another file, which kqueue cannot tell apart from a live one.
func (s *pollerSys) ctl(fd int32, _ uint32, old, new Events) (Events, error) {
	if old == new {
		for _, d := range [...]Events{Read, Write} {
			if new&d != 0 {
				if err := s.filterChange(fd, d, true); err != nil {
					return new, err
				}
			}
		}
		return new, nil
	}
	cur := old
	var err error
	for _, d := range [...]Events{Read, Write} {
		if (cur^new)&d == 0 {
			continue
		}
		if err = s.filterChange(fd, d, new&d != 0); err != nil {
			break
		}
		cur ^= d
	}
	if err == nil {
		return cur, nil
	}
	for _, d := range [...]Events{Read, Write} {
		if (cur^old)&d != 0 && s.filterChange(fd, d, old&d != 0) == nil {
			cur ^= d
		}
	}
	return cur, err
}

func (p *Poller) wait(events []Event, timeout time.Duration) (int, error) {
	s := &p.sys
	s.buf = fit(s.buf, len(events))
	var tp *unix.Timespec // nil: wait forever
	if ns := timeoutNanos(timeout); ns >= 0 {
		s.ts = unix.NsecToTimespec(ns)
		tp = &s.ts
	}
	n, err := unix.Kevent(s.kq, nil, s.buf, tp)
	if err != nil {
		// Treat ETIMEDOUT like EINTR, as the runtime does without knowing
		// where it comes from; see go.dev/issue/59679.
		if err == unix.ETIMEDOUT {
			err = unix.EINTR
		}
		return 0, p.waitErr("kevent", err)
	}
	// Merge the read and write filters of one fd into one Event: remember
	// in the fd's table entry where this wait put it. The slot checks make a
	// wrapped-around p.gen harmless.
	p.gen++
	k := 0
	for i := range n {
		kev := &s.buf[i]
		if s.wake.isWake(kev) {
			s.wake.drain()
			p.wakeConsumed()
			continue
		}
		// EV_EOF and EV_ERROR need no special case: they come with the
		// filter whose direction they concern, which is all Wait reports.
		var d Events
		switch kev.Filter {
		case unix.EVFILT_READ:
			d = Read
		case unix.EVFILT_WRITE:
			d = Write
		default:
			continue
		}
		fd := int(kev.Ident)
		st := p.lookup(fd)
		if st == nil {
			continue // stale: see the package doc
		}
		if d &= st.interest; d == 0 {
			continue
		}
		if st.gen == p.gen && int(st.slot) < k && events[st.slot].FD == int32(fd) {
			events[st.slot].Events |= d
			continue
		}
		st.gen, st.slot = p.gen, int32(k)
		events[k] = Event{FD: int32(fd), Events: d}
		k++
	}
	return k, nil
}

func (s *pollerSys) wakeup() error {
	return s.wake.trigger(s.kq)
}

func (s *pollerSys) close() error {
	s.buf = nil
	err := s.wake.close()
	if err2 := closeFDs(&s.kq); err == nil {
		err = err2
	}
	return err
}
