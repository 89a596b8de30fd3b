package aio_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// A reader is level-triggered: it is called once per iteration while the fd
// is readable, until RemoveReader, which reports whether it was watched.
func TestAddReaderLevelTriggered(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	iter := 0
	var calls []int // iterations in which the reader ran
	var removed1, removed2 bool
	var errs []error
	afterRemove := 0
	l.CallSoon(func() {
		if err := l.AddReader(r, func() {
			calls = append(calls, iter)
			if len(calls) == 3 {
				// Not drained: it would fire forever. Remove it, and let
				// a few more iterations pass.
				var err1, err2 error
				removed1, err1 = l.RemoveReader(r)
				removed2, err2 = l.RemoveReader(r)
				errs = append(errs, err1, err2)
				var tick func()
				tick = func() {
					afterRemove++
					if afterRemove < 5 {
						l.CallSoon(tick)
					}
				}
				l.CallSoon(tick)
			}
		}); err != nil {
			errs = append(errs, err)
		}
		writeFD(w, []byte("x"))
	})
	runUntil(t, l, counted(&iter, func() bool { return afterRemove == 5 }))
	for _, err := range errs {
		if err != nil {
			t.Errorf("error: %v", err)
		}
	}
	if len(calls) != 3 {
		t.Fatalf("reader called %d times, want 3 (it was removed at the third call)", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] != calls[i-1]+1 {
			t.Errorf("reader ran in iterations %v, want one call in each consecutive iteration while readable", calls)
			break
		}
	}
	if !removed1 || removed2 {
		t.Errorf("RemoveReader reported %v then %v, want true then false", removed1, removed2)
	}
}

// A reader that drains its fd is not called again until new data arrives.
func TestAddReaderDrained(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	var got []byte
	calls := 0
	ticks := 0
	l.CallSoon(func() {
		if err := l.AddReader(r, func() {
			calls++
			var b [64]byte
			n := readFD(r, b[:])
			got = append(got, b[:max(n, 0)]...)
		}); err != nil {
			t.Errorf("AddReader: %v", err)
		}
		writeFD(w, []byte("ab"))
		// Let several iterations pass with nothing written.
		var tick func()
		tick = func() {
			ticks++
			switch ticks {
			case 10:
				writeFD(w, []byte("cd"))
			case 20:
				return
			}
			l.CallSoon(tick)
		}
		l.CallSoon(tick)
	})
	runUntil(t, l, func() bool { return ticks == 20 })
	if string(got) != "abcd" {
		t.Errorf("read %q, want \"abcd\"", got)
	}
	if calls != 2 {
		t.Errorf("reader called %d times, want 2 (once per write, each draining it)", calls)
	}
}

// A hang-up (the write end closed) makes the read end readable.
func TestAddReaderEOF(t *testing.T) {
	l := newLoop(t)
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	r, w := p[0], p[1]
	defer syscall.Close(r)
	eof := false
	l.CallSoon(func() {
		if err := l.AddReader(r, func() {
			var b [8]byte
			if n, err := syscall.Read(r, b[:]); n == 0 && err == nil {
				eof = true
				l.RemoveReader(r)
			}
		}); err != nil {
			t.Errorf("AddReader: %v", err)
		}
		syscall.Close(w)
	})
	runUntil(t, l, func() bool { return eof })
}

// A writer is level-triggered too: it is called once per iteration while the
// fd is writable, until RemoveWriter, which reports true for the watched fd
// and false once it is removed; it is not called after the removal.
func TestAddWriter(t *testing.T) {
	l := newLoop(t)
	a, _ := socketpair(t)
	calls := 0
	var removed1, removed2 bool
	var errs []error
	ticks := 0
	var tick func()
	tick = func() {
		ticks++
		if ticks < 5 {
			l.CallSoon(tick)
		}
	}
	l.CallSoon(func() {
		if err := l.AddWriter(a, func() {
			calls++
			if calls == 2 {
				var err1, err2 error
				removed1, err1 = l.RemoveWriter(a)
				removed2, err2 = l.RemoveWriter(a)
				errs = append(errs, err1, err2)
				l.CallSoon(tick) // a few more iterations
			}
		}); err != nil {
			errs = append(errs, err)
		}
	})
	runUntil(t, l, func() bool { return ticks == 5 })
	for _, err := range errs {
		if err != nil {
			t.Errorf("error: %v", err)
		}
	}
	if calls != 2 {
		t.Errorf("writer called %d times, want 2", calls)
	}
	if !removed1 || removed2 {
		t.Errorf("RemoveWriter reported %v then %v, want true then false", removed1, removed2)
	}
}

