package aio

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Helpers shared by future_test.go, task_test.go, run_test.go and
// gather_test.go. They carry the prefix fx so that they do not collide with
// the helpers of the package's other test files.

// fxLoop returns a new loop, closed when the test ends (from the test
// goroutine, which is the goroutine that ran it).
func fxLoop(t testing.TB) *Loop {
	t.Helper()
	fxLeakCheck(t)
	l, err := NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// fxIterate runs one iteration of an idle loop from the calling goroutine,
// running fn (if not nil) as a callback of that iteration.
func fxIterate(t testing.TB, l *Loop, fn func()) {
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

// fxReports records what a loop's error handler receives.
type fxReports struct {
	mu   sync.Mutex
	list []ErrorContext
}

func fxRecord(l *Loop) *fxReports {
	r := &fxReports{}
	l.SetErrorHandler(func(_ *Loop, c ErrorContext) {
		r.mu.Lock()
		r.list = append(r.list, c)
		r.mu.Unlock()
	})
	return r
}

func (r *fxReports) all() []ErrorContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ErrorContext(nil), r.list...)
}

func (r *fxReports) count(msg string) int {
	n := 0
	for _, c := range r.all() {
		if strings.Contains(c.Message, msg) {
			n++
		}
	}
	return n
}

// fxClosed reports whether ch is closed, without blocking.
func fxClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// fxGoLoop runs l with RunForever on a new goroutine, and returns a function
// that stops it, waits for the run to end, and closes the loop from that
// goroutine.
func fxGoLoop(t testing.TB, l *Loop) (stop func()) {
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

func TestFutureSetResultOnLoop(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	if f.Loop() != l {
		t.Fatal("Loop() is not the loop the future was made for")
	}
	if f.IsDone() || f.Canceled() {
		t.Fatal("new future is done")
	}
	if _, err := f.Result(); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("Result of a pending future: %v, want ErrInvalidState", err)
	}
	if err := f.Err(); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("Err of a pending future: %v, want ErrInvalidState", err)
	}
	var first, second, nilErr error
	fxIterate(t, l, func() {
		first = f.SetResult(42)
		second = f.SetResult(43)
		nilErr = f.SetError(errors.New("late"))
	})
	if first != nil {
		t.Fatalf("first SetResult: %v", first)
	}
	if !errors.Is(second, ErrInvalidState) {
		t.Fatalf("second SetResult: %v, want ErrInvalidState", second)
	}
	if !errors.Is(nilErr, ErrInvalidState) {
		t.Fatalf("SetError after SetResult: %v, want ErrInvalidState", nilErr)
	}
	v, err := f.Result()
	if v != 42 || err != nil {
		t.Fatalf("Result = %d, %v; want 42, nil", v, err)
	}
	if !f.IsDone() || f.Canceled() {
		t.Fatalf("IsDone=%v Cancelled=%v after SetResult", f.IsDone(), f.Canceled())
	}
	if f.Cancel(nil) {
		t.Fatal("Cancel of a done future reported true")
	}
	if v, err := f.Result(); v != 42 || err != nil {
		t.Fatalf("Cancel changed a done future: %d, %v", v, err)
	}
}

