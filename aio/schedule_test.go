package aio_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// ---------------------------------------------------------------------------
// Misuse

// CallSoon, CallLater and CallAt with a nil function return ErrNilFunc and
// the zero Handle, off the loop and on it, and queue nothing.
func TestScheduleNilFunc(t *testing.T) {
	l := newLoop(t)
	check := func(where string) []error {
		var errs []error
		for name, call := range map[string]func() (aio.Handle, error){
			"CallSoon":  func() (aio.Handle, error) { return l.CallSoon(nil) },
			"CallLater": func() (aio.Handle, error) { return l.CallLater(time.Millisecond, nil) },
			"CallAt":    func() (aio.Handle, error) { return l.CallAt(l.Now(), nil) },
		} {
			h, err := call()
			if !errors.Is(err, aio.ErrNilFunc) {
				errs = append(errs, fmt.Errorf("%s(nil) %s: %v, want ErrNilFunc", name, where, err))
			}
			if h != (aio.Handle{}) {
				errs = append(errs, fmt.Errorf("%s(nil) %s returned a non-zero Handle", name, where))
			}
		}
		return errs
	}
	errs := check("off the loop")
	done := false
	l.CallSoon(func() { errs = append(errs, check("on the loop")...); done = true })
	runUntil(t, l, func() bool { return done })
	for _, err := range errs {
		t.Error(err)
	}
	if n := l.TimersForTest() + l.ReadyLenForTest(); n != 0 {
		t.Errorf("%d records queued after nil-function calls", n)
	}
}

// After Close, CallSoon, CallLater and CallAt fail with ErrClosed and return
// the zero Handle, on the goroutine that ran and closed the loop and on
// another; cancelling a timer that Close dropped does nothing, and its
// Handle keeps its deadline.
func TestScheduleOnClosedLoop(t *testing.T) {
	l := newLoop(t)
	schedule := func() []error {
		var errs []error
		for name, call := range map[string]func() (aio.Handle, error){
			"CallSoon":  func() (aio.Handle, error) { return l.CallSoon(func() {}) },
			"CallLater": func() (aio.Handle, error) { return l.CallLater(time.Millisecond, func() {}) },
			"CallAt":    func() (aio.Handle, error) { return l.CallAt(l.Now(), func() {}) },
		} {
			h, err := call()
			if !errors.Is(err, aio.ErrClosed) {
				errs = append(errs, fmt.Errorf("%s on a closed loop: %v, want ErrClosed", name, err))
			}
			if h != (aio.Handle{}) {
				errs = append(errs, fmt.Errorf("%s on a closed loop returned a non-zero Handle", name))
			}
		}
		return errs
	}
	var pending aio.Handle
	// The goroutine that ran the loop closes it and schedules again.
	err := goRun(t, l, func() error {
		ran := false
		l.CallSoon(func() { ran = true })
		pending, _ = l.CallLater(time.Hour, func() {})
		if err := l.RunUntil(func() bool { return ran }); err != nil {
			return err
		}
		if err := l.Close(); err != nil {
			return err
		}
		return errors.Join(schedule()...)
	})
	if err != nil {
		t.Error(err)
	}
	// Another goroutine.
	if err := errors.Join(offLoop(schedule)...); err != nil {
		t.Error(err)
	}
	pending.Cancel() // a no-op on a closed loop; must not panic or block
	if pending.When().IsZero() {
		t.Error("When of a timer dropped by Close is zero")
	}
}