// A reader and a writer on one fd are independent: removing one leaves the
// other, and RemoveReader of a writer-only fd reports false.
func TestReaderAndWriterOnOneFD(t *testing.T) {
	l := newLoop(t)
	a, b := socketpair(t)
	var reads, writes, writesAfter int
	readerRemoved := false
	var results []bool
	l.CallSoon(func() {
		l.AddWriter(a, func() {
			writes++
			if readerRemoved {
				writesAfter++
				if writesAfter == 3 {
					ok, _ := l.RemoveWriter(a)
					results = append(results, ok)
				}
			}
		})
		l.AddReader(a, func() {
			reads++
			var buf [8]byte
			readFD(a, buf[:])
			ok1, _ := l.RemoveReader(a)
			ok2, _ := l.RemoveReader(a)
			results = append(results, ok1, ok2)
			readerRemoved = true
		})
		writeFD(b, []byte("x"))
	})
	runUntil(t, l, func() bool { return writesAfter >= 3 })
	if reads != 1 {
		t.Errorf("reader called %d times, want 1", reads)
	}
	if want := []bool{true, false, true}; len(results) != 3 || results[0] != want[0] || results[1] != want[1] || results[2] != want[2] {
		t.Errorf("Remove results %v, want %v", results, want)
	}
	if l.WatchedFDsForTest() != 0 {
		t.Error("the fd is still watched after removing both directions")
	}
}

// A second AddReader for the same fd replaces the callback: only the new one
// runs.
func TestAddReaderReplaces(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	first, second := 0, 0
	l.CallSoon(func() {
		l.AddReader(r, func() { first++ })
		if err := l.AddReader(r, func() {
			second++
			var b [8]byte
			readFD(r, b[:])
		}); err != nil {
			t.Errorf("second AddReader: %v", err)
		}
		writeFD(w, []byte("x"))
	})
	runUntil(t, l, func() bool { return second > 0 })
	if first != 0 || second != 1 {
		t.Errorf("first reader called %d times, second %d; want 0 and 1", first, second)
	}
}

// RemoveReader takes effect at once, even for readiness the current
// iteration has already polled: a callback queued before the poll removes
// the reader, and the reader must not run in the batch.
func TestRemoveReaderAfterPoll(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	readerCalls := 0
	done := false
	l.CallSoon(func() {
		l.AddReader(r, func() { readerCalls++ })
		writeFD(w, []byte("x"))
		// This callback is queued now, so it runs in the next iteration
		// before the reader, which the next poll queues behind it.
		l.CallSoon(func() {
			if ok, err := l.RemoveReader(r); !ok || err != nil {
				t.Errorf("RemoveReader = %v, %v", ok, err)
			}
			l.CallSoon(func() { done = true })
		})
	})
	runUntil(t, l, func() bool { return done })
	if readerCalls != 0 {
		t.Errorf("the reader ran %d times after it was removed", readerCalls)
	}
}

// After RemoveReader the fd may be closed and its number reused.
func TestReaderFDReuse(t *testing.T) {
	l := newLoop(t)
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	var q [2]int
	q[0], q[1] = -1, -1
	defer func() { syscall.Close(q[0]); syscall.Close(q[1]) }()
	var errs []error
	fired, reused := false, false
	l.CallSoon(func() {
		if err := l.AddReader(p[0], func() {}); err != nil {
			errs = append(errs, err)
		}
		if _, err := l.RemoveReader(p[0]); err != nil {
			errs = append(errs, err)
		}
		syscall.Close(p[0])
		syscall.Close(p[1])
		// A new pipe, likely with the same numbers.
		if err := syscall.Pipe(q[:]); err != nil {
			errs = append(errs, err)
			return
		}
		reused = q[0] == p[0]
		if err := l.AddReader(q[0], func() { fired = true; l.RemoveReader(q[0]) }); err != nil {
			errs = append(errs, err)
		}
		writeFD(q[1], []byte("x"))
	})
	runUntil(t, l, func() bool { return fired || len(errs) > 0 })
	for _, err := range errs {
		t.Errorf("error: %v", err)
	}
	if !reused {
		t.Logf("the new pipe did not reuse the fd number %d", p[0])
	}
}