func TestFutureMisuseErrors(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name  string
		setup func(f *Future[int]) // on the loop, before op
		op    func(f *Future[int]) error
		want  error
		// what the future holds afterwards
		wantDone      bool
		wantCancelled bool
		wantV         int
		wantErr       error
	}{
		{
			name:  "SetResult twice",
			setup: func(f *Future[int]) { f.SetResult(1) },
			op:    func(f *Future[int]) error { return f.SetResult(2) },
			want:  ErrInvalidState, wantDone: true, wantV: 1,
		},
		{
			name:  "SetError after SetResult",
			setup: func(f *Future[int]) { f.SetResult(1) },
			op:    func(f *Future[int]) error { return f.SetError(boom) },
			want:  ErrInvalidState, wantDone: true, wantV: 1,
		},
		{
			name:  "SetResult after SetError",
			setup: func(f *Future[int]) { f.SetError(boom) },
			op:    func(f *Future[int]) error { return f.SetResult(2) },
			want:  ErrInvalidState, wantDone: true, wantErr: boom,
		},
		{
			name:  "SetResult after Cancel",
			setup: func(f *Future[int]) { f.Cancel(boom) },
			op:    func(f *Future[int]) error { return f.SetResult(2) },
			want:  ErrInvalidState, wantDone: true, wantCancelled: true, wantErr: context.Canceled,
		},
		{
			name:  "SetError after Cancel",
			setup: func(f *Future[int]) { f.Cancel(nil) },
			op:    func(f *Future[int]) error { return f.SetError(boom) },
			want:  ErrInvalidState, wantDone: true, wantCancelled: true, wantErr: context.Canceled,
		},
		{
			name: "SetError(nil) on a pending future",
			op:   func(f *Future[int]) error { return f.SetError(nil) },
			want: ErrInvalidState,
		},
		{
			name:  "SetError(nil) on a done future",
			setup: func(f *Future[int]) { f.SetResult(5) },
			op:    func(f *Future[int]) error { return f.SetError(nil) },
			want:  ErrInvalidState, wantDone: true, wantV: 5,
		},
		{
			name: "AddDoneCallback(nil)",
			op: func(f *Future[int]) error {
				_, err := f.AddDoneCallback(nil)
				return err
			},
			want: ErrNilFunc,
		},
		{
			name: "Wait on the loop goroutine",
			op: func(f *Future[int]) error {
				_, err := f.Wait(context.Background())
				return err
			},
			want: ErrOnLoop,
		},
		{
			name:  "Wait on the loop goroutine, done future",
			setup: func(f *Future[int]) { f.SetResult(3) },
			op: func(f *Future[int]) error {
				_, err := f.Wait(context.Background())
				return err
			},
			want: ErrOnLoop, wantDone: true, wantV: 3,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := fxLoop(t)
			f := NewFuture[int](l)
			var got error
			fxIterate(t, l, func() {
				if tc.setup != nil {
					tc.setup(f)
				}
				got = tc.op(f)
			})
			if !errors.Is(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if f.IsDone() != tc.wantDone || f.Canceled() != tc.wantCancelled {
				t.Fatalf("IsDone=%v Cancelled=%v, want %v %v", f.IsDone(), f.Canceled(), tc.wantDone, tc.wantCancelled)
			}
			if !tc.wantDone {
				return
			}
			v, err := f.Result()
			if v != tc.wantV || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Result = %d, %v; want %d, %v", v, err, tc.wantV, tc.wantErr)
			}
		})
	}
}

func TestFutureSetErrorNilOffLoop(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	if err := f.SetError(nil); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("SetError(nil) from another goroutine: %v, want ErrInvalidState", err)
	}
	fxIterate(t, l, nil)
	if f.IsDone() {
		t.Fatal("SetError(nil) completed the future")
	}
}

func TestFutureSetErrorKeepsError(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[string](l)
	boom := fmt.Errorf("wrapped: %w", context.DeadlineExceeded)
	fxIterate(t, l, func() {
		if err := f.SetError(boom); err != nil {
			t.Errorf("SetError: %v", err)
		}
	})
	v, err := f.Result()
	if v != "" || err != boom {
		t.Fatalf("Result = %q, %v; want \"\", %v", v, err, boom)
	}
	if f.Canceled() {
		t.Fatal("a future that failed with an error that is not a cancellation reports Cancelled")
	}
	if f.Err() != boom {
		t.Fatalf("Err = %v", f.Err())
	}
}