// Scheduling from several goroutines while another closes the loop: every
// call returns nil or ErrClosed, none blocks or panics, and once Close has
// returned every call fails.
func TestScheduleConcurrentWithClose(t *testing.T) {
	l := newLoop(t)
	ran := false
	l.CallSoon(func() { ran = true })
	runUntil(t, l, func() bool { return ran })
	const producers = 4
	var wg sync.WaitGroup
	errc := make(chan error, producers)
	started := make(chan struct{}, producers)
	for range producers {
		wg.Go(func() {
			started <- struct{}{}
			for i := 0; ; i++ {
				var err error
				if i%2 == 0 {
					_, err = l.CallSoon(func() {})
				} else {
					_, err = l.CallLater(time.Millisecond, func() {})
				}
				if errors.Is(err, aio.ErrClosed) {
					return
				}
				if err != nil {
					errc <- err
					return
				}
			}
		})
	}
	for range producers {
		<-started
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	stopped := make(chan struct{})
	go func() { wg.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(runTimeout):
		t.Fatal("producers still scheduling successfully after Close")
	}
	close(errc)
	for err := range errc {
		t.Errorf("scheduling during Close: %v", err)
	}
}

// CallLater with a negative delay means now, on the loop (its When is the
// current time) and from another goroutine: both callbacks run.
func TestNegativeDelay(t *testing.T) {
	l := newLoop(t)
	var ran []string
	var errs []error
	l.CallSoon(func() {
		before := l.Now()
		h, err := l.CallLater(-time.Hour, func() { ran = append(ran, "loop") })
		after := l.Now()
		if err != nil {
			errs = append(errs, err)
		}
		if w := h.When(); w.Before(before) || w.After(after) {
			errs = append(errs, fmt.Errorf("CallLater(-1h).When() = %v, want between %v and %v (now)", w, before, after))
		}
		offLoopDo(func() {
			if _, err := l.CallLater(-time.Hour, func() { ran = append(ran, "door") }); err != nil {
				errs = append(errs, err)
			}
		})
	})
	runUntil(t, l, func() bool { return len(ran) == 2 })
	for _, err := range errs {
		t.Error(err)
	}
}

// CallAt of a time in the past means now, on the loop and from another
// goroutine: both callbacks run, and When returns the time given.
func TestCallAtPast(t *testing.T) {
	l := newLoop(t)
	var ran []string
	var whens []error
	l.CallSoon(func() {
		past := l.Now().Add(-time.Hour)
		h, _ := l.CallAt(past, func() { ran = append(ran, "loop") })
		if !h.When().Equal(past) {
			whens = append(whens, fmt.Errorf("When() = %v, want %v", h.When(), past))
		}
		offLoopDo(func() { l.CallAt(past, func() { ran = append(ran, "door") }) })
	})
	runUntil(t, l, func() bool { return len(ran) == 2 })
	for _, err := range whens {
		t.Error(err)
	}
}

// CallAt with the zero Time (long before the loop's clock began) means now,
// like any time in the past.
func TestCallAtZeroTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		onLop bool
	}{{"from the loop", true}, {"from another goroutine", false}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			ran := false
			schedule := func() {
				if _, err := l.CallAt(time.Time{}, func() { ran = true }); err != nil {
					t.Errorf("CallAt(zero time): %v", err)
				}
			}
			if tc.onLop {
				l.CallSoon(schedule)
			} else {
				schedule()
			}
			runUntil(t, l, func() bool { return ran })
		})
	}
}

// Cancelling the zero Handle does nothing and its When is the zero Time, off
// the loop and on it.
func TestZeroHandle(t *testing.T) {
	var h aio.Handle
	h.Cancel()
	if !h.When().IsZero() {
		t.Errorf("zero Handle: When() = %v, want the zero Time", h.When())
	}
	l := newLoop(t)
	done := false
	var whenOnLoop time.Time
	l.CallSoon(func() {
		h.Cancel()
		whenOnLoop = h.When()
		done = true
	})
	runUntil(t, l, func() bool { return done })
	if !whenOnLoop.IsZero() {
		t.Errorf("zero Handle on the loop: When() = %v", whenOnLoop)
	}
}

// ---------------------------------------------------------------------------
// Ordering

// CallSoon callbacks run in the order of the calls, whether all are made on
// the loop or all from another goroutine.
func TestCallSoonFIFO(t *testing.T) {
	const n = 300
	for _, tc := range []struct {
		name   string
		onLoop bool
	}{{"from the loop", true}, {"from another goroutine", false}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			var got []int
			schedule := func() {
				for i := range n {
					if _, err := l.CallSoon(func() { got = append(got, i) }); err != nil {
						t.Errorf("CallSoon: %v", err)
						return
					}
				}
			}
			if tc.onLoop {
				l.CallSoon(schedule)
			} else {
				schedule()
			}
			runUntil(t, l, func() bool { return len(got) == n })
			for i, v := range got {
				if v != i {
					t.Fatalf("callback %d ran at position %d; order %v", v, i, got)
				}
			}
		})
	}
}

