//go:build darwin || dragonfly || freebsd

package poll

// Waking a kqueue with an EVFILT_USER event, on the systems where the
// runtime's netpoller does so too (netpoll_kqueue_event.go) and
// golang.org/x/sys/unix defines EVFILT_USER and NOTE_TRIGGER.

import "golang.org/x/sys/unix"

// wakeIdent identifies the wake-up event. EVFILT_USER idents are a
// namespace of their own within a kqueue, so any value would do; this one
// spells "aiow" and fits the 32-bit ident of freebsd/386 and freebsd/arm.
const wakeIdent = 0x61696f77

// kqueueWake needs no state: the event lives inside the kqueue.
type kqueueWake struct{}

// init adds the user event with EV_CLEAR, so that reporting a trigger also
// resets it: a Wait drains it just by receiving it.
func (w *kqueueWake) init(kq int) error {
	return keventChange(kq, unix.Kevent_t{
		Ident:  wakeIdent,
		Filter: unix.EVFILT_USER,
		Flags:  unix.EV_ADD | unix.EV_CLEAR,
	})
}

// trigger fires the user event; keventChange retries on EINTR, as the
// runtime's wakeNetpoll does.
func (w *kqueueWake) trigger(kq int) error {
	return keventChange(kq, unix.Kevent_t{
		Ident:  wakeIdent,
		Filter: unix.EVFILT_USER,
		Fflags: unix.NOTE_TRIGGER,
	})
}

func (w *kqueueWake) isWake(kev *unix.Kevent_t) bool {
	return kev.Filter == unix.EVFILT_USER && kev.Ident == wakeIdent
}

// drain does nothing: EV_CLEAR reset the event when kevent reported it.
func (w *kqueueWake) drain() {}

func (w *kqueueWake) isPollFD(fd int) bool { return false }

func (w *kqueueWake) close() error { return nil }
