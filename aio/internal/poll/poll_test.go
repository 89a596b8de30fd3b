//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package poll

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// failsafe bounds how long a test waits for something that must happen
// eventually (a Wait returning after Wake). It is not a timing assertion:
// only a lost wake-up or a hang comes anywhere near it.
const failsafe = 20 * time.Second

// testT is what the helpers need of *testing.T, *testing.B and *rapid.T.
type testT interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// newPoller returns a Poller closed at the end of the test.
func newPoller(t testT) *Poller {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// fdSet creates non-blocking, close-on-exec fds for one test and closes
// those the test has not closed itself when the test ends, so that no fd
// number is ever closed twice.
type fdSet struct {
	t    testT
	open map[int]bool
}

func newFDSet(t testT) *fdSet {
	s := &fdSet{t: t, open: make(map[int]bool)}
	t.Cleanup(func() {
		for fd := range s.open {
			unix.Close(fd)
		}
	})
	return s
}

func (s *fdSet) track(fds ...int) {
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			s.t.Fatalf("SetNonblock: %v", err)
		}
		unix.CloseOnExec(fd)
		s.open[fd] = true
	}
}

// pipe returns the read and write ends of a new pipe.
func (s *fdSet) pipe() (r, w int) {
	s.t.Helper()
	var p [2]int
	if err := newPipe(p[:]); err != nil {
		s.t.Fatalf("pipe: %v", err)
	}
	s.track(p[0], p[1])
	return p[0], p[1]
}

// socketpair returns the two ends of a new Unix stream socket pair.
func (s *fdSet) socketpair() (a, b int) {
	s.t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		s.t.Fatalf("socketpair: %v", err)
	}
	s.track(p[0], p[1])
	return p[0], p[1]
}

// close closes fd now.
func (s *fdSet) close(fd int) {
	s.t.Helper()
	if !s.open[fd] {
		s.t.Fatalf("close of fd %d not open in this test", fd)
	}
	delete(s.open, fd)
	if err := unix.Close(fd); err != nil {
		s.t.Fatalf("close(%d): %v", fd, err)
	}
}

func write(t testT, fd, n int) {
	t.Helper()
	if got, err := unix.Write(fd, make([]byte, n)); err != nil || got != n {
		t.Fatalf("write(%d, %d bytes) = %d, %v", fd, n, got, err)
	}
}

// read reads up to n bytes and returns how many it got (0 for EAGAIN).
func read(t testT, fd, n int) int {
	t.Helper()
	got, err := unix.Read(fd, make([]byte, n))
	if err == unix.EAGAIN {
		return 0
	}
	if err != nil {
		t.Fatalf("read(%d): %v", fd, err)
	}
	return got
}

// ready is the readiness reported by one Wait, by fd.
type ready map[int32]Events

func (r ready) String() string {
	var s []string
	for _, fd := range slices.Sorted(maps.Keys(r)) {
		s = append(s, fmt.Sprintf("%d:%v", fd, r[fd]))
	}
	return fmt.Sprint(s)
}

// waitReady calls Wait once and returns what it reported, failing the test
// on an error, an fd reported twice, or an empty Events.
func waitReady(t testT, p *Poller, timeout time.Duration) ready {
	t.Helper()
	var events [64]Event
	n, err := p.Wait(events[:], timeout)
	if err != nil {
		t.Fatalf("Wait(%v): %v", timeout, err)
	}
	r := make(ready)
	for _, ev := range events[:n] {
		if _, dup := r[ev.FD]; dup {
			t.Fatalf("Wait reported fd %d twice: %v", ev.FD, events[:n])
		}
		if ev.Events == 0 || ev.Events&^allEvents != 0 {
			t.Fatalf("Wait reported fd %d with Events %v", ev.FD, ev.Events)
		}
		r[ev.FD] = ev.Events
	}
	return r
}

// expectReady checks that a non-blocking Wait reports exactly want.
func expectReady(t testT, p *Poller, want ready) {
	t.Helper()
	if got := waitReady(t, p, 0); !maps.Equal(got, want) {
		t.Fatalf("Wait(0) = %v, want %v", got, want)
	}
}

