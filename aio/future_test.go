package aio_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// A new future is pending (Result and Err return ErrInvalidState); SetResult
// on the loop completes it once, a second SetResult or a SetError is refused
// with ErrInvalidState, and Cancel of the done future reports false and
// changes nothing.
func TestFutureSetResultOnLoop(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	if f.Loop() != l {
		t.Fatal("Loop() is not the loop the future was made for")
	}
	if f.IsDone() || f.Canceled() {
		t.Fatal("new future is done")
	}
	if _, err := f.Result(); !errors.Is(err, aio.ErrInvalidState) {
		t.Fatalf("Result of a pending future: %v, want ErrInvalidState", err)
	}
	if err := f.Err(); !errors.Is(err, aio.ErrInvalidState) {
		t.Fatalf("Err of a pending future: %v, want ErrInvalidState", err)
	}
	var first, second, nilErr error
	iterate(t, l, func() {
		first = f.SetResult(42)
		second = f.SetResult(43)
		nilErr = f.SetError(errors.New("late"))
	})
	if first != nil {
		t.Fatalf("first SetResult: %v", first)
	}
	if !errors.Is(second, aio.ErrInvalidState) {
		t.Fatalf("second SetResult: %v, want ErrInvalidState", second)
	}
	if !errors.Is(nilErr, aio.ErrInvalidState) {
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

// Each misuse of a future on the loop (completing it twice, SetError(nil),
// AddDoneCallback(nil), Wait on the loop goroutine) returns the documented
// error and leaves the future as it was.
func TestFutureMisuseErrors(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name  string
		setup func(f *aio.Future[int]) // on the loop, before op
		op    func(f *aio.Future[int]) error
		want  error
		// what the future holds afterwards
		wantDone      bool
		wantCancelled bool
		wantV         int
		wantErr       error
	}{
		{
			name:  "SetResult twice",
			setup: func(f *aio.Future[int]) { f.SetResult(1) },
			op:    func(f *aio.Future[int]) error { return f.SetResult(2) },
			want:  aio.ErrInvalidState, wantDone: true, wantV: 1,
		},
		{
			name:  "SetError after SetResult",
			setup: func(f *aio.Future[int]) { f.SetResult(1) },
			op:    func(f *aio.Future[int]) error { return f.SetError(boom) },
			want:  aio.ErrInvalidState, wantDone: true, wantV: 1,
		},
		{
			name:  "SetResult after SetError",
			setup: func(f *aio.Future[int]) { f.SetError(boom) },
			op:    func(f *aio.Future[int]) error { return f.SetResult(2) },
			want:  aio.ErrInvalidState, wantDone: true, wantErr: boom,
		},
		{
			name:  "SetResult after Cancel",
			setup: func(f *aio.Future[int]) { f.Cancel(boom) },
			op:    func(f *aio.Future[int]) error { return f.SetResult(2) },
			want:  aio.ErrInvalidState, wantDone: true, wantCancelled: true, wantErr: context.Canceled,
		},
		{
			name:  "SetError after Cancel",
			setup: func(f *aio.Future[int]) { f.Cancel(nil) },
			op:    func(f *aio.Future[int]) error { return f.SetError(boom) },
			want:  aio.ErrInvalidState, wantDone: true, wantCancelled: true, wantErr: context.Canceled,
		},
		{
			name: "SetError(nil) on a pending future",
			op:   func(f *aio.Future[int]) error { return f.SetError(nil) },
			want: aio.ErrInvalidState,
		},
		{
			name:  "SetError(nil) on a done future",
			setup: func(f *aio.Future[int]) { f.SetResult(5) },
			op:    func(f *aio.Future[int]) error { return f.SetError(nil) },
			want:  aio.ErrInvalidState, wantDone: true, wantV: 5,
		},
		{
			name: "AddDoneCallback(nil)",
			op: func(f *aio.Future[int]) error {
				_, err := f.AddDoneCallback(nil)
				return err
			},
			want: aio.ErrNilFunc,
		},
		{
			name: "Wait on the loop goroutine",
			op: func(f *aio.Future[int]) error {
				_, err := f.Wait(context.Background())
				return err
			},
			want: aio.ErrOnLoop,
		},
		{
			name:  "Wait on the loop goroutine, done future",
			setup: func(f *aio.Future[int]) { f.SetResult(3) },
			op: func(f *aio.Future[int]) error {
				_, err := f.Wait(context.Background())
				return err
			},
			want: aio.ErrOnLoop, wantDone: true, wantV: 3,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			f := aio.NewFuture[int](l)
			var got error
			iterate(t, l, func() {
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

// SetError(nil) from another goroutine is refused at once with
// ErrInvalidState, and nothing reaches the loop: the future stays pending.
func TestFutureSetErrorNilOffLoop(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	if err := f.SetError(nil); !errors.Is(err, aio.ErrInvalidState) {
		t.Fatalf("SetError(nil) from another goroutine: %v, want ErrInvalidState", err)
	}
	iterate(t, l, nil)
	if f.IsDone() {
		t.Fatal("SetError(nil) completed the future")
	}
}

// SetError stores the very error given: Result and Err return it unchanged,
// and an error that is not a cancellation does not make the future canceled.
func TestFutureSetErrorKeepsError(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[string](l)
	boom := fmt.Errorf("wrapped: %w", context.DeadlineExceeded)
	iterate(t, l, func() {
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

// Cancel completes a pending future with a *CanceledError that matches
// context.Canceled and its cause (context.Canceled for a nil cause), which
// Cause returns, also through wrapping; only the first Cancel reports true.
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
			l := newLoop(t)
			f := aio.NewFuture[int](l)
			var ok1, ok2 bool
			iterate(t, l, func() {
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
			var ce *aio.CanceledError
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
			if got := aio.Cause(err); got != want {
				t.Fatalf("Cause = %v, want %v", got, want)
			}
			if got := aio.Cause(fmt.Errorf("outer: %w", err)); got != want {
				t.Fatalf("Cause of a wrapped cancellation = %v, want %v", got, want)
			}
			if !strings.Contains(err.Error(), "canceled") {
				t.Fatalf("Error() = %q", err.Error())
			}
		})
	}
}

// Cause returns nil for errors that are not cancellations, context.Canceled
// for a plain cancellation and for a CanceledError without cause, and the
// cause otherwise; a CanceledError's message names its cause.
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
		{&aio.CanceledError{}, context.Canceled},
		{&aio.CanceledError{Cause: aio.ErrClosed}, aio.ErrClosed},
	}
	for _, tc := range cases {
		if got := aio.Cause(tc.err); got != tc.want {
			t.Errorf("Cause(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if got := (&aio.CanceledError{}).Error(); got != "aio: canceled" {
		t.Errorf("Error() of a cancellation without cause = %q", got)
	}
	if got := (&aio.CanceledError{Cause: aio.ErrClosed}).Error(); !strings.Contains(got, aio.ErrClosed.Error()) {
		t.Errorf("Error() = %q does not name the cause", got)
	}
}

// Done callbacks run in the order they were added, each exactly once, in the
// iteration after the one that completed the future; remove unregisters a
// callback before completion (reporting true once) and reports false after;
// a callback added to a done future is scheduled at once, runs once, and
// cannot be removed.
func TestFutureDoneCallbacksOrderAndOnce(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	var log []int
	var removes []func() bool
	iterate(t, l, func() {
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
	iterate(t, l, func() {
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
	iterate(t, l, nil)
	want := []int{2, 3, 5}
	if fmt.Sprint(log) != fmt.Sprint(want) {
		t.Fatalf("callbacks ran %v, want %v", log, want)
	}
	for range 3 {
		iterate(t, l, nil)
	}
	if fmt.Sprint(log) != fmt.Sprint(want) {
		t.Fatalf("callbacks ran again: %v", log)
	}
	// A callback added after completion is scheduled at once, runs exactly
	// once, and cannot be removed.
	var late int
	var lateRemoved bool
	iterate(t, l, func() {
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
	iterate(t, l, nil)
	if lateRemoved {
		t.Error("remove of a callback added after completion reported true")
	}
	if late != 1 {
		t.Fatalf("late callback ran %d times, want 1", late)
	}
}

// A panic in a done callback is reported once to the error handler, and the
// other done callbacks still run, in order.
func TestFutureDoneCallbackPanicDoesNotStopOthers(t *testing.T) {
	l := newLoop(t)
	rep := record(l)
	f := aio.NewFuture[int](l)
	var ran []int
	iterate(t, l, func() {
		f.AddDoneCallback(func() { ran = append(ran, 1) })
		f.AddDoneCallback(func() { panic("callback panic") })
		f.AddDoneCallback(func() { ran = append(ran, 3) })
		f.Cancel(nil)
	})
	iterate(t, l, nil)
	if fmt.Sprint(ran) != "[1 3]" {
		t.Fatalf("callbacks ran %v, want [1 3]", ran)
	}
	var pe *aio.PanicError
	reports := rep.all()
	if len(reports) != 1 || !errors.As(reports[0].Err, &pe) || pe.Value != "callback panic" {
		t.Fatalf("reports = %+v, want one panic", reports)
	}
}

// AddDoneCallback from another goroutine returns ErrNotOnLoop; the remove
// function of a callback added on the loop panics with ErrNotOnLoop when
// called off it, and removes nothing: the callback still runs once.
func TestFutureAddDoneCallbackOffLoop(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	rm, err := f.AddDoneCallback(func() {})
	if !errors.Is(err, aio.ErrNotOnLoop) {
		t.Fatalf("AddDoneCallback from another goroutine: %v, want ErrNotOnLoop", err)
	}
	if rm != nil && rm() {
		t.Fatal("remove after a failed AddDoneCallback reported true")
	}
	// A remove function called off the loop panics with ErrNotOnLoop, as the
	// loop-only methods without an error result do, and removes nothing.
	var remove func() bool
	ran := 0
	iterate(t, l, func() { remove, _ = f.AddDoneCallback(func() { ran++ }) })
	func() {
		defer func() {
			if err, _ := recover().(error); !errors.Is(err, aio.ErrNotOnLoop) {
				t.Fatalf("remove from another goroutine: panic %v, want ErrNotOnLoop", err)
			}
		}()
		remove()
	}()
	iterate(t, l, func() { f.SetResult(1) })
	iterate(t, l, nil)
	if ran != 1 {
		t.Fatalf("callback ran %d times, want 1", ran)
	}
}

// Done returns one channel per future, the same to every caller, concurrent
// ones included: open while the future is pending, closed when it completes,
// and closed at once when first asked for after completion.
func TestFutureDoneChannel(t *testing.T) {
	l := newLoop(t)

	// Asked for before completion: open, then closed.
	f := aio.NewFuture[int](l)
	ch := f.Done()
	if isClosed(ch) {
		t.Fatal("Done closed before completion")
	}
	if f.Done() != ch {
		t.Fatal("Done returned a different channel the second time")
	}
	iterate(t, l, func() { f.SetResult(1) })
	if !isClosed(ch) || !isClosed(f.Done()) {
		t.Fatal("Done not closed after completion")
	}

	// Asked for only after completion: closed at once.
	g := aio.NewFuture[int](l)
	iterate(t, l, func() { g.Cancel(nil) })
	if !isClosed(g.Done()) {
		t.Fatal("Done of a future completed earlier is not closed")
	}

	// Many goroutines asking concurrently all get the same channel.
	h := aio.NewFuture[int](l)
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
	iterate(t, l, func() { h.SetError(errors.New("x")) })
	if !isClosed(chans[0]) {
		t.Fatal("Done not closed after SetError")
	}
}

// Wait from a plain goroutine returns the result that another goroutine set
// while the loop runs; on a done future it returns at once, and a nil
// context is refused with ErrNilContext.
func TestFutureWaitFromGoroutine(t *testing.T) {
	l := newLoop(t)
	stop := goLoop(t, l)
	defer stop()

	f := aio.NewFuture[string](l)
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
	if _, err := f.Wait(nilCtx); !errors.Is(err, aio.ErrNilContext) {
		t.Fatalf("Wait(nil) = %v, want ErrNilContext", err)
	}
}

// Wait returns the cause of a context that ends first (cancelled or timed
// out), and leaves the future pending.
func TestFutureWaitContext(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
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

// Close releases a goroutine blocked in Wait on a pending future with
// ErrClosed, and a later Wait on it returns ErrClosed at once.
func TestFutureWaitReleasedByClose(t *testing.T) {
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	f := aio.NewFuture[int](l)
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
	if err := <-errc; !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("Wait after Close = %v, want ErrClosed", err)
	}
	if _, err := f.Wait(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("Wait on a closed loop = %v, want ErrClosed", err)
	}
}

// On a closed loop, SetResult and SetError from another goroutine fail with
// ErrClosed, Cancel reports false, and the future stays pending.
func TestFutureOnClosedLoop(t *testing.T) {
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	f := aio.NewFuture[int](l)
	l.Close()
	if err := f.SetResult(1); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("SetResult on a closed loop = %v, want ErrClosed", err)
	}
	if err := f.SetError(errors.New("x")); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("SetError on a closed loop = %v, want ErrClosed", err)
	}
	if f.Cancel(nil) {
		t.Fatal("Cancel on a closed loop reported true")
	}
	if f.IsDone() {
		t.Fatal("a future of a closed loop became done")
	}
}

// A completion from another goroutine travels through the door: on an idle
// loop it does not complete the future at once, but when the loop next runs.
func TestFutureCompletionFromOtherGoroutineBeforeRun(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	if err := f.SetResult(9); err != nil {
		t.Fatal(err)
	}
	if f.IsDone() {
		t.Fatal("SetResult from another goroutine completed the future before the loop ran")
	}
	iterate(t, l, nil)
	if v, err := f.Result(); v != 9 || err != nil {
		t.Fatalf("Result = %d, %v", v, err)
	}
}

// Goroutines racing to complete one future (SetResult, SetError, and in odd
// rounds a Cancel): one completion wins with a consistent outcome; every
// losing completion is reported as a future completed twice, except when a
// Cancel won, which reports true and makes the late completions silent.
func TestFutureConcurrentCompletion(t *testing.T) {
	for round := range 20 {
		l := newLoop(t)
		rep := record(l)
		stop := goLoop(t, l)
		f := aio.NewFuture[int](l)
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

// Cancel from another goroutine reports true for a pending future and takes
// effect, with its cause, when the loop receives it; once the future is
// done, Cancel reports false.
func TestFutureCancelFromOtherGoroutine(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	cause := errors.New("outside")
	if !f.Cancel(cause) {
		t.Fatal("Cancel of a pending future from another goroutine reported false")
	}
	iterate(t, l, nil)
	if !f.Canceled() || aio.Cause(f.Err()) != cause {
		t.Fatalf("Cancelled=%v Err=%v", f.Canceled(), f.Err())
	}
	if f.Cancel(nil) {
		t.Fatal("Cancel of a done future from another goroutine reported true")
	}
}

// A completion from another goroutine that reaches a future already canceled
// is dropped silently; one that reaches a future with a result is reported
// once, with ErrInvalidState, and the result stays.
func TestFutureLateCompletionAfterCancelIsSilent(t *testing.T) {
	l := newLoop(t)
	rep := record(l)
	f := aio.NewFuture[int](l)
	iterate(t, l, func() { f.Cancel(nil) })
	if err := f.SetResult(1); err != nil {
		t.Fatalf("SetResult from another goroutine: %v", err)
	}
	if err := f.SetError(errors.New("x")); err != nil {
		t.Fatalf("SetError from another goroutine: %v", err)
	}
	iterate(t, l, nil)
	if r := rep.all(); len(r) != 0 {
		t.Fatalf("late completions of a cancelled future reported: %+v", r)
	}
	g := aio.NewFuture[int](l)
	iterate(t, l, func() { g.SetResult(1) })
	g.SetResult(2)
	iterate(t, l, nil)
	r := rep.all()
	if len(r) != 1 || !errors.Is(r[0].Err, aio.ErrInvalidState) {
		t.Fatalf("late completion of a done future: reports %+v, want one ErrInvalidState", r)
	}
	if v, _ := g.Result(); v != 1 {
		t.Fatalf("late completion changed the result to %d", v)
	}
}

// pollThrough is an Awaitable of one's own that polls a future through its
// Poll method and records what each Poll returned.
type pollThrough struct {
	f     *aio.Future[int]
	polls []string
}

func (p *pollThrough) Poll(w *aio.Waiter) (int, bool, error) {
	v, ok, err := p.f.Poll(w)
	p.polls = append(p.polls, fmt.Sprint(v, ok, err))
	return v, ok, err
}

// A future is an Awaitable: Poll of a pending future reports not ready and
// adds the waiter to the future's waiters (so the waiting task is woken when
// the future completes: Await would refuse a Poll that added it nowhere),
// and Poll of a done future reports its outcome.
func TestFutureAwaitableInterface(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	p := &pollThrough{f: f}
	var waiters int
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return aio.Await[int](c, p) })
	iterate(t, l, nil) // the task polls f and waits
	iterate(t, l, func() {
		waiters = f.WaitersForTest()
		f.SetResult(7)
	})
	l.RunUntil(task.IsDone)
	if waiters != 1 {
		t.Errorf("Poll of a pending future left %d waiters on it, want 1", waiters)
	}
	if v, err := task.Result(); v != 7 || err != nil {
		t.Errorf("Await through Poll = %v, %v; want 7, nil", v, err)
	}
	if want := []string{"0 false <nil>", "7 true <nil>"}; fmt.Sprint(p.polls) != fmt.Sprint(want) {
		t.Errorf("Poll returned %q, want %q", p.polls, want)
	}
	// A done future's Poll reports the outcome at once.
	q := &pollThrough{f: f}
	runTask(t, l, func(c *aio.Ctx) (int, error) { return aio.Await[int](c, q) })
	if fmt.Sprint(q.polls) != "[7 true <nil>]" {
		t.Errorf("Poll of a done future returned %q, want one ready poll", q.polls)
	}
}