// A callback scheduled by a running callback runs in the next iteration,
// after that iteration's poll.
//
// In iteration k, A schedules B and writes to a pipe watched by reader R.
// The guarantee is that B does not run in iteration k: it waits for
// iteration k+1, whose poll comes first and reports the pipe readable. The
// poll queues R behind B (B has been waiting in the ready queue since
// iteration k), so both run in iteration k+1, B first. That R runs in B's
// batch is what shows that the poll happened before B ran.
func TestCallSoonNextIteration(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	iter := 0
	type event struct {
		name string
		iter int
	}
	var log []event
	rec := func(name string) { log = append(log, event{name, iter}) }
	l.CallSoon(func() {
		l.AddReader(r, func() {
			rec("R")
			var b [8]byte
			readFD(r, b[:])
			l.RemoveReader(r)
		})
		// One iteration later, so that nothing is pending for the pipe.
		l.CallSoon(func() {
			rec("A")
			l.CallSoon(func() { rec("B") })
			writeFD(w, []byte("x"))
		})
	})
	runUntil(t, l, counted(&iter, func() bool { return len(log) == 3 }))
	want := fmt.Sprint([]event{{"A", 2}, {"B", 3}, {"R", 3}})
	if got := fmt.Sprint(log); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// A callback that another goroutine submits while a batch runs waits for
// the next iteration too.
func TestDoorCallbackDuringBatchWaits(t *testing.T) {
	l := newLoop(t)
	iter := 0
	var log []string
	var iters []int
	rec := func(s string) func() {
		return func() { log = append(log, s); iters = append(iters, iter) }
	}
	l.CallSoon(func() {
		l.CallSoon(func() {
			rec("A")()
			offLoopDo(func() { l.CallSoon(rec("D")) }) // in the door before C runs
		})
		l.CallSoon(rec("C"))
	})
	runUntil(t, l, counted(&iter, func() bool { return len(log) == 3 }))
	if fmt.Sprint(log) != "[A C D]" || iters[0] != iters[1] || iters[2] != iters[1]+1 {
		t.Fatalf("ran %v in iterations %v; want [A C D], A and C in one iteration, D in the next", log, iters)
	}
}

// ---------------------------------------------------------------------------
// Cancellation

// A callback cancelled before it runs never runs, whoever schedules and
// whoever cancels it, and a cancelled timer leaves nothing in the heap.
func TestCancelBeforeRun(t *testing.T) {
	soon := func(l *aio.Loop, fn func()) aio.Handle { h, _ := l.CallSoon(fn); return h }
	later := func(d time.Duration) func(l *aio.Loop, fn func()) aio.Handle {
		return func(l *aio.Loop, fn func()) aio.Handle { h, _ := l.CallLater(d, fn); return h }
	}
	viaDoor := func(sched func(*aio.Loop, func()) aio.Handle) func(l *aio.Loop, fn func()) aio.Handle {
		return func(l *aio.Loop, fn func()) aio.Handle {
			return offLoop(func() aio.Handle { return sched(l, fn) })
		}
	}
	cancelHere := func(h aio.Handle) { h.Cancel() }
	cancelFromGoroutine := func(h aio.Handle) { offLoopDo(h.Cancel) }
	type kind struct {
		name  string
		sched func(*aio.Loop, func()) aio.Handle
	}
	kinds := []kind{{"soon", soon}, {"later 0", later(0)}, {"later 1ms", later(time.Millisecond)}, {"later 1h", later(time.Hour)}}
	type tcase struct {
		name   string
		before bool // schedule and cancel on the test goroutine before the run
		sched  func(*aio.Loop, func()) aio.Handle
		cancel func(aio.Handle)
	}
	var cases []tcase
	for _, k := range kinds {
		cases = append(cases,
			tcase{k.name + "/loop schedules, loop cancels", false, k.sched, cancelHere},
			tcase{k.name + "/loop schedules, another goroutine cancels", false, k.sched, cancelFromGoroutine},
			tcase{k.name + "/another goroutine schedules, loop cancels while in the door", false, viaDoor(k.sched), cancelHere},
			tcase{k.name + "/another goroutine schedules and cancels while running", false, viaDoor(k.sched), cancelFromGoroutine},
			tcase{k.name + "/scheduled and cancelled before the run", true, k.sched, cancelHere},
		)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			badRan := 0
			bad := func() { badRan++ }
			var h aio.Handle
			var pendingAfter int
			done := false
			if tc.before {
				h = tc.sched(l, bad)
				tc.cancel(h)
			}
			l.CallSoon(func() {
				if !tc.before {
					h = tc.sched(l, bad)
					tc.cancel(h)
				}
				// Long enough after bad's deadline that bad would have run.
				l.CallLater(3*time.Millisecond, func() {
					pendingAfter = l.TimersForTest()
					done = true
				})
			})
			runUntil(t, l, func() bool { return done })
			if badRan != 0 {
				t.Errorf("the cancelled callback ran %d times", badRan)
			}
			if pendingAfter != 0 {
				t.Errorf("%d timers left in the heap", pendingAfter)
			}
		})
	}
}