// timedWait calls Wait once and returns what it reported and how long it
// took. Tests use it to check that Wait does not return before its timeout,
// which a signal may legitimately make it do (EINTR; the runtime sends its
// preemption signal only to goroutines not in a syscall, but it can race
// with a goroutine entering one): so it tries again if p counted an
// interrupt.
func timedWait(t testT, p *Poller, timeout time.Duration) (ready, time.Duration) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		before := p.interrupts
		start := time.Now()
		got := waitReady(t, p, timeout)
		elapsed := time.Since(start)
		if p.interrupts == before || attempt == 3 {
			return got, elapsed
		}
	}
}

// waitAsync runs Wait(events, -1) in a new goroutine and returns a channel
// delivering its result.
type waitResult struct {
	n   int
	err error
}

func waitAsync(p *Poller) <-chan waitResult {
	c := make(chan waitResult, 1)
	go func() {
		var events [8]Event
		n, err := p.Wait(events[:], -1)
		c <- waitResult{n, err}
	}()
	return c
}

// awaitReturn fails the test if Wait has not returned within failsafe, and
// then wakes it so that the goroutine does not leak.
func awaitReturn(t *testing.T, p *Poller, c <-chan waitResult) waitResult {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(failsafe):
		p.Wake()
		t.Fatalf("Wait(-1) did not return within %v", failsafe)
		panic("unreachable")
	}
}

func TestReadiness(t *testing.T) {
	tests := []struct {
		name  string
		setup func(fds *fdSet) (fd int, ev Events, want Events)
	}{
		{"pipe read end with data", func(fds *fdSet) (int, Events, Events) {
			r, w := fds.pipe()
			write(t, w, 1)
			return r, Read, Read
		}},
		{"pipe read end empty", func(fds *fdSet) (int, Events, Events) {
			r, _ := fds.pipe()
			return r, Read, 0
		}},
		{"pipe write end", func(fds *fdSet) (int, Events, Events) {
			_, w := fds.pipe()
			return w, Write, Write
		}},
		{"socketpair writable at once", func(fds *fdSet) (int, Events, Events) {
			a, _ := fds.socketpair()
			return a, Write, Write
		}},
		{"socketpair not readable", func(fds *fdSet) (int, Events, Events) {
			a, _ := fds.socketpair()
			return a, Read, 0
		}},
		{"socketpair readable and writable is one event", func(fds *fdSet) (int, Events, Events) {
			a, b := fds.socketpair()
			write(t, b, 10)
			return a, Read | Write, Read | Write
		}},
		{"socketpair with data, write interest only", func(fds *fdSet) (int, Events, Events) {
			a, b := fds.socketpair()
			write(t, b, 10)
			return a, Write, Write
		}},
		{"socketpair with data, no interest", func(fds *fdSet) (int, Events, Events) {
			a, b := fds.socketpair()
			write(t, b, 10)
			return a, 0, 0
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPoller(t)
			fd, ev, want := tt.setup(newFDSet(t))
			if err := p.Add(fd, ev); err != nil {
				t.Fatalf("Add(%d, %v): %v", fd, ev, err)
			}
			wantReady := ready{}
			if want != 0 {
				wantReady[int32(fd)] = want
			}
			expectReady(t, p, wantReady)
			if want != 0 {
				// A ready fd also ends a blocking Wait.
				if got := waitReady(t, p, -1); !maps.Equal(got, wantReady) {
					t.Fatalf("Wait(-1) = %v, want %v", got, wantReady)
				}
			}
		})
	}
}

func TestModify(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	a, b := fds.socketpair()
	write(t, b, 1) // a is readable and writable from here on
	if err := p.Add(a, Read); err != nil {
		t.Fatal(err)
	}
	fd := int32(a)
	expectReady(t, p, ready{fd: Read})
	for _, step := range []struct {
		ev   Events
		want ready
	}{
		{Write, ready{fd: Write}},
		{Read | Write, ready{fd: Read | Write}},
		{Read | Write, ready{fd: Read | Write}}, // no change
		{0, ready{}},
		{Read, ready{fd: Read}},
		{0, ready{}},
		{Write, ready{fd: Write}},
		{Read, ready{fd: Read}},
	} {
		if err := p.Modify(a, step.ev); err != nil {
			t.Fatalf("Modify(%v): %v", step.ev, err)
		}
		expectReady(t, p, step.want)
	}
}