func TestFutureCancelCause(t *testing.T) {
	myCause := errors.New("my cause")
	cases := []struct {
		name      string
		cause     error
		wantCause error
	}{
		{"nil cause", nil, context.Canceled},
		{"custom cause", myCause, myCause},
		{"deadline", context.DeadlineExceeded, context.DeadlineExceeded},
		{"wrapped cause", fmt.Errorf("ctx: %w", myCause), myCause},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := fxLoop(t)
			f := NewFuture[int](l)
			var ok1, ok2 bool
			fxIterate(t, l, func() {
				ok1 = f.Cancel(tc.cause)
				ok2 = f.Cancel(errors.New("second"))
			})
			if !ok1 || ok2 {
				t.Fatalf("Cancel results %v, %v; want true, false", ok1, ok2)
			}
			if !f.IsDone() || !f.Canceled() {
				t.Fatal("cancelled future is not done and cancelled")
			}
			err := f.Err()
			var ce *CanceledError
			if !errors.As(err, &ce) {
				t.Fatalf("Err = %T %v, want *CanceledError", err, err)
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%v does not match context.Canceled", err)
			}
			if !errors.Is(err, tc.wantCause) {
				t.Fatalf("%v does not match its cause %v", err, tc.wantCause)
			}
			want := tc.cause
			if want == nil {
				want = context.Canceled
			}
			if got := Cause(err); got != want {
				t.Fatalf("Cause = %v, want %v", got, want)
			}
			if got := Cause(fmt.Errorf("outer: %w", err)); got != want {
				t.Fatalf("Cause of a wrapped cancellation = %v, want %v", got, want)
			}
			if !strings.Contains(err.Error(), "canceled") {
				t.Fatalf("Error() = %q", err.Error())
			}
		})
	}
}