// A cancelled timer leaves the heap at once; a due timer cancelled by a
// callback of its own batch does not run.
func TestCancelTimerInHeapAndInBatch(t *testing.T) {
	l := newLoop(t)
	var log []string
	var heapAfterCancel int
	done := false
	l.CallSoon(func() {
		h, _ := l.CallLater(time.Hour, func() { log = append(log, "never") })
		h.Cancel()
		h.Cancel() // twice: a no-op
		heapAfterCancel = l.TimersForTest()

		at := l.Now().Add(time.Millisecond)
		var hB aio.Handle
		l.CallAt(at, func() { log = append(log, "A"); hB.Cancel() })
		hB, _ = l.CallAt(at, func() { log = append(log, "B") })
		l.CallAt(at, func() { log = append(log, "C") })
		l.CallAt(at.Add(time.Millisecond), func() { done = true })
	})
	runUntil(t, l, func() bool { return done })
	if heapAfterCancel != 0 {
		t.Errorf("%d timers in the heap after cancelling the only one", heapAfterCancel)
	}
	if fmt.Sprint(log) != "[A C]" {
		t.Errorf("ran %v, want [A C]", log)
	}
}

// Cancelling a callback that has run does nothing, on the loop and from
// another goroutine.
func TestCancelAfterRun(t *testing.T) {
	l := newLoop(t)
	ran := map[string]int{}
	var results []string
	var hs, hl aio.Handle
	l.CallSoon(func() {
		hs, _ = l.CallSoon(func() { ran["soon"]++ })
		hl, _ = l.CallLater(0, func() { ran["later"]++ })
		l.CallLater(time.Millisecond, func() {
			hs.Cancel()
			hl.Cancel()
			offLoopDo(func() { hs.Cancel(); hl.Cancel() })
			l.CallSoon(func() { // after the door's cancels were received
				results = append(results, "done")
			})
		})
	})
	runUntil(t, l, func() bool { return len(results) > 0 && results[len(results)-1] == "done" })
	if ran["soon"] != 1 || ran["later"] != 1 {
		t.Errorf("ran %v, want each once", ran)
	}
	for _, s := range results[:len(results)-1] {
		t.Error(s)
	}
}

// A stale Handle, whose callback ran and whose record the loop reused for a
// new callback, must not cancel the new occupant.
func TestStaleHandle(t *testing.T) {
	const rounds = 200
	for _, tc := range []struct {
		name    string
		sched   func(l *aio.Loop, fn func()) (aio.Handle, error)
		offLoop bool // cancel the stale handle from another goroutine
	}{
		{"soon", func(l *aio.Loop, fn func()) (aio.Handle, error) { return l.CallSoon(fn) }, false},
		{"later", func(l *aio.Loop, fn func()) (aio.Handle, error) { return l.CallLater(0, fn) }, false},
		{"soon, cancelled from another goroutine", func(l *aio.Loop, fn func()) (aio.Handle, error) { return l.CallSoon(fn) }, true},
		{"later, cancelled from another goroutine", func(l *aio.Loop, fn func()) (aio.Handle, error) { return l.CallLater(0, fn) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			bRan, reused := 0, 0
			var errs []string
			var round func()
			round = func() {
				var hA aio.Handle
				hA, _ = tc.sched(l, func() {
					// A's record is back in the pool: B takes it.
					hB, _ := tc.sched(l, func() {
						bRan++
						if bRan < rounds {
							l.CallSoon(round)
						}
					})
					if aio.SameRecordForTest(hB, hA) {
						reused++
					}
					if tc.offLoop {
						offLoopDo(hA.Cancel)
					} else {
						hA.Cancel()
					}
				})
			}
			l.CallSoon(round)
			runUntil(t, l, func() bool { return bRan == rounds })
			for _, s := range errs {
				t.Error(s)
			}
			if reused == 0 {
				t.Error("the test never reused a record; it tests nothing")
			}
		})
	}
}