func TestLevelTriggered(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	r, w := fds.pipe()
	if err := p.Add(r, Read); err != nil {
		t.Fatal(err)
	}
	write(t, w, 3)
	want := ready{int32(r): Read}
	// Reported by every Wait until drained, not just once.
	for i := range 3 {
		expectReady(t, p, want)
		if got := waitReady(t, p, time.Hour); !maps.Equal(got, want) {
			t.Fatalf("Wait %d = %v, want %v", i, got, want)
		}
	}
	if n := read(t, r, 1); n != 1 {
		t.Fatalf("read %d bytes, want 1", n)
	}
	expectReady(t, p, want) // 2 bytes left
	if n := read(t, r, 10); n != 2 {
		t.Fatalf("read %d bytes, want 2", n)
	}
	expectReady(t, p, ready{})
	write(t, w, 1)
	expectReady(t, p, want)
}

func TestAddNoInterest(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	r, w := fds.pipe()
	write(t, w, 1)
	if err := p.Add(r, 0); err != nil {
		t.Fatal(err)
	}
	expectReady(t, p, ready{})
	if err := p.Add(r, Read); !errors.Is(err, unix.EEXIST) {
		t.Fatalf("Add of fd added with no interest: err = %v, want EEXIST", err)
	}
	if err := p.Modify(r, Read); err != nil {
		t.Fatal(err)
	}
	expectReady(t, p, ready{int32(r): Read})
	if err := p.Remove(r); err != nil {
		t.Fatal(err)
	}
	expectReady(t, p, ready{})
}

func TestRemove(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	r, w := fds.pipe()
	a, _ := fds.socketpair()
	for _, fd := range []int{r, a} {
		if err := p.Add(fd, Read|Write); err != nil {
			t.Fatal(err)
		}
	}
	write(t, w, 1)
	expectReady(t, p, ready{int32(r): Read, int32(a): Write})
	if err := p.Remove(r); err != nil {
		t.Fatal(err)
	}
	expectReady(t, p, ready{int32(a): Write})
	if err := p.Remove(a); err != nil {
		t.Fatal(err)
	}
	expectReady(t, p, ready{})
	if got := waitReady(t, p, 5*time.Millisecond); len(got) != 0 {
		t.Fatalf("Wait after Remove = %v, want nothing", got)
	}
	// Registering again works, and so does reusing the number of an fd
	// that was removed and then closed.
	if err := p.Add(r, Read); err != nil {
		t.Fatalf("Add after Remove: %v", err)
	}
	expectReady(t, p, ready{int32(r): Read})
	if err := p.Remove(r); err != nil {
		t.Fatal(err)
	}
	fds.close(r)
	fds.close(w)
	r2, w2 := fds.pipe() // most likely reuses r's number
	write(t, w2, 1)
	if err := p.Add(r2, Read); err != nil {
		t.Fatalf("Add of new fd %d (old fd %d): %v", r2, r, err)
	}
	expectReady(t, p, ready{int32(r2): Read})
}

func TestRegistrationErrors(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	r, _ := fds.pipe()
	closedR, closedW := fds.pipe()
	fds.close(closedR)
	fds.close(closedW)
	if err := p.Add(r, Read); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"Add twice", func() error { return p.Add(r, Read) }, unix.EEXIST},
		{"Add twice with other interest", func() error { return p.Add(r, Write) }, unix.EEXIST},
		{"Modify unregistered", func() error { return p.Modify(closedR, Read) }, unix.ENOENT},
		{"Remove unregistered", func() error { return p.Remove(closedR) }, unix.ENOENT},
		{"Remove negative", func() error { return p.Remove(-1) }, unix.ENOENT},
		{"Add negative", func() error { return p.Add(-1, Read) }, unix.EBADF},
		{"Add huge", func() error { return p.Add(math.MaxInt, Read) }, unix.EBADF},
		{"Add closed fd", func() error { return p.Add(closedR, Read) }, unix.EBADF},
		{"Add closed fd without interest", func() error { return p.Add(closedR, 0) }, unix.EBADF},
		{"Add bad events", func() error { return p.Add(closedR, 1<<7) }, unix.EINVAL},
		{"Modify bad events", func() error { return p.Modify(r, Read|1<<5) }, unix.EINVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var se *os.SyscallError
			if !errors.As(err, &se) {
				t.Fatalf("err = %#v, want an *os.SyscallError", err)
			}
		})
	}
	// The failed calls changed nothing.
	if err := p.Remove(r); err != nil {
		t.Fatalf("Remove after failed calls: %v", err)
	}
	if err := p.Add(closedR, Read); !errors.Is(err, unix.EBADF) {
		t.Fatalf("Add closed fd again: %v", err)
	}
}

