//go:build linux

package poll

import (
	"errors"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWaitEINTR interrupts a blocked epoll_wait with a signal aimed at its
// thread (tgkill; a signal to the process would usually go to another
// thread) and checks that Wait returns (0, nil) and the Poller still works.
func TestWaitEINTR(t *testing.T) {
	p := newPoller(t)
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, syscall.SIGUSR1) // handled by the runtime, not fatal
	defer signal.Stop(sigs)

	tids := make(chan int, 1)
	done := make(chan waitResult, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tids <- unix.Gettid()
		var events [4]Event
		// Nothing is registered and nobody calls Wake, so only EINTR can
		// end this Wait.
		n, err := p.Wait(events[:], -1)
		done <- waitResult{n, err}
	}()
	tid := <-tids
	// The first signals may land before the thread enters epoll_wait; keep
	// sending until the Wait returns.
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(failsafe)
	var r waitResult
wait:
	for {
		select {
		case r = <-done:
			break wait
		case <-tick.C:
			if err := unix.Tgkill(os.Getpid(), tid, unix.SIGUSR1); err != nil {
				t.Fatalf("tgkill: %v", err)
			}
		case <-deadline:
			p.Wake()
			t.Fatalf("Wait was not interrupted by %v of signals", failsafe)
		}
	}
	if r.n != 0 || r.err != nil {
		t.Fatalf("interrupted Wait = %d, %v; want 0, nil", r.n, r.err)
	}
	if p.interrupts == 0 || p.WakeSyscalls() != 0 {
		t.Fatalf("Wait returned with %d interrupts and %d wake syscalls, want EINTR", p.interrupts, p.WakeSyscalls())
	}
	// Still works: a Wake ends a blocking Wait, and a timeout is honored.
	if err := p.Wake(); err != nil {
		t.Fatal(err)
	}
	if got := waitReady(t, p, -1); len(got) != 0 {
		t.Fatalf("Wait after EINTR = %v", got)
	}
	fds := newFDSet(t)
	r0, w0 := fds.pipe()
	if err := p.Add(r0, Read); err != nil {
		t.Fatal(err)
	}
	write(t, w0, 1)
	expectReady(t, p, ready{int32(r0): Read})
}

func TestWaitErr(t *testing.T) {
	p := new(Poller)
	if err := p.waitErr("epoll_wait", unix.EINTR); err != nil || p.interrupts != 1 {
		t.Errorf("waitErr(EINTR) = %v with %d interrupts, want nil with 1", err, p.interrupts)
	}
	err := p.waitErr("epoll_wait", unix.EBADF)
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "epoll_wait" || !errors.Is(err, unix.EBADF) {
		t.Errorf("waitErr(EBADF) = %#v, want *os.SyscallError{epoll_wait, EBADF}", err)
	}
	if p.interrupts != 1 {
		t.Errorf("waitErr(EBADF) counted an interrupt")
	}
}

func TestEpollReady(t *testing.T) {
	const (
		in    = unix.EPOLLIN
		out   = unix.EPOLLOUT
		rdhup = unix.EPOLLRDHUP
		hup   = unix.EPOLLHUP
		errf  = unix.EPOLLERR
	)
	for _, tt := range []struct {
		flags    uint32
		interest Events
		want     Events
	}{
		{in, Read, Read},
		{in, Write, 0},
		{in, Read | Write, Read},
		{out, Write, Write},
		{out, Read, 0},
		{in | out, Read | Write, Read | Write},
		{rdhup, Read, Read},
		{rdhup, Read | Write, Read}, // the peer may still read what we write
		{rdhup, Write, 0},
		{hup, Read, Read},
		{hup, Write, Write},
		{hup, Read | Write, Read | Write},
		{errf, Read, Read},
		{errf, Write, Write},
		{errf | out, Read | Write, Read | Write},
		{hup | errf, 0, 0},
	} {
		if got := epollReady(tt.flags, tt.interest); got != tt.want {
			t.Errorf("epollReady(%#x, %v) = %v, want %v", tt.flags, tt.interest, got, tt.want)
		}
	}
	for _, tt := range []struct {
		ev   Events
		want uint32
	}{
		{0, 0},
		{Read, unix.EPOLLIN | unix.EPOLLRDHUP},
		{Write, unix.EPOLLOUT},
		{Read | Write, unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLOUT},
	} {
		if got := epollFlags(tt.ev); got != tt.want {
			t.Errorf("epollFlags(%v) = %#x, want %#x", tt.ev, got, tt.want)
		}
	}
}

// TestPollerFDs checks the Poller's own fds: close-on-exec, the eventfd
// non-blocking, both refused by Add, and both released by Close.
func TestPollerFDs(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	own := []int{p.sys.epfd, p.sys.efd}
	for _, fd := range own {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("fd %d: F_GETFD = %#x, %v; want FD_CLOEXEC", fd, flags, err)
		}
		for _, ev := range []Events{0, Read} {
			if err := p.Add(fd, ev); !errors.Is(err, unix.EINVAL) {
				t.Errorf("Add(own fd %d, %v): err = %v, want EINVAL", fd, ev, err)
			}
		}
	}
	if fl, err := unix.FcntlInt(uintptr(p.sys.efd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
		t.Errorf("eventfd F_GETFL = %#x, %v; want O_NONBLOCK", fl, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if p.sys.epfd != -1 || p.sys.efd != -1 {
		t.Errorf("after Close: epfd %d, efd %d; want -1", p.sys.epfd, p.sys.efd)
	}
}