// A stale Handle that another goroutine got from CallSoon, cancelled after
// its call A ran, cancels neither of the calls that come next: B1, scheduled
// by A on the loop (which may take A's record), and B2, submitted next by the
// same goroutine (whose Handle names another door position). A waits until
// that cancel is in the door, so the loop receives it before B1 and B2 run,
// and the cancel takes the path of a call already drained.
func TestStaleHandleFromDoor(t *testing.T) {
	const rounds = 300
	l := newLoop(t)
	bRan, drained := 0, 0
	aRan := make(chan aio.Handle, 1) // B1's Handle
	staleSent := make(chan struct{})
	bDone := make(chan struct{}, 2)
	b := func() { bRan++; bDone <- struct{}{} }
	handleOfA := make(chan aio.Handle)
	wait := startRun(t, l, func() error { return l.RunUntil(func() bool { return bRan == 2*rounds }) })
	for range rounds {
		hA, err := l.CallSoon(func() {
			if l.DrainedForTest(<-handleOfA) {
				drained++
			}
			hB1, _ := l.CallSoon(b)
			aRan <- hB1
			<-staleSent
		})
		if err != nil {
			t.Fatal(err)
		}
		handleOfA <- hA
		select {
		case <-aRan:
		case <-time.After(runTimeout):
			t.Fatal("A did not run")
		}
		if _, err := l.CallSoon(b); err != nil { // B2
			t.Fatal(err)
		}
		hA.Cancel() // stale: must cancel neither B1 nor B2
		staleSent <- struct{}{}
		for range 2 {
			select {
			case <-bDone:
			case <-time.After(runTimeout):
				t.Fatal("B1 or B2 did not run: the stale Handle of A cancelled it")
			}
		}
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if drained != rounds {
		t.Errorf("A's call was drained when it ran in %d of %d rounds", drained, rounds)
	}
}

// ---------------------------------------------------------------------------
// Timers

// Timers fire in order of deadline, and in the order they were scheduled
// when deadlines are equal.
func TestTimerOrder(t *testing.T) {
	offsets := []int{3, 1, 2, 1, 0, 3, 2, 0, 1, 3, 0, 2}
	want := make([]int, len(offsets))
	for i := range want {
		want[i] = i
	}
	slices.SortStableFunc(want, func(a, b int) int { return offsets[a] - offsets[b] })
	for _, tc := range []struct {
		name   string
		onLoop bool
	}{{"from the loop", true}, {"from another goroutine", false}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			var got []int
			var early []string
			schedule := func() {
				base := l.Now()
				for i, off := range offsets {
					var h aio.Handle
					h, _ = l.CallAt(base.Add(time.Duration(off)*time.Millisecond), func() {
						got = append(got, i)
						if now := l.Now(); now.Before(h.When()) {
							early = append(early, fmt.Sprintf("timer %d ran at %v, before its deadline %v", i, now, h.When()))
						}
					})
				}
			}
			if tc.onLoop {
				l.CallSoon(schedule)
			} else {
				schedule()
			}
			runUntil(t, l, func() bool { return len(got) == len(offsets) })
			if !slices.Equal(got, want) {
				t.Errorf("fired %v, want %v", got, want)
			}
			for _, s := range early {
				t.Error(s)
			}
		})
	}
}

// A timer never fires before its deadline, on the loop's clock or on the
// wall clock.
func TestTimerNeverEarly(t *testing.T) {
	delays := []time.Duration{0, 50 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 1500 * time.Microsecond, 3 * time.Millisecond}
	l := newLoop(t)
	var errs []string
	fired := 0
	total := 0
	schedule := func(where string) {
		for _, d := range delays {
			start := time.Now()
			var h aio.Handle
			h, _ = l.CallLater(d, func() {
				fired++
				if now := l.Now(); now.Before(h.When()) {
					errs = append(errs, fmt.Sprintf("%s: timer of %v ran at %v, before its deadline %v", where, d, now, h.When()))
				}
				if el := time.Since(start); el < d {
					errs = append(errs, fmt.Sprintf("%s: timer of %v ran after %v", where, d, el))
				}
			})
		}
	}
	total = 3 * len(delays)
	schedule("before the run")
	l.CallSoon(func() {
		schedule("on the loop")
		offLoopDo(func() { schedule("another goroutine") })
	})
	runUntil(t, l, func() bool { return fired == total })
	for _, s := range errs {
		t.Error(s)
	}
}