func TestCauseOfOtherErrors(t *testing.T) {
	cases := []struct {
		err  error
		want error
	}{
		{nil, nil},
		{errors.New("plain"), nil},
		{context.DeadlineExceeded, nil},
		{context.Canceled, context.Canceled},
		{fmt.Errorf("w: %w", context.Canceled), context.Canceled},
		{&CanceledError{}, context.Canceled},
		{&CanceledError{Cause: ErrClosed}, ErrClosed},
	}
	for _, tc := range cases {
		if got := Cause(tc.err); got != tc.want {
			t.Errorf("Cause(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if got := (&CanceledError{}).Error(); got != "aio: canceled" {
		t.Errorf("Error() of a cancellation without cause = %q", got)
	}
	if got := (&CanceledError{Cause: ErrClosed}).Error(); !strings.Contains(got, ErrClosed.Error()) {
		t.Errorf("Error() = %q does not name the cause", got)
	}
}

func TestFutureDoneCallbacksOrderAndOnce(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	var log []int
	var removes []func() bool
	fxIterate(t, l, func() {
		for i := range 6 {
			rm, err := f.AddDoneCallback(func() { log = append(log, i) })
			if err != nil {
				t.Errorf("AddDoneCallback: %v", err)
			}
			removes = append(removes, rm)
		}
		// Remove 1 and 4 before completion.
		if !removes[1]() {
			t.Error("remove before completion reported false")
		}
		if removes[1]() {
			t.Error("second remove reported true")
		}
		if !removes[4]() {
			t.Error("remove before completion reported false")
		}
		// Remove the first one: the others keep their order.
		if !removes[0]() {
			t.Error("remove of the first callback reported false")
		}
	})
	fxIterate(t, l, func() {
		f.SetResult(7)
		if len(log) != 0 {
			t.Errorf("callbacks ran during SetResult: %v", log)
		}
		// After completion, remove reports false: the callback is scheduled.
		if removes[2]() {
			t.Error("remove after completion reported true")
		}
	})
	// The callbacks were scheduled in the iteration of SetResult; they run in
	// the next one.
	if len(log) != 0 {
		t.Fatalf("callbacks ran in the iteration that completed the future: %v", log)
	}
	fxIterate(t, l, nil)
	want := []int{2, 3, 5}
	if fmt.Sprint(log) != fmt.Sprint(want) {
		t.Fatalf("callbacks ran %v, want %v", log, want)
	}
	for range 3 {
		fxIterate(t, l, nil)
	}
	if fmt.Sprint(log) != fmt.Sprint(want) {
		t.Fatalf("callbacks ran again: %v", log)
	}
	// A callback added after completion is scheduled at once, runs exactly
	// once, and cannot be removed.
	var late int
	var lateRemoved bool
	fxIterate(t, l, func() {
		rm, err := f.AddDoneCallback(func() { late++ })
		if err != nil {
			t.Errorf("AddDoneCallback on a done future: %v", err)
			return
		}
		lateRemoved = rm()
		if late != 0 {
			t.Error("late callback ran synchronously")
		}
	})
	fxIterate(t, l, nil)
	if lateRemoved {
		t.Error("remove of a callback added after completion reported true")
	}
	if late != 1 {
		t.Fatalf("late callback ran %d times, want 1", late)
	}
}

func TestFutureDoneCallbackPanicDoesNotStopOthers(t *testing.T) {
	l := fxLoop(t)
	rep := fxRecord(l)
	f := NewFuture[int](l)
	var ran []int
	fxIterate(t, l, func() {
		f.AddDoneCallback(func() { ran = append(ran, 1) })
		f.AddDoneCallback(func() { panic("callback panic") })
		f.AddDoneCallback(func() { ran = append(ran, 3) })
		f.Cancel(nil)
	})
	fxIterate(t, l, nil)
	if fmt.Sprint(ran) != "[1 3]" {
		t.Fatalf("callbacks ran %v, want [1 3]", ran)
	}
	var pe *PanicError
	reports := rep.all()
	if len(reports) != 1 || !errors.As(reports[0].Err, &pe) || pe.Value != "callback panic" {
		t.Fatalf("reports = %+v, want one panic", reports)
	}
}

func TestFutureAddDoneCallbackOffLoop(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	rm, err := f.AddDoneCallback(func() {})
	if !errors.Is(err, ErrNotOnLoop) {
		t.Fatalf("AddDoneCallback from another goroutine: %v, want ErrNotOnLoop", err)
	}
	if rm != nil && rm() {
		t.Fatal("remove after a failed AddDoneCallback reported true")
	}
	// A remove function called off the loop panics with ErrNotOnLoop, as the
	// loop-only methods without an error result do, and removes nothing.
	var remove func() bool
	ran := 0
	fxIterate(t, l, func() { remove, _ = f.AddDoneCallback(func() { ran++ }) })
	func() {
		defer func() {
			if err, _ := recover().(error); !errors.Is(err, ErrNotOnLoop) {
				t.Fatalf("remove from another goroutine: panic %v, want ErrNotOnLoop", err)
			}
		}()
		remove()
	}()
	fxIterate(t, l, func() { f.SetResult(1) })
	fxIterate(t, l, nil)
	if ran != 1 {
		t.Fatalf("callback ran %d times, want 1", ran)
	}
}

func TestFutureDoneChannel(t *testing.T) {
	l := fxLoop(t)

	// Asked for before completion: open, then closed.
	f := NewFuture[int](l)
	ch := f.Done()
	if fxClosed(ch) {
		t.Fatal("Done closed before completion")
	}
	if f.Done() != ch {
		t.Fatal("Done returned a different channel the second time")
	}
	fxIterate(t, l, func() { f.SetResult(1) })
	if !fxClosed(ch) || !fxClosed(f.Done()) {
		t.Fatal("Done not closed after completion")
	}

	// Asked for only after completion: closed at once.
	g := NewFuture[int](l)
	fxIterate(t, l, func() { g.Cancel(nil) })
	if !fxClosed(g.Done()) {
		t.Fatal("Done of a future completed earlier is not closed")
	}

	// Many goroutines asking concurrently all get the same channel.
	h := NewFuture[int](l)
	var wg sync.WaitGroup
	chans := make([]<-chan struct{}, 16)
	for i := range chans {
		wg.Go(func() { chans[i] = h.Done() })
	}
	wg.Wait()
	for _, c := range chans {
		if c != chans[0] {
			t.Fatal("concurrent Done calls returned different channels")
		}
	}
	fxIterate(t, l, func() { h.SetError(errors.New("x")) })
	if !fxClosed(chans[0]) {
		t.Fatal("Done not closed after SetError")
	}
}

func TestFutureWaitFromGoroutine(t *testing.T) {
	l := fxLoop(t)
	stop := fxGoLoop(t, l)
	defer stop()

	f := NewFuture[string](l)
	got := make(chan string, 1)
	go func() {
		v, err := f.Wait(context.Background())
		if err != nil {
			v = "error: " + err.Error()
		}
		got <- v
	}()
	if err := f.SetResult("hello"); err != nil {
		t.Fatalf("SetResult from another goroutine: %v", err)
	}
	if v := <-got; v != "hello" {
		t.Fatalf("Wait = %q", v)
	}
	// Wait on a done future returns at once; a nil ctx is refused.
	if v, err := f.Wait(context.Background()); v != "hello" || err != nil {
		t.Fatalf("Wait on a done future = %q, %v", v, err)
	}
	var nilCtx context.Context
	if _, err := f.Wait(nilCtx); !errors.Is(err, ErrNilContext) {
		t.Fatalf("Wait(nil) = %v, want ErrNilContext", err)
	}
}

func TestFutureWaitContext(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	cause := errors.New("gave up")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	if _, err := f.Wait(ctx); err != cause {
		t.Fatalf("Wait with a cancelled ctx = %v, want %v", err, cause)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel2()
	if _, err := f.Wait(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a timeout = %v, want DeadlineExceeded", err)
	}
	if f.IsDone() {
		t.Fatal("Wait's ctx ending changed the future")
	}
}

func TestFutureWaitReleasedByClose(t *testing.T) {
	l, err := NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	f := NewFuture[int](l)
	errc := make(chan error, 1)
	go func() {
		_, err := f.Wait(context.Background())
		errc <- err
	}()
	// Let the waiter block (not required for correctness: Wait on a closed
	// loop returns ErrClosed too).
	time.Sleep(time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after Close = %v, want ErrClosed", err)
	}
	if _, err := f.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait on a closed loop = %v, want ErrClosed", err)
	}
}

func TestFutureOnClosedLoop(t *testing.T) {
	l, err := NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	f := NewFuture[int](l)
	l.Close()
	if err := f.SetResult(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("SetResult on a closed loop = %v, want ErrClosed", err)
	}
	if err := f.SetError(errors.New("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("SetError on a closed loop = %v, want ErrClosed", err)
	}
	if f.Cancel(nil) {
		t.Fatal("Cancel on a closed loop reported true")
	}
	if f.IsDone() {
		t.Fatal("a future of a closed loop became done")
	}
}

func TestFutureCompletionFromOtherGoroutineBeforeRun(t *testing.T) {
	// Completion from another goroutine travels through the door: on an idle
	// loop it takes effect when the loop next runs.
	l := fxLoop(t)
	f := NewFuture[int](l)
	if err := f.SetResult(9); err != nil {
		t.Fatal(err)
	}
	if f.IsDone() {
		t.Fatal("SetResult from another goroutine completed the future before the loop ran")
	}
	fxIterate(t, l, nil)
	if v, err := f.Result(); v != 9 || err != nil {
		t.Fatalf("Result = %d, %v", v, err)
	}
}

func TestFutureConcurrentCompletion(t *testing.T) {
	for round := range 20 {
		l := fxLoop(t)
		rep := fxRecord(l)
		stop := fxGoLoop(t, l)
		f := NewFuture[int](l)
		const n = 8
		withCancel := round%2 == 1
		var wg sync.WaitGroup
		var start sync.WaitGroup
		start.Add(1)
		var okCancel atomic.Bool
		for i := range n {
			wg.Go(func() {
				start.Wait()
				if withCancel && i == n/2 {
					okCancel.Store(f.Cancel(nil))
					return
				}
				var err error
				if i%2 == 0 {
					err = f.SetResult(i)
				} else {
					err = f.SetError(fmt.Errorf("e%d", i))
				}
				if err != nil {
					t.Errorf("completion from goroutine %d: %v", i, err)
				}
			})
		}
		start.Done()
		wg.Wait()
		<-f.Done()
		stop() // the loop has drained every completion sent before the Stop
		setters := n
		if withCancel {
			setters--
		}
		reports := rep.count("completed twice")
		switch {
		case f.Canceled():
			if reports != 0 {
				t.Fatalf("round %d: %d late completions of a cancelled future were reported, want 0", round, reports)
			}
			if !okCancel.Load() {
				t.Fatalf("round %d: the winning Cancel reported false", round)
			}
		default:
			if reports != setters-1 {
				t.Fatalf("round %d: %d late completions reported, want %d", round, reports, setters-1)
			}
			v, err := f.Result()
			if err == nil && (v%2 != 0) || err != nil && v != 0 {
				t.Fatalf("round %d: inconsistent outcome %d, %v", round, v, err)
			}
		}
		if len(rep.all()) != reports {
			t.Fatalf("round %d: unexpected reports %+v", round, rep.all())
		}
	}
}

func TestFutureCancelFromOtherGoroutine(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	cause := errors.New("outside")
	if !f.Cancel(cause) {
		t.Fatal("Cancel of a pending future from another goroutine reported false")
	}
	fxIterate(t, l, nil)
	if !f.Canceled() || Cause(f.Err()) != cause {
		t.Fatalf("Cancelled=%v Err=%v", f.Canceled(), f.Err())
	}
	if f.Cancel(nil) {
		t.Fatal("Cancel of a done future from another goroutine reported true")
	}
}

func TestFutureLateCompletionAfterCancelIsSilent(t *testing.T) {
	l := fxLoop(t)
	rep := fxRecord(l)
	f := NewFuture[int](l)
	fxIterate(t, l, func() { f.Cancel(nil) })
	if err := f.SetResult(1); err != nil {
		t.Fatalf("SetResult from another goroutine: %v", err)
	}
	if err := f.SetError(errors.New("x")); err != nil {
		t.Fatalf("SetError from another goroutine: %v", err)
	}
	fxIterate(t, l, nil)
	if r := rep.all(); len(r) != 0 {
		t.Fatalf("late completions of a cancelled future reported: %+v", r)
	}
	g := NewFuture[int](l)
	fxIterate(t, l, func() { g.SetResult(1) })
	g.SetResult(2)
	fxIterate(t, l, nil)
	r := rep.all()
	if len(r) != 1 || !errors.Is(r[0].Err, ErrInvalidState) {
		t.Fatalf("late completion of a done future: reports %+v, want one ErrInvalidState", r)
	}
	if v, _ := g.Result(); v != 1 {
		t.Fatalf("late completion changed the result to %d", v)
	}
}

// A future is an Awaitable whose Poll reports its outcome once done, and
// adds the waiter to its waiters before.
func TestFutureAwaitableInterface(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	var a Awaitable[int] = f
	fxIterate(t, l, func() {
		w := &Waiter{w: command(func() {})}
		if _, ok, _ := a.Poll(w); ok || f.waiters.head != w {
			t.Error("Poll of a pending future did not add the waiter")
		}
		f.waiters.remove(w)
		f.SetResult(7)
		if v, ok, err := a.Poll(w); !ok || v != 7 || err != nil {
			t.Errorf("Poll of a done future = %v, %v, %v", v, ok, err)
		}
	})
}

// fxNoGoroutinesBeyond fails the test if, within a couple of seconds, the
// number of goroutines does not come back down to before.
func fxNoGoroutinesBeyond(t testing.TB, before int) {
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
