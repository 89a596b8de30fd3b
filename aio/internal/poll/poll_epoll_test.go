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

// TestStaleRegistrationPurged: a registration kept alive in epoll by a
// duplicate of its fd, after the fd was closed and removed (Remove fails:
// epoll_ctl cannot name it any more), is reported once as a *StaleError
// and purged, instead of making every later Wait return at once.
func TestStaleRegistrationPurged(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	r, w := fds.pipe()
	other, otherW := fds.pipe()
	if err := p.Add(r, Read); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(other, Read); err != nil {
		t.Fatal(err)
	}
	dup, err := unix.Dup(r)
	if err != nil {
		t.Fatal(err)
	}
	fds.track(dup)
	fds.close(r)
	if err := p.Remove(r); err == nil {
		t.Fatal("Remove of a closed fd succeeded; the test needs it to fail")
	}
	write(t, w, 1) // the kept registration is now ready, for ever
	var events [8]Event
	n, err := p.Wait(events[:], 0)
	var se *StaleError
	if !errors.As(err, &se) || len(se.FDs) != 1 || se.FDs[0] != r || n != 0 {
		t.Fatalf("Wait = %d, %v; want 0 and a *StaleError naming fd %d", n, err, r)
	}
	// Purged: nothing reported, no error, and a timed Wait waits.
	if got, elapsed := timedWait(t, p, 20*time.Millisecond); len(got) != 0 || elapsed < 20*time.Millisecond {
		t.Fatalf("after the purge Wait(20ms) = %v after %v", got, elapsed)
	}
	// The rebuilt poller kept the live registration and the wake-up.
	write(t, otherW, 1)
	expectReady(t, p, ready{int32(other): Read})
	read(t, other, 1)
	if err := p.Wake(); err != nil {
		t.Fatal(err)
	}
	if got := waitReady(t, p, -1); len(got) != 0 {
		t.Fatalf("Wait after Wake = %v", got)
	}
}

// TestStaleRegistrationBesideNewOne: the fd number of a closed fd (kept in
// epoll by a duplicate) is reused by a new file that is registered in turn.
// Both registrations carry the same fd number; the registration id tells
// them apart, so the old one's readiness is not reported as the new one's.
func TestStaleRegistrationBesideNewOne(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	r, w := fds.pipe()
	if err := p.Add(r, Read); err != nil {
		t.Fatal(err)
	}
	dup, err := unix.Dup(r)
	if err != nil {
		t.Fatal(err)
	}
	fds.track(dup)
	fds.close(r)
	p.Remove(r) // fails: the number no longer names the registered file
	r2, w2 := fds.pipe()
	if r2 != r {
		t.Skipf("the new pipe got fd %d, not the freed %d", r2, r)
	}
	if err := p.Add(r2, Read); err != nil {
		t.Fatal(err)
	}
	write(t, w, 1) // only the old file is readable
	var events [8]Event
	n, err := p.Wait(events[:], 0)
	var se *StaleError
	if !errors.As(err, &se) || n != 0 {
		t.Fatalf("Wait = %v, %v; want nothing reported and a *StaleError", events[:n], err)
	}
	expectReady(t, p, ready{})
	write(t, w2, 1)
	expectReady(t, p, ready{int32(r2): Read})
}

// TestModifyFindsClosedFD: Modify with the current interest still asks the
// kernel, so a registration dropped because its fd was closed (and its
// number reused) is reported as ENOENT instead of silently never firing.
func TestModifyFindsClosedFD(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	r, _ := fds.pipe()
	if err := p.Add(r, Read); err != nil {
		t.Fatal(err)
	}
	if err := p.Modify(r, Read); err != nil {
		t.Fatalf("Modify with unchanged interest: %v", err)
	}
	fds.close(r)
	r2, w2 := fds.pipe()
	if r2 != r {
		t.Skipf("the new pipe got fd %d, not the freed %d", r2, r)
	}
	if err := p.Modify(r2, Read); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("Modify of a reused fd number = %v, want ENOENT", err)
	}
	p.Remove(r2)
	if err := p.Add(r2, Read); err != nil {
		t.Fatalf("Add after Remove: %v", err)
	}
	write(t, w2, 1)
	expectReady(t, p, ready{int32(r2): Read})
}