// Handle.When is zero for a CallSoon, now plus the delay for a CallLater,
// and the time given for a CallAt, whether scheduled before the run, on the
// loop or from another goroutine.
func TestHandleWhen(t *testing.T) {
	l := newLoop(t)
	check := func(where string) []string {
		var errs []string
		h, _ := l.CallSoon(func() {})
		if !h.When().IsZero() {
			errs = append(errs, fmt.Sprintf("%s: CallSoon's When() = %v, want zero", where, h.When()))
		}
		for _, d := range []time.Duration{0, time.Millisecond, time.Hour} {
			before := l.Now()
			h, _ := l.CallLater(d, func() {})
			after := l.Now()
			if w := h.When(); w.Before(before.Add(d)) || w.After(after.Add(d)) {
				errs = append(errs, fmt.Sprintf("%s: CallLater(%v).When() = %v, want in [%v, %v]", where, d, w, before.Add(d), after.Add(d)))
			}
		}
		at := l.Now().Add(time.Minute)
		h, _ = l.CallAt(at, func() {})
		if !h.When().Equal(at) {
			errs = append(errs, fmt.Sprintf("%s: CallAt(t).When() = %v, want %v", where, h.When(), at))
		}
		return errs
	}
	errs := check("before the run")
	done := false
	l.CallSoon(func() {
		errs = append(errs, check("on the loop")...)
		errs = append(errs, offLoop(func() []string { return check("another goroutine") })...)
		done = true
	})
	runUntil(t, l, func() bool { return done })
	for _, s := range errs {
		t.Error(s)
	}
}

// A timer far in the future does not keep RunUntil from returning.
func TestFarTimerDoesNotBlockRunUntil(t *testing.T) {
	l := newLoop(t)
	far := false
	l.CallLater(time.Hour, func() { far = true })
	ok := false
	l.CallSoon(func() { l.CallLater(time.Hour, func() { far = true }); l.CallSoon(func() { ok = true }) })
	runUntil(t, l, func() bool { return ok })
	if far {
		t.Fatal("a timer of an hour fired")
	}
}

// Now never goes backwards and is never behind a time.Now read just before
// it, on the loop and on several goroutines at once.
func TestNowMonotonic(t *testing.T) {
	l := newLoop(t)
	sample := func() error {
		prev := l.Now()
		for range 2000 {
			before := time.Now()
			now := l.Now()
			if now.Before(prev) {
				return fmt.Errorf("Now() went back from %v to %v", prev, now)
			}
			if now.Before(before) {
				return fmt.Errorf("Now() = %v, before time.Now() taken just earlier, %v", now, before)
			}
			prev = now
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- sample() })
	}
	var onLoop error
	done := false
	l.CallSoon(func() { onLoop = sample(); done = true })
	runUntil(t, l, func() bool { return done })
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if onLoop != nil {
		t.Error(onLoop)
	}
}

// ---------------------------------------------------------------------------
// The door: submissions from other goroutines

