package aio_test

import (
	"bytes"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// The helpers shared by the package's tests. A test that makes its loop with
// newLoop gets the leak check of leakCheck (leak_test.go) at its end.

// runTimeout bounds every run of a loop that the helpers start on a
// goroutine: a run that has not returned by then is stopped and the test
// fails. It is a liveness bound, never an assertion about speed.
const runTimeout = 5 * time.Second

// ---------------------------------------------------------------------------
// Loops

// newLoop returns a new loop that is closed when the test ends, and checks
// at the very end of the test that the test left no goroutine and no file
// descriptor behind (see leakCheck).
func newLoop(t testing.TB) *aio.Loop {
	t.Helper()
	leakCheck(t)
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatalf("NewLoop: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// startRun runs fn (which normally runs l) on a new goroutine and returns a
// function that waits for fn's result. If fn has not returned runTimeout
// after the wait began, the wait stops l, gives it a moment, and fails the
// test.
func startRun(t testing.TB, l *aio.Loop, fn func() error) (wait func() error) {
	errc := make(chan error, 1)
	go func() { errc <- fn() }()
	return func() error {
		t.Helper()
		select {
		case err := <-errc:
			return err
		case <-time.After(runTimeout):
		}
		l.Stop()
		select {
		case <-errc:
		case <-time.After(time.Second):
		}
		t.Fatalf("the loop was still running after %v", runTimeout)
		return nil
	}
}

// goRun runs fn on a new goroutine and waits for it (see startRun).
func goRun(t testing.TB, l *aio.Loop, fn func() error) error {
	t.Helper()
	return startRun(t, l, fn)()
}

// runUntil runs l until done reports true, on a new goroutine, and fails
// the test if the run fails or does not end in time.
func runUntil(t testing.TB, l *aio.Loop, done func() bool) {
	t.Helper()
	if err := goRun(t, l, func() error { return l.RunUntil(done) }); err != nil {
		t.Fatalf("RunUntil: %v", err)
	}
}

// runForever runs l until it is stopped, on a new goroutine, and fails the
// test if the run fails or does not end in time.
func runForever(t testing.TB, l *aio.Loop) {
	t.Helper()
	if err := goRun(t, l, l.RunForever); err != nil {
		t.Fatalf("RunForever: %v", err)
	}
}

// iterate runs one iteration of an idle loop from the calling goroutine,
// running fn (if not nil) as a callback of that iteration.
func iterate(t testing.TB, l *aio.Loop, fn func()) {
	t.Helper()
	if fn != nil {
		if _, err := l.CallSoon(fn); err != nil {
			t.Fatalf("CallSoon: %v", err)
		}
	}
	if err := l.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := l.RunForever(); err != nil {
		t.Fatalf("RunForever: %v", err)
	}
}

// goLoop runs l with RunForever on a new goroutine, and returns a function
// that stops it, waits for the run to end, and closes the loop from that
// goroutine.
func goLoop(t testing.TB, l *aio.Loop) (stop func()) {
	t.Helper()
	done := make(chan error, 1)
	started := make(chan struct{})
	l.CallSoon(func() { close(started) })
	go func() {
		err := l.RunForever()
		if cerr := l.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("loop goroutine: %v", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.Stop()
			if err := <-done; err != nil {
				t.Errorf("loop goroutine: %v", err)
			}
		})
	}
}

// runTask spawns body on l from the test goroutine and runs l until the
// task is done.
func runTask[T any](t *testing.T, l *aio.Loop, body func(*aio.Ctx) (T, error), opts ...aio.TaskOption) *aio.Task[T] {
	t.Helper()
	task, err := aio.Spawn(l, body, opts...)
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	if err := l.RunUntil(task.IsDone); err != nil {
		t.Fatalf("RunUntil: %v", err)
	}
	return task
}

// counted wraps a RunUntil condition so that *iter is the number of the
// iteration in progress, counting from 1: RunUntil calls the condition
// before the first iteration and after each one. A nil cond never ends the
// run.
func counted(iter *int, cond func() bool) func() bool {
	return func() bool {
		*iter++
		return cond != nil && cond()
	}
}

// offLoop calls fn on a new goroutine and waits for it. Called from a loop
// callback, it blocks the loop for as long as fn takes, which for the
// non-blocking methods it is used with is a moment.
func offLoop[T any](fn func() T) T {
	c := make(chan T, 1)
	go func() { c <- fn() }()
	return <-c
}

// offLoopDo is offLoop for a function without result.
func offLoopDo(fn func()) {
	offLoop(func() struct{} { fn(); return struct{}{} })
}

// isClosed reports whether ch is closed, without blocking.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// noGoroutinesBeyond fails the test if, within a couple of seconds, the
// number of goroutines does not come back down to before.
func noGoroutinesBeyond(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines left behind:\n%s", n-before, buf[:runtime.Stack(buf, true)])
	}
}

// slowIdentity reports whether the package tells goroutines apart the slow
// way, by parsing runtime.Stack (about a microsecond per check instead of a
// few nanoseconds; see goid.go): everywhere but amd64 and arm64. The
// heaviest stress tests scale down on it, as they do under the race
// detector, to stay within runTimeout.
var slowIdentity = runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64"

// ---------------------------------------------------------------------------
// Errors and panics

// recorder records what a loop's error handler receives.
type recorder struct {
	mu   sync.Mutex
	list []aio.ErrorContext
}

// record makes l's error handler record what it receives, and returns the
// record.
func record(l *aio.Loop) *recorder {
	r := &recorder{}
	l.SetErrorHandler(func(_ *aio.Loop, c aio.ErrorContext) {
		r.mu.Lock()
		r.list = append(r.list, c)
		r.mu.Unlock()
	})
	return r
}

// all returns what was recorded so far.
func (r *recorder) all() []aio.ErrorContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]aio.ErrorContext(nil), r.list...)
}