func TestHangup(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, fds *fdSet) (fd int, ev Events, hangUp func())
		want     Events
		addFails bool // on kqueue, Add after the hang-up may fail
	}{
		{"socketpair peer closed, read interest", func(t *testing.T, fds *fdSet) (int, Events, func()) {
			a, b := fds.socketpair()
			return a, Read, func() { fds.close(b) }
		}, Read, false},
		{"socketpair peer closed, write interest", func(t *testing.T, fds *fdSet) (int, Events, func()) {
			a, b := fds.socketpair()
			return a, Write, func() { fds.close(b) }
		}, Write, false},
		{"socketpair peer closed, both", func(t *testing.T, fds *fdSet) (int, Events, func()) {
			a, b := fds.socketpair()
			return a, Read | Write, func() { fds.close(b) }
		}, Read | Write, false},
		{"socketpair peer shut down writing", func(t *testing.T, fds *fdSet) (int, Events, func()) {
			a, b := fds.socketpair()
			return a, Read, func() {
				if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
					t.Fatal(err)
				}
			}
		}, Read, false},
		{"pipe writer closed", func(t *testing.T, fds *fdSet) (int, Events, func()) {
			r, w := fds.pipe()
			return r, Read, func() { fds.close(w) }
		}, Read, false},
		{"pipe reader closed", func(t *testing.T, fds *fdSet) (int, Events, func()) {
			r, w := fds.pipe()
			return w, Write, func() { fds.close(r) }
		}, Write, true},
	}
	for _, tt := range tests {
		for _, before := range []bool{false, true} {
			name := tt.name + "/registered before hang-up"
			if before {
				name = tt.name + "/hang-up before Add"
			}
			t.Run(name, func(t *testing.T) {
				if before && tt.addFails && runtime.GOOS != "linux" {
					// FreeBSD's kqueue refuses EVFILT_WRITE on a pipe
					// whose reader is gone with EPIPE: Add itself then
					// reports the error.
					t.Skip("kqueue may refuse this registration")
				}
				p := newPoller(t)
				fd, ev, hangUp := tt.setup(t, newFDSet(t))
				if before {
					hangUp()
				}
				if err := p.Add(fd, ev); err != nil {
					t.Fatal(err)
				}
				if !before {
					hangUp()
				}
				want := ready{int32(fd): tt.want}
				expectReady(t, p, want)
				if got := waitReady(t, p, -1); !maps.Equal(got, want) {
					t.Fatalf("Wait(-1) = %v, want %v", got, want)
				}
				if tt.want&Read != 0 {
					// The caller's read discovers end-of-file.
					if n, err := unix.Read(fd, make([]byte, 1)); n != 0 || err != nil {
						t.Fatalf("read after hang-up = %d, %v; want 0, nil", n, err)
					}
				}
			})
		}
	}
}

// TestHangupWakesWait checks that a peer's close ends a blocked Wait.
func TestHangupWakesWait(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	a, b := fds.socketpair()
	if err := p.Add(a, Read); err != nil {
		t.Fatal(err)
	}
	c := waitAsync(p)
	time.Sleep(10 * time.Millisecond) // most likely blocked in the kernel by now
	fds.close(b)
	if r := awaitReturn(t, p, c); r.err != nil || r.n != 1 {
		t.Fatalf("Wait = %d, %v; want 1, nil", r.n, r.err)
	}
}

