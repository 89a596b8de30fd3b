package aio_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// ---------------------------------------------------------------------------
// Lifecycle

// A new loop is neither running nor closed, its Closed channel is open, and
// its clock has started.
func TestNewLoop(t *testing.T) {
	l := newLoop(t)
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

// Stop from a callback ends RunForever after the callback has run, and the
// loop is no longer running.
func TestRunForeverStopFromCallback(t *testing.T) {
	l := newLoop(t)
	ran := false
	if _, err := l.CallSoon(func() { ran = true; l.Stop() }); err != nil {
		t.Fatal(err)
	}
	runForever(t, l)
	if !ran {
		t.Fatal("the callback did not run")
	}
	if l.IsRunning() {
		t.Fatal("IsRunning after RunForever returned")
	}
}

// IsRunning reports true while RunForever runs; Stop from another goroutine
// ends the run, RunForever returns nil, and IsRunning reports false.
func TestRunForeverStopFromGoroutine(t *testing.T) {
	l := newLoop(t)
	started := make(chan struct{})
	if _, err := l.CallSoon(func() { close(started) }); err != nil {
		t.Fatal(err)
	}
	wait := startRun(t, l, l.RunForever)
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
		run  func(l *aio.Loop) error
	}{
		{"RunForever", (*aio.Loop).RunForever},
		{"RunUntil", func(l *aio.Loop) error { return l.RunUntil(func() bool { return false }) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			var log []string
			l.CallSoon(func() {
				log = append(log, "a")
				l.CallSoon(func() { log = append(log, "c") })
			})
			l.CallSoon(func() { log = append(log, "b") })
			if err := l.Stop(); err != nil {
				t.Fatalf("Stop before run: %v", err)
			}
			if err := goRun(t, l, func() error { return tc.run(l) }); err != nil {
				t.Fatalf("run after Stop: %v", err)
			}
			if got := strings.Join(log, ","); got != "a,b" {
				t.Fatalf("first run ran %q, want \"a,b\"", got)
			}
			// The Stop is used up: the next run goes on until its condition.
			runUntil(t, l, func() bool { return len(log) == 3 })
			if got := strings.Join(log, ","); got != "a,b,c" {
				t.Fatalf("second run: log %q, want \"a,b,c\"", got)
			}
		})
	}

	t.Run("nothing scheduled", func(t *testing.T) {
		l := newLoop(t)
		l.Stop()
		if err := goRun(t, l, l.RunForever); err != nil {
			t.Fatalf("RunForever after Stop: %v", err)
		}
	})
}

// RunUntil asks its condition before the first iteration: a condition true
// at once ends the run after one call and before any callback runs; the
// pending callback runs in the next run.
func TestRunUntilDoneAtStart(t *testing.T) {
	l := newLoop(t)
	ran := false
	l.CallSoon(func() { ran = true })
	calls := 0
	runUntil(t, l, func() bool { calls++; return true })
	if calls != 1 {
		t.Errorf("done called %d times, want 1", calls)
	}
	if ran {
		t.Error("a callback ran although done was true before the first iteration")
	}
	// The callback is still pending and runs in the next run.
	runUntil(t, l, func() bool { return ran })
}

// RunUntil(nil) returns ErrNilFunc and leaves the loop idle; the loop runs
// normally afterwards.
func TestRunUntilNil(t *testing.T) {
	l := newLoop(t)
	if err := l.RunUntil(nil); !errors.Is(err, aio.ErrNilFunc) {
		t.Fatalf("RunUntil(nil) = %v, want ErrNilFunc", err)
	}
	if l.IsRunning() || l.IsClosed() {
		t.Fatal("RunUntil(nil) changed the loop's state")
	}
	ran := false
	l.CallSoon(func() { ran = true })
	runUntil(t, l, func() bool { return ran })
}