// AddReader, AddWriter, RemoveReader and RemoveWriter refuse misuse: off the
// loop (before a run, and from another goroutine during one) with
// ErrNotOnLoop, a nil callback with ErrNilFunc, and fds the system refuses
// (negative, closed, huge, a regular file on Linux) with an error; a failed
// AddReader leaves nothing watched.
func TestFDMisuse(t *testing.T) {
	l := newLoop(t)
	r, _ := pipe(t)

	// Off the loop: before the run, from the test goroutine.
	if err := l.AddReader(r, func() {}); !errors.Is(err, aio.ErrNotOnLoop) {
		t.Errorf("AddReader off the loop = %v, want ErrNotOnLoop", err)
	}
	if err := l.AddWriter(r, func() {}); !errors.Is(err, aio.ErrNotOnLoop) {
		t.Errorf("AddWriter off the loop = %v, want ErrNotOnLoop", err)
	}
	if _, err := l.RemoveReader(r); !errors.Is(err, aio.ErrNotOnLoop) {
		t.Errorf("RemoveReader off the loop = %v, want ErrNotOnLoop", err)
	}
	if _, err := l.RemoveWriter(r); !errors.Is(err, aio.ErrNotOnLoop) {
		t.Errorf("RemoveWriter off the loop = %v, want ErrNotOnLoop", err)
	}

	closedFD := func() int {
		var p [2]int
		if err := syscall.Pipe(p[:]); err != nil {
			t.Fatal(err)
		}
		syscall.Close(p[0])
		syscall.Close(p[1])
		return p[0]
	}()
	f, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	type result struct {
		name string
		err  error
		want error // nil: any non-nil error
	}
	var results []result
	var unexpected []string
	done := false
	l.CallSoon(func() {
		add := func(name string, err error, want error) { results = append(results, result{name, err, want}) }
		add("AddReader nil fn", l.AddReader(r, nil), aio.ErrNilFunc)
		add("AddWriter nil fn", l.AddWriter(r, nil), aio.ErrNilFunc)
		add("AddReader fd -1", l.AddReader(-1, func() {}), nil)
		add("AddWriter fd -1", l.AddWriter(-1, func() {}), nil)
		add("AddReader closed fd", l.AddReader(closedFD, func() {}), nil)
		add("AddReader huge fd", l.AddReader(1<<30, func() {}), nil)
		if runtime.GOOS == "linux" { // epoll refuses regular files; kqueue accepts them
			add("AddReader regular file", l.AddReader(int(f.Fd()), func() {}), nil)
		}
		// A failed AddReader leaves nothing watched.
		for _, fd := range []int{-1, closedFD, 1 << 30, r} {
			if ok, err := l.RemoveReader(fd); ok || err != nil {
				unexpected = append(unexpected, fmt.Sprintf("RemoveReader(%d) of an unwatched fd = %v, %v; want false, nil", fd, ok, err))
			}
		}
		// From another goroutine while the loop runs.
		errc := make(chan error, 2)
		go func() {
			errc <- l.AddReader(r, func() {})
			_, err := l.RemoveReader(r)
			errc <- err
		}()
		add("AddReader from another goroutine while running", <-errc, aio.ErrNotOnLoop)
		add("RemoveReader from another goroutine while running", <-errc, aio.ErrNotOnLoop)
		done = true
	})
	runUntil(t, l, func() bool { return done })
	for _, res := range results {
		switch {
		case res.err == nil:
			t.Errorf("%s: no error", res.name)
		case res.want != nil && !errors.Is(res.err, res.want):
			t.Errorf("%s: %v, want an error matching %v", res.name, res.err, res.want)
		}
	}
	for _, s := range unexpected {
		t.Error(s)
	}
	if n := l.WatchedFDsForTest(); n != 0 {
		t.Errorf("%d fds watched after failed AddReader calls", n)
	}
}

// A busy loop (a callback that always reschedules itself) still polls: I/O
// from another goroutine and timers are served.
func TestBusyLoopDoesNotStarveIO(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	spins := 0
	read, timer := false, false
	var spin func()
	spin = func() {
		spins++
		if !read || !timer {
			l.CallSoon(spin)
		}
	}
	l.CallSoon(func() {
		l.AddReader(r, func() {
			var b [8]byte
			readFD(r, b[:])
			read = true
			l.RemoveReader(r)
		})
		l.CallLater(time.Millisecond, func() { timer = true })
		spin()
		go func() {
			time.Sleep(time.Millisecond)
			syscall.Write(w, []byte("x"))
		}()
	})
	runUntil(t, l, func() bool { return read && timer })
	if spins < 2 {
		t.Errorf("the busy callback ran %d times", spins)
	}
}

// More fds ready at once than the loop's first events buffer holds: every
// reader is served.
func TestManyReadyFDs(t *testing.T) {
	const n = 300
	l := newLoop(t)
	fired := make([]int, n)
	total := 0
	var errs []error
	var rs, ws [n]int
	for i := range n {
		rs[i], ws[i] = pipe(t)
	}
	l.CallSoon(func() {
		for i := range n {
			r, w := rs[i], ws[i]
			if err := l.AddReader(r, func() {
				fired[i]++
				total++
				var b [8]byte
				readFD(r, b[:])
				l.RemoveReader(r)
			}); err != nil {
				errs = append(errs, err)
				return
			}
			writeFD(w, []byte("x"))
		}
	})
	runUntil(t, l, func() bool { return total == n || len(errs) > 0 })
	for _, err := range errs {
		t.Fatal(err)
	}
	for i, f := range fired {
		if f != 1 {
			t.Errorf("reader %d fired %d times, want 1", i, f)
		}
	}
}
