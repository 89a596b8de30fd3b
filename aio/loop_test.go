package aio

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers shared by loop_test.go, schedule_test.go and fd_test.go. Their
// names start with "lt" so that they do not collide with the helpers of the
// other test files of the package.

// ltTimeout bounds every run of a loop in these tests: a run that has not
// returned by then is stopped and the test fails. It is a liveness bound,
// never an assertion about speed.
const ltTimeout = 5 * time.Second

// ltLoop returns a new loop that is closed when the test ends.
func ltLoop(t testing.TB) *Loop {
	t.Helper()
	fxLeakCheck(t)
	l, err := NewLoop()
	if err != nil {
		t.Fatalf("NewLoop: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// ltStart runs fn (which normally runs l) on a new goroutine and returns a
// function that waits for fn's result. If fn has not returned ltTimeout after
// the wait began, the wait stops l, gives it a moment, and fails the test.
func ltStart(t testing.TB, l *Loop, fn func() error) (wait func() error) {
	errc := make(chan error, 1)
	go func() { errc <- fn() }()
	return func() error {
		t.Helper()
		select {
		case err := <-errc:
			return err
		case <-time.After(ltTimeout):
		}
		l.Stop()
		select {
		case <-errc:
		case <-time.After(time.Second):
		}
		t.Fatalf("the loop was still running after %v", ltTimeout)
		return nil
	}
}

// ltGo runs fn on a new goroutine and waits for it (see ltStart).
func ltGo(t testing.TB, l *Loop, fn func() error) error {
	t.Helper()
	return ltStart(t, l, fn)()
}

// ltRunUntil runs l until done reports true, on a new goroutine, and fails
// the test if the run fails or does not end in time.
func ltRunUntil(t testing.TB, l *Loop, done func() bool) {
	t.Helper()
	if err := ltGo(t, l, func() error { return l.RunUntil(done) }); err != nil {
		t.Fatalf("RunUntil: %v", err)
	}
}

// ltRunForever runs l until it is stopped, on a new goroutine, and fails the
// test if the run fails or does not end in time.
func ltRunForever(t testing.TB, l *Loop) {
	t.Helper()
	if err := ltGo(t, l, l.RunForever); err != nil {
		t.Fatalf("RunForever: %v", err)
	}
}

// ltCounted wraps a RunUntil condition so that *iter is the number of the
// iteration in progress, counting from 1: RunUntil calls the condition
// before the first iteration and after each one. A nil cond never ends the
// run.
func ltCounted(iter *int, cond func() bool) func() bool {
	return func() bool {
		*iter++
		return cond != nil && cond()
	}
}

// ltTid returns the id of the calling OS thread. It reads the magic link
// /proc/thread-self (Linux), which works on every platform the package
// builds for at compile time; where it does not exist, the thread tests
// skip themselves.
func ltTid() (int, error) {
	s, err := os.Readlink("/proc/thread-self") // "<pid>/task/<tid>"
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s[strings.LastIndexByte(s, '/')+1:])
}

// ltNeedTid skips the test if thread ids cannot be read.
func ltNeedTid(t testing.TB) {
	t.Helper()
	if _, err := ltTid(); err != nil {
		t.Skipf("cannot read the thread id: %v", err)
	}
}

// ltPanicky panics with v; tests look for its name in panic stacks.
//
//go:noinline
func ltPanicky(v any) { panic(v) }

// ltCaptureSlog sends slog's default logger to a buffer until the test ends.
// The returned function returns what was logged so far.
func ltCaptureSlog(t *testing.T) func() string {
	var mu sync.Mutex
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(ltLockedWriter{&mu, &buf}, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

type ltLockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w ltLockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// ---------------------------------------------------------------------------
// Lifecycle

func TestNewLoop(t *testing.T) {
	l := ltLoop(t)
	if l.IsRunning() || l.IsClosed() {
		t.Fatalf("new loop: IsRunning=%v IsClosed=%v, want false false", l.IsRunning(), l.IsClosed())
	}
	select {
	case <-l.Closed():
		t.Fatal("Closed() of a new loop is closed")
	default:
	}
	if l.Now().IsZero() {
		t.Fatal("Now() of a new loop is the zero time")
	}
}

func TestRunForeverStopFromCallback(t *testing.T) {
	l := ltLoop(t)
	ran := false
	if _, err := l.CallSoon(func() { ran = true; l.Stop() }); err != nil {
		t.Fatal(err)
	}
	ltRunForever(t, l)
	if !ran {
		t.Fatal("the callback did not run")
	}
	if l.IsRunning() {
		t.Fatal("IsRunning after RunForever returned")
	}
}

func TestRunForeverStopFromGoroutine(t *testing.T) {
	l := ltLoop(t)
	started := make(chan struct{})
	if _, err := l.CallSoon(func() { close(started) }); err != nil {
		t.Fatal(err)
	}
	wait := ltStart(t, l, l.RunForever)
	<-started
	if !l.IsRunning() {
		t.Error("IsRunning is false while a callback has run and the loop was not stopped")
	}
	if err := l.Stop(); err != nil {
		t.Fatalf("Stop from another goroutine: %v", err)
	}
	if err := wait(); err != nil {
		t.Fatalf("RunForever after Stop: %v, want nil", err)
	}
	if l.IsRunning() {
		t.Fatal("IsRunning after RunForever returned")
	}
}

// Stop on a loop that is not running makes the next run do one iteration:
// the callbacks already scheduled run, the ones they schedule wait.
func TestStopBeforeRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(l *Loop) error
	}{
		{"RunForever", (*Loop).RunForever},
		{"RunUntil", func(l *Loop) error { return l.RunUntil(func() bool { return false }) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := ltLoop(t)
			var log []string
			l.CallSoon(func() {
				log = append(log, "a")
				l.CallSoon(func() { log = append(log, "c") })
			})
			l.CallSoon(func() { log = append(log, "b") })
			if err := l.Stop(); err != nil {
				t.Fatalf("Stop before run: %v", err)
			}
			if err := ltGo(t, l, func() error { return tc.run(l) }); err != nil {
				t.Fatalf("run after Stop: %v", err)
			}
			if got := strings.Join(log, ","); got != "a,b" {
				t.Fatalf("first run ran %q, want \"a,b\"", got)
			}
			// The Stop is used up: the next run goes on until its condition.
			ltRunUntil(t, l, func() bool { return len(log) == 3 })
			if got := strings.Join(log, ","); got != "a,b,c" {
				t.Fatalf("second run: log %q, want \"a,b,c\"", got)
			}
		})
	}

	t.Run("nothing scheduled", func(t *testing.T) {
		l := ltLoop(t)
		l.Stop()
		if err := ltGo(t, l, l.RunForever); err != nil {
			t.Fatalf("RunForever after Stop: %v", err)
		}
	})
}

func TestRunUntilDoneAtStart(t *testing.T) {
	l := ltLoop(t)
	ran := false
	l.CallSoon(func() { ran = true })
	calls := 0
	ltRunUntil(t, l, func() bool { calls++; return true })
	if calls != 1 {
		t.Errorf("done called %d times, want 1", calls)
	}
	if ran {
		t.Error("a callback ran although done was true before the first iteration")
	}
	// The callback is still pending and runs in the next run.
	ltRunUntil(t, l, func() bool { return ran })
}

func TestRunUntilNil(t *testing.T) {
	l := ltLoop(t)
	if err := l.RunUntil(nil); !errors.Is(err, ErrNilFunc) {
		t.Fatalf("RunUntil(nil) = %v, want ErrNilFunc", err)
	}
	if l.IsRunning() || l.IsClosed() {
		t.Fatal("RunUntil(nil) changed the loop's state")
	}
	ran := false
	l.CallSoon(func() { ran = true })
	ltRunUntil(t, l, func() bool { return ran })
}

func TestIsRunningInsideCallbacks(t *testing.T) {
	l := ltLoop(t)
	var running, closed []bool
	record := func() {
		running = append(running, l.IsRunning())
		closed = append(closed, l.IsClosed())
	}
	l.CallSoon(record)
	l.CallLater(time.Millisecond, record)
	l.CallSoon(func() { l.CallSoon(record) })
	ltRunUntil(t, l, func() bool { return len(running) == 3 })
	for i := range running {
		if !running[i] || closed[i] {
			t.Errorf("callback %d: IsRunning=%v IsClosed=%v, want true false", i, running[i], closed[i])
		}
	}
	if l.IsRunning() {
		t.Error("IsRunning after the run")
	}
}

// A loop can be run many times, one run after the other, from the same or
// from different goroutines.
func TestRunTwice(t *testing.T) {
	l := ltLoop(t)
	n := 0
	for i := range 3 {
		l.CallSoon(func() { n++ })
		ltRunUntil(t, l, func() bool { return n == i+1 })
	}
	// The same goroutine runs it twice.
	err := ltGo(t, l, func() error {
		for i := range 2 {
			l.CallSoon(func() { n++; l.Stop() })
			if err := l.RunForever(); err != nil {
				return fmt.Errorf("run %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("%d callbacks ran, want 5", n)
	}
}

func TestCloseTwice(t *testing.T) {
	l := ltLoop(t)
	if err := l.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !l.IsClosed() || l.IsRunning() {
		t.Fatalf("after Close: IsClosed=%v IsRunning=%v", l.IsClosed(), l.IsRunning())
	}
}

func TestRunAfterClose(t *testing.T) {
	l := ltLoop(t)
	l.CallSoon(func() {})
	ltRunUntil(t, l, func() bool { return true })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.RunForever(); !errors.Is(err, ErrClosed) {
		t.Errorf("RunForever after Close = %v, want ErrClosed", err)
	}
	if err := l.RunUntil(func() bool { return false }); !errors.Is(err, ErrClosed) {
		t.Errorf("RunUntil after Close = %v, want ErrClosed", err)
	}
	if err := l.Stop(); !errors.Is(err, ErrClosed) {
		t.Errorf("Stop after Close = %v, want ErrClosed", err)
	}
	if l.IsRunning() {
		t.Error("IsRunning after a refused run")
	}
}

// Misuse while the loop runs: Close and a second run are refused, from
// inside the loop and from other goroutines, and the loop goes on.
func TestMisuseWhileRunning(t *testing.T) {
	l := ltLoop(t)
	offLoop := func(fn func() error) error {
		errc := make(chan error, 1)
		go func() { errc <- fn() }()
		return <-errc // blocks the loop briefly; the call returns at once
	}
	checks := []struct {
		name string
		call func() error
		want error
	}{
		{"Close from a callback", l.Close, ErrRunning},
		{"RunForever from a callback", l.RunForever, ErrRunning},
		{"RunUntil from a callback", func() error { return l.RunUntil(func() bool { return true }) }, ErrRunning},
		{"Close from another goroutine", func() error { return offLoop(l.Close) }, ErrRunning},
		{"RunForever from another goroutine", func() error { return offLoop(l.RunForever) }, ErrRunning},
		{"RunUntil from another goroutine", func() error {
			return offLoop(func() error { return l.RunUntil(func() bool { return true }) })
		}, ErrRunning},
	}
	errs := make([]error, len(checks))
	after := false
	l.CallSoon(func() {
		for i, c := range checks {
			errs[i] = c.call()
		}
		l.CallSoon(func() { after = true })
	})
	ltRunUntil(t, l, func() bool { return after })
	for i, c := range checks {
		if !errors.Is(errs[i], c.want) {
			t.Errorf("%s = %v, want an error matching %v", c.name, errs[i], c.want)
		}
	}
	if l.IsClosed() {
		t.Fatal("the loop is closed after refused Close calls")
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close after the run: %v", err)
	}
}

func TestClosedChannel(t *testing.T) {
	l := ltLoop(t)
	released := make(chan struct{})
	go func() {
		<-l.Closed()
		close(released)
	}()
	select {
	case <-l.Closed():
		t.Fatal("Closed() is closed before Close")
	default:
	}
	l.CallSoon(func() {})
	ltRunUntil(t, l, func() bool { return true })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Closed():
	default:
		t.Fatal("Closed() is not closed after Close")
	}
	select {
	case <-released:
	case <-time.After(ltTimeout):
		t.Fatal("a goroutine waiting on Closed() was not released")
	}
}

// ---------------------------------------------------------------------------
// Panics and the error handler

func TestCallbackPanicGoesToErrorHandler(t *testing.T) {
	l := ltLoop(t)
	var got []ErrorContext
	var onLoop []bool
	l.SetErrorHandler(func(hl *Loop, ctx ErrorContext) {
		if hl != l {
			t.Errorf("error handler called with loop %p, want %p", hl, l)
		}
		onLoop = append(onLoop, l.onLoop())
		got = append(got, ctx)
	})
	sentinel := errors.New("sentinel")
	iter := 0
	var log []string
	var iters []int
	rec := func(s string) func() {
		return func() { log = append(log, s); iters = append(iters, iter) }
	}
	l.CallSoon(func() {
		// One batch: a, p1, b, p2, c.
		l.CallSoon(rec("a"))
		l.CallSoon(func() { log = append(log, "p1"); ltPanicky("boom") })
		l.CallSoon(rec("b"))
		l.CallSoon(func() { log = append(log, "p2"); ltPanicky(sentinel) })
		l.CallSoon(rec("c"))
	})
	ltRunUntil(t, l, ltCounted(&iter, func() bool { return len(iters) == 3 }))
	if s := strings.Join(log, ","); s != "a,p1,b,p2,c" {
		t.Fatalf("ran %q, want \"a,p1,b,p2,c\"", s)
	}
	if iters[0] != iters[1] || iters[1] != iters[2] {
		t.Errorf("the callbacks after a panic ran in iterations %v, want all in the panicking batch's", iters)
	}
	if len(got) != 2 {
		t.Fatalf("error handler called %d times, want 2", len(got))
	}
	for i, want := range []any{"boom", sentinel} {
		ctx := got[i]
		if !onLoop[i] {
			t.Errorf("error handler %d ran off the loop", i)
		}
		var pe *PanicError
		if !errors.As(ctx.Err, &pe) {
			t.Fatalf("report %d: Err = %#v, want a *PanicError", i, ctx.Err)
		}
		if pe.Value != want {
			t.Errorf("report %d: panic value %v, want %v", i, pe.Value, want)
		}
		if !bytes.Contains(pe.Stack, []byte("ltPanicky")) {
			t.Errorf("report %d: stack does not name the panicking function:\n%s", i, pe.Stack)
		}
		if ctx.Message == "" || ctx.Task != nil {
			t.Errorf("report %d: Message %q, Task %v; want a message and no task", i, ctx.Message, ctx.Task)
		}
	}
	if !errors.Is(got[1].Err, sentinel) {
		t.Error("a panic with an error value does not match that error under errors.Is")
	}
}

// Panics in timers and readiness callbacks go to the handler too.
func TestTimerPanicGoesToErrorHandler(t *testing.T) {
	l := ltLoop(t)
	reports := 0
	l.SetErrorHandler(func(*Loop, ErrorContext) { reports++ })
	after := false
	l.CallLater(0, func() { ltPanicky("timer") })
	l.CallLater(time.Millisecond, func() { ltPanicky("timer2") })
	l.CallLater(2*time.Millisecond, func() { after = true })
	ltRunUntil(t, l, func() bool { return after })
	if reports != 2 {
		t.Fatalf("%d reports, want 2", reports)
	}
}

func TestDefaultErrorHandlerLogs(t *testing.T) {
	logged := ltCaptureSlog(t)
	l := ltLoop(t)
	l.SetErrorHandler(func(*Loop, ErrorContext) { t.Error("the replaced handler was called") })
	l.SetErrorHandler(nil) // back to the default
	after := false
	l.CallSoon(func() { ltPanicky("boom-default") })
	l.CallSoon(func() { after = true })
	ltRunUntil(t, l, func() bool { return after })
	out := logged()
	for _, want := range []string{"panic", "boom-default", "ltPanicky"} {
		if !strings.Contains(out, want) {
			t.Errorf("the default handler's log does not contain %q:\n%s", want, out)
		}
	}
}

func TestErrorHandlerPanic(t *testing.T) {
	logged := ltCaptureSlog(t)
	l := ltLoop(t)
	calls := 0
	l.SetErrorHandler(func(*Loop, ErrorContext) {
		calls++
		panic("handler boom")
	})
	var log []string
	l.CallSoon(func() {
		l.CallSoon(func() { log = append(log, "a") })
		l.CallSoon(func() { ltPanicky("cb boom") })
		l.CallSoon(func() { log = append(log, "b") })
		l.CallSoon(func() { ltPanicky("cb boom 2") })
		l.CallSoon(func() {
			l.CallSoon(func() { log = append(log, "c") })
		})
	})
	ltRunUntil(t, l, func() bool { return len(log) == 3 })
	if s := strings.Join(log, ","); s != "a,b,c" {
		t.Errorf("ran %q, want \"a,b,c\"", s)
	}
	if calls != 2 {
		t.Errorf("the panicking handler was called %d times, want 2", calls)
	}
	if out := logged(); !strings.Contains(out, "handler boom") {
		t.Errorf("the handler's own panic was not logged by the default handler:\n%s", out)
	}
	if l.IsClosed() {
		t.Error("the loop is closed after a panic in the error handler")
	}
}

// ---------------------------------------------------------------------------
// One OS thread

// Every callback (soon, timers, from other goroutines, readiness) runs on
// one thread, the loop's, for the loop's whole life: the same thread in a
// second run started from another goroutine, and never the thread of the
// goroutine that called RunUntil.
func TestCallbacksRunOnOneThread(t *testing.T) {
	ltNeedTid(t)
	l := ltLoop(t)
	r, w := ltPipe(t)
	const n = 50
	var tids []int
	record := func() {
		tid, err := ltTid()
		if err != nil {
			tid = -1
		}
		tids = append(tids, tid)
	}
	const total = 2*n + n/5 + 4*n
	setup := func() {
		if err := l.AddReader(r, func() {
			record()
			var b [1]byte
			ltRead(r, b[:])
		}); err != nil {
			t.Errorf("AddReader: %v", err)
		}
		for i := range n {
			l.CallSoon(record)
			l.CallLater(time.Duration(i%4)*time.Millisecond/2, record)
			if i%5 == 0 {
				ltWrite(w, []byte{1}) // n/5 bytes: n/5 reader calls
			}
		}
		for g := range 4 {
			go func() {
				for i := range n {
					if (i+g)%2 == 0 {
						l.CallSoon(record)
					} else {
						l.CallLater(time.Duration(i%3)*time.Millisecond/2, record)
					}
				}
			}()
		}
	}
	var callers []int
	run := func(want int) error {
		runtime.LockOSThread() // so that the thread read here is the caller's
		defer runtime.UnlockOSThread()
		tid, err := ltTid()
		if err != nil {
			return err
		}
		callers = append(callers, tid)
		return l.RunUntil(func() bool { return len(tids) >= want })
	}
	l.CallSoon(setup)
	if err := ltGo(t, l, func() error { return run(total) }); err != nil {
		t.Fatal(err)
	}
	l.CallSoon(record)
	if err := ltGo(t, l, func() error { return run(total + 1) }); err != nil {
		t.Fatal(err)
	}
	tid0 := tids[0]
	for i, tid := range tids {
		if tid != tid0 {
			t.Fatalf("callback %d ran on thread %d, the first on %d", i, tid, tid0)
		}
	}
	for _, c := range callers {
		if c == tid0 {
			t.Fatalf("callbacks ran on thread %d, a caller's of RunUntil", c)
		}
	}
}

// Stop from a callback lets the rest of the batch run; what the batch
// schedules waits for the next run.
func TestStopFinishesBatch(t *testing.T) {
	l := ltLoop(t)
	var log []string
	l.CallSoon(func() {
		l.CallSoon(func() {
			log = append(log, "a")
			l.Stop()
			l.CallSoon(func() { log = append(log, "c") })
		})
		l.CallSoon(func() { log = append(log, "b") })
	})
	ltRunForever(t, l)
	if got := strings.Join(log, ","); got != "a,b" {
		t.Fatalf("ran %q, want \"a,b\"", got)
	}
	ltRunUntil(t, l, func() bool { return len(log) == 3 })
}

// A run and a Close that race: exactly one wins. Either the run fails with
// ErrClosed, or Close fails with ErrRunning and the run goes on normally.
func TestCloseRacesRun(t *testing.T) {
	for i := range 100 {
		l := ltLoop(t)
		ran := false
		l.CallSoon(func() { ran = true })
		start := make(chan struct{})
		errc := make(chan error, 1)
		go func() {
			<-start
			errc <- l.RunUntil(func() bool { return ran })
		}()
		close(start)
		closeErr := l.Close()
		var runErr error
		select {
		case runErr = <-errc:
		case <-time.After(ltTimeout):
			l.Stop()
			t.Fatalf("round %d: the run did not end", i)
		}
		switch {
		case closeErr == nil && errors.Is(runErr, ErrClosed) && !ran:
		case errors.Is(closeErr, ErrRunning) && runErr == nil && ran:
			if err := l.Close(); err != nil {
				t.Fatalf("round %d: Close after the run: %v", i, err)
			}
		case closeErr == nil && runErr == nil && ran:
			// The run ended before Close began.
		default:
			t.Fatalf("round %d: Close = %v, run = %v, ran = %v", i, closeErr, runErr, ran)
		}
		if !l.IsClosed() {
			t.Fatalf("round %d: the loop is not closed", i)
		}
	}
}

// runtime.Goexit in a callback (t.FailNow does it) ends the loop goroutine:
// the loop is left closed, and the error handler is told with an error
// matching ErrClosed.
func TestGoexitInCallback(t *testing.T) {
	l := ltLoop(t)
	var reports []ErrorContext
	reported := make(chan struct{}, 1)
	l.SetErrorHandler(func(_ *Loop, ctx ErrorContext) {
		reports = append(reports, ctx)
		reported <- struct{}{}
	})
	l.CallSoon(func() { runtime.Goexit() })
	l.CallSoon(func() { t.Error("a callback ran after Goexit") })
	returned := make(chan error, 1)
	go func() { returned <- l.RunForever() }()
	select {
	case <-l.Closed():
	case <-time.After(ltTimeout):
		l.Stop()
		t.Fatal("the loop was not closed after a callback called runtime.Goexit")
	}
	<-reported
	if len(reports) != 1 || !errors.Is(reports[0].Err, ErrClosed) {
		t.Fatalf("reports %+v, want one with an error matching ErrClosed", reports)
	}
	if l.IsRunning() || !l.IsClosed() {
		t.Errorf("IsRunning=%v IsClosed=%v, want false true", l.IsRunning(), l.IsClosed())
	}
	if _, err := l.CallSoon(func() {}); !errors.Is(err, ErrClosed) {
		t.Errorf("CallSoon after the loop goroutine exited: %v, want ErrClosed", err)
	}
	if err := l.RunForever(); !errors.Is(err, ErrClosed) {
		t.Errorf("RunForever after the loop goroutine exited: %v, want ErrClosed", err)
	}
	if err := <-returned; !errors.Is(err, ErrClosed) {
		t.Errorf("the interrupted RunForever returned %v, want ErrClosed", err)
	}
}

// fxGettid returns the calling thread's id, or 0 where it cannot be read
// (the caller skips with ltNeedTid first).
func fxGettid() int {
	id, _ := ltTid()
	return id
}

// A panic in RunUntil's condition reaches the caller, and the loop stays
// usable: idle, not closed, and its goroutine's thread unlocked.
func TestRunUntilConditionPanics(t *testing.T) {
	l := ltLoop(t)
	ran := 0
	l.CallSoon(func() { ran++ })
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the condition's panic", r)
			}
		}()
		l.RunUntil(func() bool {
			if ran > 0 {
				panic("boom")
			}
			return false
		})
	}()
	if l.IsClosed() || l.IsRunning() {
		t.Fatalf("after the panic: closed %v, running %v; want idle", l.IsClosed(), l.IsRunning())
	}
	l.CallSoon(func() { ran++ })
	ltRunUntil(t, l, func() bool { return ran == 2 })
}