// Callbacks (soon, timers, callbacks scheduled by callbacks) see IsRunning
// true and IsClosed false; after the run IsRunning is false.
func TestIsRunningInsideCallbacks(t *testing.T) {
	l := newLoop(t)
	var running, closed []bool
	observe := func() {
		running = append(running, l.IsRunning())
		closed = append(closed, l.IsClosed())
	}
	l.CallSoon(observe)
	l.CallLater(time.Millisecond, observe)
	l.CallSoon(func() { l.CallSoon(observe) })
	runUntil(t, l, func() bool { return len(running) == 3 })
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
	l := newLoop(t)
	n := 0
	for i := range 3 {
		l.CallSoon(func() { n++ })
		runUntil(t, l, func() bool { return n == i+1 })
	}
	// The same goroutine runs it twice.
	err := goRun(t, l, func() error {
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

// Close of an idle loop returns nil, a second Close returns nil too, and the
// loop is closed and not running.
func TestCloseTwice(t *testing.T) {
	l := newLoop(t)
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

// After Close, RunForever, RunUntil and Stop return ErrClosed, and the loop
// does not become running.
func TestRunAfterClose(t *testing.T) {
	l := newLoop(t)
	l.CallSoon(func() {})
	runUntil(t, l, func() bool { return true })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.RunForever(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("RunForever after Close = %v, want ErrClosed", err)
	}
	if err := l.RunUntil(func() bool { return false }); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("RunUntil after Close = %v, want ErrClosed", err)
	}
	if err := l.Stop(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Stop after Close = %v, want ErrClosed", err)
	}
	if l.IsRunning() {
		t.Error("IsRunning after a refused run")
	}
}

// Misuse while the loop runs: Close and a second run are refused, from
// inside the loop and from other goroutines, and the loop goes on.
func TestMisuseWhileRunning(t *testing.T) {
	l := newLoop(t)
	// offLoop blocks the loop briefly: the calls return at once.
	checks := []struct {
		name string
		call func() error
		want error
	}{
		{"Close from a callback", l.Close, aio.ErrRunning},
		{"RunForever from a callback", l.RunForever, aio.ErrRunning},
		{"RunUntil from a callback", func() error { return l.RunUntil(func() bool { return true }) }, aio.ErrRunning},
		{"Close from another goroutine", func() error { return offLoop(l.Close) }, aio.ErrRunning},
		{"RunForever from another goroutine", func() error { return offLoop(l.RunForever) }, aio.ErrRunning},
		{"RunUntil from another goroutine", func() error {
			return offLoop(func() error { return l.RunUntil(func() bool { return true }) })
		}, aio.ErrRunning},
	}
	errs := make([]error, len(checks))
	after := false
	l.CallSoon(func() {
		for i, c := range checks {
			errs[i] = c.call()
		}
		l.CallSoon(func() { after = true })
	})
	runUntil(t, l, func() bool { return after })
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

// The Closed channel is open until Close and closed after it, which releases
// the goroutines waiting on it.
func TestClosedChannel(t *testing.T) {
	l := newLoop(t)
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
	runUntil(t, l, func() bool { return true })
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
	case <-time.After(runTimeout):
		t.Fatal("a goroutine waiting on Closed() was not released")
	}
}

// ---------------------------------------------------------------------------
// Panics and the error handler

// A panic in a callback goes to the loop's error handler, on the loop, right
// after the callback, as a *PanicError with the panic value and the stack at
// the panic (an error value matches under errors.Is), with a message and no
// task; the rest of the batch runs in the same iteration.
func TestCallbackPanicGoesToErrorHandler(t *testing.T) {
	l := newLoop(t)
	var got []aio.ErrorContext
	var onLoop []bool
	l.SetErrorHandler(func(hl *aio.Loop, ctx aio.ErrorContext) {
		if hl != l {
			t.Errorf("error handler called with loop %p, want %p", hl, l)
		}
		onLoop = append(onLoop, aio.RunningLoop() == l)
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
		l.CallSoon(func() { log = append(log, "p1"); panicky("boom") })
		l.CallSoon(rec("b"))
		l.CallSoon(func() { log = append(log, "p2"); panicky(sentinel) })
		l.CallSoon(rec("c"))
	})
	runUntil(t, l, counted(&iter, func() bool { return len(iters) == 3 }))
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
		var pe *aio.PanicError
		if !errors.As(ctx.Err, &pe) {
			t.Fatalf("report %d: Err = %#v, want a *PanicError", i, ctx.Err)
		}
		if pe.Value != want {
			t.Errorf("report %d: panic value %v, want %v", i, pe.Value, want)
		}
		if !bytes.Contains(pe.Stack, []byte("panicky")) {
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

// Panics in timer callbacks go to the error handler too, one report each,
// and the later timers still fire.
func TestTimerPanicGoesToErrorHandler(t *testing.T) {
	l := newLoop(t)
	reports := 0
	l.SetErrorHandler(func(*aio.Loop, aio.ErrorContext) { reports++ })
	after := false
	l.CallLater(0, func() { panicky("timer") })
	l.CallLater(time.Millisecond, func() { panicky("timer2") })
	l.CallLater(2*time.Millisecond, func() { after = true })
	runUntil(t, l, func() bool { return after })
	if reports != 2 {
		t.Fatalf("%d reports, want 2", reports)
	}
}

// SetErrorHandler(nil) restores the default handler, which logs a callback's
// panic through slog with its value and stack.
func TestDefaultErrorHandlerLogs(t *testing.T) {
	logged := captureSlog(t)
	l := newLoop(t)
	l.SetErrorHandler(func(*aio.Loop, aio.ErrorContext) { t.Error("the replaced handler was called") })
	l.SetErrorHandler(nil) // back to the default
	after := false
	l.CallSoon(func() { panicky("boom-default") })
	l.CallSoon(func() { after = true })
	runUntil(t, l, func() bool { return after })
	out := logged()
	for _, want := range []string{"panic", "boom-default", "panicky"} {
		if !strings.Contains(out, want) {
			t.Errorf("the default handler's log does not contain %q:\n%s", want, out)
		}
	}
}

// A panic in the error handler is logged by the default handler and does not
// stop the loop: the other callbacks run, the handler is called again for
// the next report, and the loop stays open.
func TestErrorHandlerPanic(t *testing.T) {
	logged := captureSlog(t)
	l := newLoop(t)
	calls := 0
	l.SetErrorHandler(func(*aio.Loop, aio.ErrorContext) {
		calls++
		panic("handler boom")
	})
	var log []string
	l.CallSoon(func() {
		l.CallSoon(func() { log = append(log, "a") })
		l.CallSoon(func() { panicky("cb boom") })
		l.CallSoon(func() { log = append(log, "b") })
		l.CallSoon(func() { panicky("cb boom 2") })
		l.CallSoon(func() {
			l.CallSoon(func() { log = append(log, "c") })
		})
	})
	runUntil(t, l, func() bool { return len(log) == 3 })
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
	needThreadID(t)
	l := newLoop(t)
	r, w := pipe(t)
	const n = 50
	var tids []int
	noteThread := func() {
		tid, err := threadID()
		if err != nil {
			tid = -1
		}
		tids = append(tids, tid)
	}
	const total = 2*n + n/5 + 4*n
	setup := func() {
		if err := l.AddReader(r, func() {
			noteThread()
			var b [1]byte
			readFD(r, b[:])
		}); err != nil {
			t.Errorf("AddReader: %v", err)
		}
		for i := range n {
			l.CallSoon(noteThread)
			l.CallLater(time.Duration(i%4)*time.Millisecond/2, noteThread)
			if i%5 == 0 {
				writeFD(w, []byte{1}) // n/5 bytes: n/5 reader calls
			}
		}
		for g := range 4 {
			go func() {
				for i := range n {
					if (i+g)%2 == 0 {
						l.CallSoon(noteThread)
					} else {
						l.CallLater(time.Duration(i%3)*time.Millisecond/2, noteThread)
					}
				}
			}()
		}
	}
	var callers []int
	run := func(want int) error {
		runtime.LockOSThread() // so that the thread read here is the caller's
		defer runtime.UnlockOSThread()
		tid, err := threadID()
		if err != nil {
			return err
		}
		callers = append(callers, tid)
		return l.RunUntil(func() bool { return len(tids) >= want })
	}
	l.CallSoon(setup)
	if err := goRun(t, l, func() error { return run(total) }); err != nil {
		t.Fatal(err)
	}
	l.CallSoon(noteThread)
	if err := goRun(t, l, func() error { return run(total + 1) }); err != nil {
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
	l := newLoop(t)
	var log []string
	l.CallSoon(func() {
		l.CallSoon(func() {
			log = append(log, "a")
			l.Stop()
			l.CallSoon(func() { log = append(log, "c") })
		})
		l.CallSoon(func() { log = append(log, "b") })
	})
	runForever(t, l)
	if got := strings.Join(log, ","); got != "a,b" {
		t.Fatalf("ran %q, want \"a,b\"", got)
	}
	runUntil(t, l, func() bool { return len(log) == 3 })
}

// A run and a Close that race: exactly one wins. Either the run fails with
// ErrClosed, or Close fails with ErrRunning and the run goes on normally.
func TestCloseRacesRun(t *testing.T) {
	for i := range 100 {
		l := newLoop(t)
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
		case <-time.After(runTimeout):
			l.Stop()
			t.Fatalf("round %d: the run did not end", i)
		}
		switch {
		case closeErr == nil && errors.Is(runErr, aio.ErrClosed) && !ran:
		case errors.Is(closeErr, aio.ErrRunning) && runErr == nil && ran:
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
	l := newLoop(t)
	var reports []aio.ErrorContext
	reported := make(chan struct{}, 1)
	l.SetErrorHandler(func(_ *aio.Loop, ctx aio.ErrorContext) {
		reports = append(reports, ctx)
		reported <- struct{}{}
	})
	l.CallSoon(func() { runtime.Goexit() })
	l.CallSoon(func() { t.Error("a callback ran after Goexit") })
	returned := make(chan error, 1)
	go func() { returned <- l.RunForever() }()
	select {
	case <-l.Closed():
	case <-time.After(runTimeout):
		l.Stop()
		t.Fatal("the loop was not closed after a callback called runtime.Goexit")
	}
	<-reported
	if len(reports) != 1 || !errors.Is(reports[0].Err, aio.ErrClosed) {
		t.Fatalf("reports %+v, want one with an error matching ErrClosed", reports)
	}
	if l.IsRunning() || !l.IsClosed() {
		t.Errorf("IsRunning=%v IsClosed=%v, want false true", l.IsRunning(), l.IsClosed())
	}
	if _, err := l.CallSoon(func() {}); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("CallSoon after the loop goroutine exited: %v, want ErrClosed", err)
	}
	if err := l.RunForever(); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("RunForever after the loop goroutine exited: %v, want ErrClosed", err)
	}
	if err := <-returned; !errors.Is(err, aio.ErrClosed) {
		t.Errorf("the interrupted RunForever returned %v, want ErrClosed", err)
	}
}

// A panic in RunUntil's condition reaches the caller, and the loop stays
// usable: idle, not closed, and it runs again.
func TestRunUntilConditionPanics(t *testing.T) {
	l := newLoop(t)
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
	runUntil(t, l, func() bool { return ran == 2 })
}