// N goroutines each submit M callbacks, while the loop is busy (a callback
// reschedules itself every iteration) or parked (nothing else to do): every
// callback runs exactly once, and each goroutine's in the order submitted.
// While busy, the loop never parks, so the submissions make no wake-up
// system call at all.
func TestDoorSubmissions(t *testing.T) {
	const m = 300
	for _, producers := range []int{1, 2, 4, 8} {
		for _, busy := range []bool{false, true} {
			t.Run(fmt.Sprintf("producers=%d/busy=%v", producers, busy), func(t *testing.T) {
				l := newLoop(t)
				total := producers * m
				seen := make([][]int, producers)
				got := 0
				var spin func()
				spin = func() {
					if got < total {
						l.CallSoon(spin)
					}
				}
				start := make(chan struct{})
				l.CallSoon(func() {
					if busy {
						spin()
					}
					close(start)
				})
				wait := startRun(t, l, func() error { return l.RunUntil(func() bool { return got == total }) })
				<-start
				wakes := l.WakeSyscallsForTest()
				var wg sync.WaitGroup
				errs := make(chan error, producers)
				for p := range producers {
					wg.Go(func() {
						for i := range m {
							if _, err := l.CallSoon(func() { seen[p] = append(seen[p], i); got++ }); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				if err := wait(); err != nil {
					t.Fatal(err)
				}
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				for p, s := range seen {
					if len(s) != m {
						t.Errorf("producer %d: %d callbacks ran, want %d", p, len(s), m)
					}
					for i, v := range s {
						if v != i {
							t.Errorf("producer %d: callback %d ran at position %d", p, v, i)
							break
						}
					}
				}
				if n := l.WakeSyscallsForTest() - wakes; busy && n != 0 {
					t.Errorf("%d wake-up system calls while the loop was busy, want 0", n)
				}
			})
		}
	}
}

// Another goroutine wakes a parked loop: the loop blocks in the poller with
// nothing to do (or only a far timer), and a call from another goroutine
// makes it run.
func TestDoorWakesParkedLoop(t *testing.T) {
	for _, tc := range []struct {
		name string
		// prepare runs before the run; act wakes the loop from the test
		// goroutine; the run ends when done reports true.
		prepare func(l *aio.Loop)
		act     func(l *aio.Loop, flag *bool)
		forever bool
	}{
		{"CallSoon", nil, func(l *aio.Loop, flag *bool) { l.CallSoon(func() { *flag = true }) }, false},
		{"CallLater 0", nil, func(l *aio.Loop, flag *bool) { l.CallLater(0, func() { *flag = true }) }, false},
		{"CallLater 1ms", nil, func(l *aio.Loop, flag *bool) { l.CallLater(time.Millisecond, func() { *flag = true }) }, false},
		{"CallAt now", nil, func(l *aio.Loop, flag *bool) { l.CallAt(l.Now(), func() { *flag = true }) }, false},
		{"CallSoon with a far timer pending", func(l *aio.Loop) { l.CallLater(time.Hour, func() {}) },
			func(l *aio.Loop, flag *bool) { l.CallSoon(func() { *flag = true }) }, false},
		{"Stop", nil, func(l *aio.Loop, _ *bool) { l.Stop() }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			if tc.prepare != nil {
				tc.prepare(l)
			}
			flag := false
			wait := startRun(t, l, func() error {
				if tc.forever {
					return l.RunForever()
				}
				return l.RunUntil(func() bool { return flag })
			})
			deadline := time.Now().Add(runTimeout)
			for !l.ParkedForTest() {
				if time.Now().After(deadline) {
					l.Stop()
					wait()
					t.Fatal("the loop never parked")
				}
				time.Sleep(50 * time.Microsecond)
			}
			wakes := l.WakeSyscallsForTest()
			tc.act(l, &flag)
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			if l.WakeSyscallsForTest() == wakes {
				t.Error("the parked loop ran without a wake-up system call")
			}
		})
	}
}

// A cancel from another goroutine wakes a loop parked on a far timer.
func TestDoorCancelWakesParkedLoop(t *testing.T) {
	l := newLoop(t)
	fired := false
	h, _ := l.CallLater(time.Hour, func() { fired = true })
	// Run until the timer has reached the heap (it starts in the door) and
	// the cancellation has taken it out again.
	inHeap := false
	cancelled := func() bool {
		if l.TimersForTest() > 0 {
			inHeap = true
		}
		return inHeap && l.TimersForTest() == 0
	}
	wait := startRun(t, l, func() error { return l.RunUntil(cancelled) })
	deadline := time.Now().Add(runTimeout)
	for !l.ParkedForTest() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Microsecond)
	}
	h.Cancel()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if fired || l.TimersForTest() != 0 {
		t.Errorf("fired=%v, %d timers left; want a cancelled, removed timer", fired, l.TimersForTest())
	}
}

// The pool of callback records keeps what a burst gives back while the loop
// is busy (so the next burst allocates nothing), and is trimmed to
// MaxPooled when the loop goes idle (here with no wait between trims).
func TestPoolTrimmedWhenIdle(t *testing.T) {
	defer aio.SetTrimIntervalForTest(0)()
	l := newLoop(t)
	const burst = 3 * aio.MaxPooled
	n := 0
	l.CallSoon(func() {
		for range burst {
			l.CallSoon(func() { n++ })
		}
	})
	runUntil(t, l, func() bool { return n == burst })
	afterBurst := l.PooledForTest() // the loop is not running: safe to read
	// Idle: the loop parks between the ticks of a slow timer, and trims.
	ticks := 0
	var tick func()
	tick = func() { ticks++; l.CallLater(time.Millisecond, tick) }
	l.CallSoon(tick)
	runUntil(t, l, func() bool { return ticks > 2 && l.PooledForTest() <= aio.MaxPooled+1 || ticks > 1000 })
	afterIdle := l.PooledForTest()
	if afterBurst < burst {
		t.Errorf("after the burst the pool held %d records, want the %d the burst gave back", afterBurst, burst)
	}
	if afterIdle > aio.MaxPooled+1 { // +1: the tick's record, recycled after the trim
		t.Errorf("after going idle the pool held %d records, want at most %d", afterIdle, aio.MaxPooled+1)
	}
}

// Calls ordered by happens-before across goroutines run in that order: a
// call made on another goroutine, which returns before the loop's call
// begins, runs first, for CallSoon and for CallAt with equal deadlines
// ("in the order of the calls", as CallSoon and CallAt document).
func TestOrderAcrossDoor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sched func(l *aio.Loop, at time.Time, fn func())
	}{
		{"CallSoon", func(l *aio.Loop, _ time.Time, fn func()) { l.CallSoon(fn) }},
		{"CallAt with equal deadlines", func(l *aio.Loop, at time.Time, fn func()) { l.CallAt(at, fn) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			var log []string
			l.CallSoon(func() {
				at := l.Now().Add(time.Millisecond)
				offLoopDo(func() { tc.sched(l, at, func() { log = append(log, "first (other goroutine)") }) })
				tc.sched(l, at, func() { log = append(log, "second (loop)") })
			})
			runUntil(t, l, func() bool { return len(log) == 2 })
			if log[0] != "first (other goroutine)" {
				t.Errorf("ran in order %q, want the order of the calls", log)
			}
		})
	}
}