// count returns the number of reports whose message contains msg.
func (r *recorder) count(msg string) int {
	n := 0
	for _, c := range r.all() {
		if strings.Contains(c.Message, msg) {
			n++
		}
	}
	return n
}

// panicky panics with v; tests look for its name in panic stacks.
//
//go:noinline
func panicky(v any) { panic(v) }

// captureSlog sends slog's default logger to a buffer until the test ends.
// The returned function returns what was logged so far.
func captureSlog(t *testing.T) func() string {
	var mu sync.Mutex
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

// lockedWriter is a buffer written under a mutex.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// ---------------------------------------------------------------------------
// OS threads

// threadID returns the id of the calling OS thread. It reads the magic link
// /proc/thread-self (Linux), which works on every platform the package
// builds for at compile time; where it does not exist, the thread tests
// skip themselves.
func threadID() (int, error) {
	s, err := os.Readlink("/proc/thread-self") // "<pid>/task/<tid>"
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s[strings.LastIndexByte(s, '/')+1:])
}

// needThreadID skips the test if thread ids cannot be read.
func needThreadID(t testing.TB) {
	t.Helper()
	if _, err := threadID(); err != nil {
		t.Skipf("cannot read the thread id: %v", err)
	}
}

// gettid returns the calling thread's id, or 0 where it cannot be read
// (the caller skips with needThreadID first).
func gettid() int {
	id, _ := threadID()
	return id
}

// ---------------------------------------------------------------------------
// File descriptors

// pipe returns a non-blocking pipe, closed when the test ends.
func pipe(t testing.TB) (r, w int) {
	t.Helper()
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatalf("pipe: %v", err)
	}
	for _, fd := range p {
		syscall.CloseOnExec(fd)
		if err := syscall.SetNonblock(fd, true); err != nil {
			t.Fatalf("SetNonblock: %v", err)
		}
	}
	t.Cleanup(func() { syscall.Close(p[0]); syscall.Close(p[1]) })
	return p[0], p[1]
}

// socketpair returns a connected pair of non-blocking Unix stream sockets,
// closed when the test ends.
func socketpair(t testing.TB) (a, b int) {
	t.Helper()
	p, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	for _, fd := range p {
		syscall.CloseOnExec(fd)
		if err := syscall.SetNonblock(fd, true); err != nil {
			t.Fatalf("SetNonblock: %v", err)
		}
	}
	t.Cleanup(func() { syscall.Close(p[0]); syscall.Close(p[1]) })
	return p[0], p[1]
}

// readFD and writeFD are read(2) and write(2) for loop callbacks, which
// must not fail the test with Fatal.
func readFD(fd int, b []byte) int {
	n, _ := syscall.Read(fd, b)
	return n
}

func writeFD(fd int, b []byte) int {
	n, _ := syscall.Write(fd, b)
	return n
}