// TestHangupWithoutInterest checks that an fd with no interest is not
// reported even when hung up, and does not make Wait spin: epoll reports
// EPOLLHUP whether asked or not, so the fd must not be in the epoll set.
func TestHangupWithoutInterest(t *testing.T) {
	for _, viaModify := range []bool{false, true} {
		t.Run(fmt.Sprintf("viaModify=%v", viaModify), func(t *testing.T) {
			p := newPoller(t)
			fds := newFDSet(t)
			a, b := fds.socketpair()
			fds.close(b)
			ev := Events(0)
			if viaModify {
				ev = Read | Write
			}
			if err := p.Add(a, ev); err != nil {
				t.Fatal(err)
			}
			if viaModify {
				expectReady(t, p, ready{int32(a): Read | Write})
				if err := p.Modify(a, 0); err != nil {
					t.Fatal(err)
				}
			}
			const d = 30 * time.Millisecond
			if got, elapsed := timedWait(t, p, d); len(got) != 0 || elapsed < d {
				t.Fatalf("Wait(%v) = %v after %v; want nothing after >= %v", d, got, elapsed, d)
			}
		})
	}
}

func TestWakeWhileWaiting(t *testing.T) {
	p := newPoller(t)
	for round := range 5 {
		before := p.WakeSyscalls()
		c := waitAsync(p)
		time.Sleep(5 * time.Millisecond) // most likely blocked in the kernel by now
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
		if r := awaitReturn(t, p, c); r.n != 0 || r.err != nil {
			t.Fatalf("round %d: Wait = %d, %v; want 0, nil (wake-ups are not events)", round, r.n, r.err)
		}
		if got := p.WakeSyscalls() - before; got != 1 {
			t.Fatalf("round %d: %d wake syscalls, want 1", round, got)
		}
	}
}

func TestWakeBeforeWait(t *testing.T) {
	p := newPoller(t)
	for _, timeout := range []time.Duration{-1, time.Hour} {
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
		// Returns at once; run it in a goroutine only to fail instead of
		// hanging if it did not.
		c := make(chan waitResult, 1)
		go func() {
			var events [4]Event
			n, err := p.Wait(events[:], timeout)
			c <- waitResult{n, err}
		}()
		if r := awaitReturn(t, p, c); r.n != 0 || r.err != nil {
			t.Fatalf("Wait(%v) after Wake = %d, %v; want 0, nil", timeout, r.n, r.err)
		}
		// That Wait consumed the wake-up: the next one times out.
		const d = 10 * time.Millisecond
		got, elapsed := timedWait(t, p, d)
		if len(got) != 0 {
			t.Fatalf("second Wait = %v", got)
		}
		if elapsed < d {
			t.Fatalf("second Wait(%v) returned after %v: wake-up not consumed", d, elapsed)
		}
	}
}

// TestWakeWithReadyFD checks that a wake-up is consumed alongside fd
// events and never reported as one.
func TestWakeWithReadyFD(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	r, w := fds.pipe()
	if err := p.Add(r, Read); err != nil {
		t.Fatal(err)
	}
	write(t, w, 1)
	if err := p.Wake(); err != nil {
		t.Fatal(err)
	}
	expectReady(t, p, ready{int32(r): Read})
	read(t, r, 1)
	before := p.WakeSyscalls()
	if err := p.Wake(); err != nil {
		t.Fatal(err)
	}
	if got := p.WakeSyscalls() - before; got != 1 {
		t.Fatalf("Wake after a consumed wake-up made %d syscalls, want 1", got)
	}
	expectReady(t, p, ready{})
}