// A CallSoon from another goroutine sends no record; its Handle names the
// call by its door position. Cancelling it must work in each place the
// call can be: still in the door, drained into the ready queue, or run.
func TestCancelTicket(t *testing.T) {
	for _, tc := range []struct {
		name    string
		drained bool // cancel from a callback that runs after the call was drained
	}{
		{"in the door", false},
		{"drained into the ready queue", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			var log []string
			done := false
			var h aio.Handle
			cancel := func() {
				h.Cancel()
				h.Cancel() // twice: a no-op
				l.CallLater(time.Millisecond, func() { done = true })
			}
			l.CallSoon(func() {
				if tc.drained {
					// Queued before the calls below are sent, so it runs
					// in the batch that drains them, before them.
					l.CallSoon(func() {
						if !l.DrainedForTest(h) {
							t.Error("the call was not drained")
						}
						cancel()
					})
				}
				h = offLoop(func() aio.Handle {
					h, _ := l.CallSoon(func() { log = append(log, "cancelled call ran") })
					return h
				})
				offLoop(func() aio.Handle {
					h, _ := l.CallSoon(func() { log = append(log, "other") })
					return h
				})
				if !tc.drained {
					cancel()
				}
			})
			runUntil(t, l, func() bool { return done })
			if fmt.Sprint(log) != "[other]" {
				t.Errorf("ran %v, want [other]", log)
			}
			if l.DroppedForTest() != 0 {
				t.Errorf("%d cancelled door positions left over", l.DroppedForTest())
			}
		})
	}
	t.Run("after it ran", func(t *testing.T) {
		l := newLoop(t)
		ran := 0
		//lint:ignore S1021 h is read by the function that sets it
		var h aio.Handle
		h = offLoop(func() aio.Handle { h, _ := l.CallSoon(func() { ran++ }); return h })
		stage := 0
		l.CallSoon(func() {})
		runUntil(t, l, func() bool { return ran == 1 })
		// A later call takes the record the first one used; the stale
		// ticket must not cancel it.
		l.CallSoon(func() {
			l.CallSoon(func() { stage++ })
			h.Cancel()
		})
		runUntil(t, l, func() bool { return stage == 1 })
		if ran != 1 {
			t.Errorf("ran %d times", ran)
		}
	})
}