func TestWakeCoalesced(t *testing.T) {
	p := newPoller(t)
	const goroutines, perGoroutine = 16, 625 // 10k Wake calls
	burst := func() {
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for range perGoroutine {
					if err := p.Wake(); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	for round := range 3 {
		before := p.WakeSyscalls()
		burst()
		if got := p.WakeSyscalls() - before; got != 1 {
			t.Fatalf("round %d: %d Wake calls with no Wait between made %d syscalls, want 1",
				round, goroutines*perGoroutine, got)
		}
		// Consume it; then the next burst pays one syscall again.
		if got := waitReady(t, p, -1); len(got) != 0 {
			t.Fatalf("Wait = %v", got)
		}
		if got := p.WakeSyscalls() - before; got != 1 {
			t.Fatalf("Wait made wake syscalls: %d", got)
		}
	}
}

// TestWakeCoalescedWhileWaiting has goroutines hammer Wake while the loop
// waits: each wake syscall must be consumed by a distinct Wait return, so
// there can be at most one more syscall than Wait returns.
func TestWakeCoalescedWhileWaiting(t *testing.T) {
	p := newPoller(t)
	const goroutines, perGoroutine = 16, 625
	var stop atomic.Bool
	waits := 0
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		var events [4]Event
		for !stop.Load() {
			if _, err := p.Wait(events[:], -1); err != nil {
				t.Error(err)
				return
			}
			waits++
		}
	}()
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range perGoroutine {
				p.Wake()
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	p.Wake()
	select {
	case <-loopDone:
	case <-time.After(failsafe):
		t.Fatal("loop did not stop: wake-up lost")
	}
	syscalls := p.WakeSyscalls()
	t.Logf("%d Wake calls: %d wake syscalls, %d Wait returns", goroutines*perGoroutine+1, syscalls, waits)
	if syscalls > uint64(waits)+1 {
		t.Fatalf("%d wake syscalls for %d Wait returns", syscalls, waits)
	}
}

// TestWakeNeverLost plays ping-pong: each producer publishes a request,
// wakes the loop and waits for the loop to answer before the next one. A
// single lost wake-up hangs it.
func TestWakeNeverLost(t *testing.T) {
	for _, producers := range []int{1, 4} {
		t.Run(fmt.Sprintf("producers=%d", producers), func(t *testing.T) {
			p := newPoller(t)
			rounds := 2000
			if testing.Short() {
				rounds = 200
			}
			pending := make([]atomic.Bool, producers)
			acks := make([]chan struct{}, producers)
			for i := range acks {
				acks[i] = make(chan struct{}, 1)
			}
			var finished atomic.Int32
			loopDone := make(chan struct{})
			go func() {
				defer close(loopDone)
				var events [4]Event
				for {
					// Check for work after every return, as an event loop does.
					for i := range pending {
						if pending[i].Swap(false) {
							acks[i] <- struct{}{}
						}
					}
					if finished.Load() == int32(producers) {
						return
					}
					if _, err := p.Wait(events[:], -1); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			for i := range producers {
				go func() {
					defer func() {
						finished.Add(1)
						p.Wake()
					}()
					for range rounds {
						pending[i].Store(true)
						if err := p.Wake(); err != nil {
							t.Error(err)
							return
						}
						<-acks[i]
					}
				}()
			}
			select {
			case <-loopDone:
			case <-time.After(failsafe):
				t.Fatal("ping-pong stalled: wake-up lost")
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	r, _ := fds.pipe()
	if err := p.Add(r, Read); err != nil { // registered but never ready
		t.Fatal(err)
	}
	for _, d := range []time.Duration{
		0,
		time.Nanosecond,
		300 * time.Microsecond, // must become 1ms for epoll_wait, not 0
		time.Millisecond,
		1500 * time.Microsecond,
		20 * time.Millisecond,
	} {
		t.Run(d.String(), func(t *testing.T) {
			got, elapsed := timedWait(t, p, d)
			if len(got) != 0 {
				t.Fatalf("Wait(%v) = %v; want nothing", d, got)
			}
			// Never early. No upper bound: machines are noisy.
			if elapsed < d {
				t.Fatalf("Wait(%v) returned after %v", d, elapsed)
			}
		})
	}
}

func TestTimeoutMillis(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int
	}{
		{-1, -1},
		{-time.Hour, -1},
		{-1 << 63, -1},
		{0, 0},
		{1, 1},
		{300 * time.Microsecond, 1},
		{time.Millisecond, 1},
		{time.Millisecond + 1, 2},
		{20 * time.Millisecond, 20},
		{20*time.Millisecond - 1, 20},
		{24 * time.Hour, 86_400_000},
		{maxWaitMillis * time.Millisecond, maxWaitMillis},
		{maxWaitMillis*time.Millisecond + 1, maxWaitMillis},
		{1<<63 - 1, maxWaitMillis},
	} {
		if got := timeoutMillis(tt.d); got != tt.want {
			t.Errorf("timeoutMillis(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}

func TestTimeoutNanos(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int64
	}{
		{-1, -1},
		{-1 << 63, -1},
		{0, 0},
		{1, 1},
		{300 * time.Microsecond, 300_000},
		{24 * time.Hour, int64(24 * time.Hour)},
		{1<<63 - 1, maxWaitNanos},
	} {
		if got := timeoutNanos(tt.d); got != tt.want {
			t.Errorf("timeoutNanos(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
	// kevent on Darwin rejects tv_sec above 1e8.
	if sec := maxWaitNanos / int64(time.Second); sec > 1e8 {
		t.Errorf("maxWaitNanos is %d s", sec)
	}
}

func TestWaitEmptyEvents(t *testing.T) {
	p := newPoller(t)
	if n, err := p.Wait(nil, 0); n != 0 || err == nil {
		t.Fatalf("Wait(nil, 0) = %d, %v; want an error", n, err)
	}
}

// TestWaitSmallBuffer checks that when more fds are ready than fit in
// events, successive Waits rotate through all of them.
func TestWaitSmallBuffer(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	want := make(map[int32]bool)
	for range 10 {
		r, w := fds.pipe()
		write(t, w, 1)
		if err := p.Add(r, Read); err != nil {
			t.Fatal(err)
		}
		want[int32(r)] = true
	}
	seen := make(map[int32]bool)
	var events [3]Event
	for i := 0; i < 10 && len(seen) < len(want); i++ {
		n, err := p.Wait(events[:], 0)
		if err != nil || n != len(events) {
			t.Fatalf("Wait = %d, %v; want %d, nil", n, err, len(events))
		}
		for _, ev := range events[:n] {
			if !want[ev.FD] || ev.Events != Read {
				t.Fatalf("unexpected event %+v", ev)
			}
			seen[ev.FD] = true
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("10 Waits with room for 3 saw %d of %d ready fds", len(seen), len(want))
	}
}

func TestClose(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	fds := newFDSet(t)
	r, _ := fds.pipe()
	if err := p.Add(r, Read); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checkClosed(t, p, r)
	// The registered fd is the caller's, still open.
	if _, err := unix.FcntlInt(uintptr(r), unix.F_GETFD, 0); err != nil {
		t.Fatalf("Close closed a registered fd: %v", err)
	}
	// A Poller not made by New behaves like a closed one rather than
	// polling fd 0.
	checkClosed(t, new(Poller), r)
}

func checkClosed(t *testing.T, p *Poller, fd int) {
	t.Helper()
	var events [4]Event
	for _, op := range []struct {
		name string
		call func() error
	}{
		{"Wait", func() error { _, err := p.Wait(events[:], -1); return err }},
		{"Add", func() error { return p.Add(fd, Read) }},
		{"Modify", func() error { return p.Modify(fd, Write) }},
		{"Remove", func() error { return p.Remove(fd) }},
		{"Wake", p.Wake},
		{"Close", p.Close}, // twice: harmless, with a clear error
	} {
		if err := op.call(); !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want os.ErrClosed", op.name, err)
		}
	}
}

// TestCloseConcurrentWake closes the Poller while other goroutines keep
// calling Wake: they must get nil or os.ErrClosed, and the race detector
// must stay quiet.
func TestCloseConcurrentWake(t *testing.T) {
	for range 20 {
		p, err := New()
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				<-start
				for range 200 {
					if err := p.Wake(); err != nil && !errors.Is(err, os.ErrClosed) {
						t.Error(err)
						return
					}
				}
			})
		}
		close(start)
		// Consume wake-ups for a while, so that Wakes keep making
		// syscalls up to and across the Close.
		var events [4]Event
		for range 50 {
			if _, err := p.Wait(events[:], 0); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
}

// TestNoAllocs checks that the hot paths do not allocate once warm.
func TestNoAllocs(t *testing.T) {
	p := newPoller(t)
	fds := newFDSet(t)
	r, w := fds.pipe()
	write(t, w, 1)
	if err := p.Add(r, Read); err != nil {
		t.Fatal(err)
	}
	var events [16]Event
	for _, tt := range []struct {
		name string
		f    func()
	}{
		{"Wait on ready fd", func() { p.Wait(events[:], -1) }},
		{"Wake coalesced", func() { p.Wake() }},
		{"Wake and Wait", func() { p.Wake(); p.Wait(events[:], -1) }},
	} {
		if n := testing.AllocsPerRun(100, tt.f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, n)
		}
	}
}
