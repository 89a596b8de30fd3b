package aio_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// Tests of the guarantees the core keeps under stress: order across the
// door with several producers, overload, shutdown and unwinding, failures
// nobody retrieved, fd reuse. Each defect of "The core under stress" has a
// deterministic test here that failed before its fix; the stress tests are
// bounded in time and run under -race.

// holdProducer claims a slot of l's door and leaves it unpublished, as a
// producer descheduled in the middle of a submission does, until the test
// ends (or release is called).
func holdProducer(t testing.TB, l *aio.Loop) (release func()) {
	once := sync.OnceFunc(l.HoldDoorSlotForTest())
	t.Cleanup(once)
	return once
}

// ---------------------------------------------------------------------------
// 1. Order across the door

// A call made on another goroutine that returns before a call on the loop
// begins runs first, even while a third producer is paused between claiming
// its slot in the door and publishing it: for CallSoon, for CallAt with
// equal deadlines, and for Spawn. The loop does not wait for the paused
// producer meanwhile.
func TestOrderAcrossDoorWithPausedProducer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sched func(l *aio.Loop, at time.Time, log func())
	}{
		{"CallSoon", func(l *aio.Loop, _ time.Time, log func()) { l.CallSoon(log) }},
		{"CallAt", func(l *aio.Loop, at time.Time, log func()) { l.CallAt(at, log) }},
		{"Spawn", func(l *aio.Loop, _ time.Time, log func()) {
			aio.Spawn(l, func(*aio.Ctx) (int, error) { log(); return 0, nil })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			var order []string
			l.CallSoon(func() {
				holdProducer(t, l) // paused for the whole test
				at := l.Now().Add(time.Millisecond)
				offLoopDo(func() { tc.sched(l, at, func() { order = append(order, "other goroutine") }) })
				tc.sched(l, at, func() { order = append(order, "loop") })
			})
			runUntil(t, l, func() bool { return len(order) == 2 })
			if order[0] != "other goroutine" {
				t.Fatalf("ran in order %q, want the order of the calls", order)
			}
		})
	}
}

// The loop's own work, sent through the door behind a paused producer's
// slot, still runs: a callback chain on the loop keeps going, and timers
// fire, while the producer stays paused.
func TestPausedProducerDoesNotStallLoop(t *testing.T) {
	l := newLoop(t)
	release := holdProducer(t, l)
	links, fired := 0, false
	var chain func()
	chain = func() {
		if links++; links < 1000 {
			l.CallSoon(chain)
		}
	}
	l.CallSoon(chain)
	l.CallLater(time.Millisecond, func() { fired = true })
	runUntil(t, l, func() bool { return links == 1000 && fired })
	release()
}

// The same order under load: goroutine W calls CallSoon(A_i), then publishes
// i; a loop callback that sees i calls CallSoon(B_i), and B_i checks that
// A_i ran. Other goroutines submit at the same time, at GOMAXPROCS 1, 2
// and 8. Bounded by a fixed number of rounds.
func TestOrderAcrossDoorStress(t *testing.T) {
	rounds := 20000
	if testing.Short() || raceEnabled {
		rounds = 3000
	}
	for _, procs := range []int{1, 2, 8} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			l := newLoop(t)
			var published atomic.Int64
			ran := make([]bool, rounds+1)
			var bad []int
			checked := 0
			seen := int64(0)
			var poll func()
			poll = func() {
				for i := seen + 1; i <= published.Load(); i++ {
					l.CallSoon(func() {
						if !ran[i] {
							bad = append(bad, int(i))
						}
						checked++
					})
					seen = i
				}
				if checked < rounds {
					l.CallSoon(poll)
				}
			}
			l.CallSoon(poll)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
							l.CallSoon(func() {})
						}
					}
				})
			}
			wg.Go(func() {
				for i := 1; i <= rounds; i++ {
					l.CallSoon(func() { ran[i] = true })
					published.Store(int64(i))
				}
			})
			runUntil(t, l, func() bool { return checked == rounds })
			close(stop)
			wg.Wait()
			if len(bad) > 0 {
				t.Fatalf("%d of %d loop calls ran before a call that happened before them (first: round %d)", len(bad), rounds, bad[0])
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 2. Overload

// floodDoor sends n callbacks through l's door from another goroutine, each
// counting in *ran, and returns once they are all in the door.
func floodDoor(l *aio.Loop, n int, ran *int) {
	offLoopDo(func() {
		for range n {
			l.CallSoon(func() { *ran++ })
		}
	})
}

// A timer scheduled on the loop while the door holds a flood fires at its
// time, not after the flood: the loop takes at most MaxDrain items from the
// door per iteration, and scheduling takes none.
func TestTimerOnTimeUnderFlood(t *testing.T) {
	l := newLoop(t)
	const flood = 50 * aio.MaxDrain
	ran := 0
	floodDoor(l, flood, &ran)
	firedAfter := -1
	l.CallSoon(func() {
		// This callback was sent after the flood: it runs after it. The
		// timer it schedules must not wait for anything in the door.
		l.CallLater(0, func() { firedAfter = ran })
	})
	floodDoor(l, flood, &ran) // more behind it
	runUntil(t, l, func() bool { return firedAfter >= 0 })
	if firedAfter > flood+2*aio.MaxDrain {
		t.Fatalf("the timer fired after %d flood callbacks; it was due after %d", firedAfter, flood)
	}
	if _, err := l.CallSoon(func() {}); err != nil {
		t.Fatal(err)
	}
}

// A Stop from another goroutine ends the run at the next iteration, however
// much the door holds; what is left waits in the door for the next run.
func TestStopUnderFlood(t *testing.T) {
	l := newLoop(t)
	const flood = 50 * aio.MaxDrain
	ran := 0
	floodDoor(l, flood, &ran)
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	runForever(t, l)
	if ran > aio.MaxDrain {
		t.Fatalf("the stopped run ran %d flooding callbacks; at most one iteration's %d", ran, aio.MaxDrain)
	}
	runUntil(t, l, func() bool { return ran == flood })
}

// After a burst the ready ring, the timer heap's array and the record pool
// shrink back once the loop has gone idle; the steady state keeps its room.
func TestMemoryGivenBackAfterBurst(t *testing.T) {
	defer aio.SetTrimIntervalForTest(0)()
	l := newLoop(t)
	burst := 1 << 20
	if raceEnabled || slowIdentity {
		burst = 1 << 16
	}
	n, fired := 0, 0
	l.CallSoon(func() {
		for range burst {
			l.CallSoon(func() { n++ })
		}
		for i := range burst {
			l.CallLater(time.Duration(i%1000)*time.Microsecond, func() { fired++ })
		}
	})
	runUntil(t, l, func() bool { return n == burst && fired == burst })
	if c := l.ReadyCapForTest(); c < burst {
		t.Fatalf("ready ring capacity %d during the burst", c)
	}
	// Going idle: the loop trims by itself (here with no wait between
	// trims). A slow tick lets the condition be looked at.
	var tick func()
	tick = func() { l.CallLater(time.Millisecond, tick) }
	l.CallSoon(tick)
	runUntil(t, l, func() bool { return !l.TrimmableForTest() })
	if c := l.ReadyCapForTest(); c > aio.RingFloor {
		t.Errorf("ready ring capacity %d after going idle, want at most %d", c, aio.RingFloor)
	}
	if c := l.TimerHeapCapForTest(); c > 1024 {
		t.Errorf("timer heap capacity %d after going idle, want at most 1024", c)
	}
	if p := l.PooledForTest(); p > aio.MaxPooled+1 { // +1: the idle timer's record, back after the trim
		t.Errorf("record pool %d after going idle, want at most %d", p, aio.MaxPooled+1)
	}
}

// The trim looks at the interval's high-water mark: bursts that come back
// within the interval keep the room they need.
func TestMemoryKeptWhileBurstsRepeat(t *testing.T) {
	defer aio.SetTrimIntervalForTest(time.Hour)()
	l := newLoop(t)
	const burst = 1 << 15
	for round := range 3 {
		n := 0
		l.CallSoon(func() {
			for range burst {
				l.CallSoon(func() { n++ })
			}
		})
		runUntil(t, l, func() bool { return n == burst })
		idle := false
		l.CallLater(time.Millisecond, func() { idle = true })
		runUntil(t, l, func() bool { return idle })
		if c := l.ReadyCapForTest(); c < burst {
			t.Fatalf("round %d: the ring was cut to %d between bursts of %d", round, c, burst)
		}
	}
}

// Two producers flood the door while a loop-side CallLater chain runs and
// a goroutine stops the loop: the chain completes while the flood goes on,
// and the Stop takes effect. Bounded by the test helpers' liveness limit.
func TestFloodStress(t *testing.T) {
	l := newLoop(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					l.CallSoon(func() {})
				}
			}
		})
	}
	links := 0
	var lateMax time.Duration
	var link func()
	link = func() {
		due := l.Now().Add(time.Millisecond)
		l.CallAt(due, func() {
			lateMax = max(lateMax, l.Now().Sub(due))
			if links++; links < 50 {
				link()
			}
		})
	}
	l.CallSoon(link)
	runUntil(t, l, func() bool { return links == 50 })
	wait := startRun(t, l, l.RunForever)
	time.Sleep(10 * time.Millisecond)
	l.Stop()
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	t.Logf("50 timers under a flood of 2 producers: latest %v late", lateMax)
}

// ---------------------------------------------------------------------------
// 3 and 4. Shutdown

// A task cancelled by Shutdown that spawns another task in its cleanup: the
// new task is cancelled as it starts (it never runs), and Shutdown returns.
func TestShutdownCancelsTasksSpawnedDuringIt(t *testing.T) {
	l := newLoop(t)
	var spawned *aio.Task[int]
	ran := false
	aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		err := aio.Sleep(c, time.Hour)
		spawned, _ = aio.Spawn(l, func(c *aio.Ctx) (int, error) { ran = true; return 0, aio.Sleep(c, time.Hour) })
		return 0, err
	})
	iterate(t, l, nil)
	errc := make(chan error, 1)
	go func() { errc <- l.Shutdown(context.Background()) }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		l.Stop()
		<-errc
		t.Fatal("Shutdown did not return: it waited for a task spawned during it")
	}
	if ran || !spawned.Canceled() || !errors.Is(spawned.Err(), aio.ErrShutdown) {
		t.Fatalf("the task spawned during Shutdown: ran=%v err=%v", ran, spawned.Err())
	}
}

// A Stop that ends Shutdown's run early makes Shutdown say so: an error
// matching ErrStopped with the number of tasks still running, not nil.
func TestShutdownStoppedEarlyReportsIt(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	cleaned := 0
	for i := range 5 {
		aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			err := aio.Sleep(c, time.Hour)
			if i == 0 {
				offLoopDo(func() { l.Stop() }) // lands during the cleanup
			}
			aio.Await(c, f) // a cleanup that takes a while
			cleaned++
			return 0, err
		})
	}
	iterate(t, l, nil)
	err := l.Shutdown(context.Background())
	if !errors.Is(err, aio.ErrStopped) || !strings.Contains(err.Error(), "5 tasks") {
		t.Fatalf("Shutdown stopped with 5 tasks alive = %v, want ErrStopped naming 5 tasks", err)
	}
	// The tasks are intact: finishing the job finishes them.
	l.CallSoon(func() { f.SetResult(0) })
	if err := l.Shutdown(context.Background()); err != nil || cleaned != 5 {
		t.Fatalf("the second Shutdown = %v with %d of 5 cleanups", err, cleaned)
	}
}

// Shutdown waits no longer than its context: a task that ignores its
// cancellation is reported, and Shutdown returns an error wrapping the
// context's cause; Close then unwinds the task.
func TestShutdownDeadline(t *testing.T) {
	l := newLoop(t)
	rep := record(l)
	stubborn, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		for {
			if err := aio.Sleep(c, time.Millisecond); errors.Is(err, aio.ErrClosed) {
				return 0, err
			}
		}
	})
	iterate(t, l, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := l.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 tasks") {
		t.Fatalf("Shutdown past its deadline = %v", err)
	}
	reps := rep.all()
	if len(reps) != 1 || reps[0].Task == nil || reps[0].Task.ID() != stubborn.ID() {
		t.Fatalf("reports %+v, want one naming the stubborn task", reps)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(stubborn.Err(), aio.ErrClosed) {
		t.Fatalf("after Close the stubborn task ended with %v", stubborn.Err())
	}
}

// Run returns once the shutdown's time is up, reporting the task that
// would not finish.
func TestRunShutdownTimeout(t *testing.T) {
	var reports []aio.ErrorContext
	v, err := aio.Run(func(c *aio.Ctx) (int, error) {
		aio.Spawn(c.Loop(), func(c *aio.Ctx) (int, error) {
			for {
				if err := aio.Sleep(c, time.Millisecond); errors.Is(err, aio.ErrClosed) {
					return 0, err
				}
			}
		})
		return 7, aio.Yield(c)
	}, aio.WithShutdownTimeout(20*time.Millisecond), aio.WithErrorHandler(func(_ *aio.Loop, ctx aio.ErrorContext) {
		reports = append(reports, ctx)
	}))
	if v != 7 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %d, %v; want 7 and an error matching DeadlineExceeded", v, err)
	}
	if len(reports) != 1 || !strings.Contains(reports[0].Message, "still running") {
		t.Fatalf("reports %+v", reports)
	}
}

// ---------------------------------------------------------------------------
// 5. Close and Wait from a body being unwound

// A body that Close is unwinding and that calls Close, or Wait on a future,
// gets an error at once, as it would during a run, instead of deadlocking.
func TestCloseAndWaitFromUnwindingBody(t *testing.T) {
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	f := aio.NewFuture[int](l)
	var closeErr, waitErr error
	aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		_, err := aio.Await(c, f)
		closeErr = l.Close()
		_, waitErr = f.Wait(context.Background())
		return 0, err
	})
	iterate(t, l, nil)
	done := make(chan error, 1)
	go func() { done <- l.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close deadlocked on a body that called Close or Wait while being unwound")
	}
	if !errors.Is(closeErr, aio.ErrRunning) || !errors.Is(waitErr, aio.ErrOnLoop) {
		t.Fatalf("from the unwinding body: Close = %v (want ErrRunning), Wait = %v (want ErrOnLoop)", closeErr, waitErr)
	}
}

// ---------------------------------------------------------------------------
// 6. Failures nobody retrieved

// GatherAll over 1000 failing tasks retrieves every error: nothing is
// reported, at the end of the run or at shutdown.
func TestNoFalseUnretrievedReports(t *testing.T) {
	l := newLoop(t)
	rep := record(l)
	boom := errors.New("boom")
	var errs []error
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		var tasks []*aio.Task[int]
		for range 1000 {
			task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, boom })
			tasks = append(tasks, task)
		}
		aio.Yield(c) // they all fail before anyone reads them
		aio.Yield(c)
		_, errs, _ = aio.GatherAll(c, tasks...)
		return 0, nil
	})
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := rep.all(); len(r) != 0 || len(errs) != 1000 {
		t.Fatalf("%d reports for %d retrieved errors, want none", len(r), len(errs))
	}
}

// A failed task that nobody holds and nobody read is reported once the
// garbage collector has found it unreachable, before shutdown; one that is
// still held and unread is reported at shutdown; each once.
func TestUnretrievedReportedWhenCollected(t *testing.T) {
	l := newLoop(t)
	rep := record(l)
	held, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, errors.New("held") })
	func() {
		aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, errors.New("dropped") })
	}()
	iterate(t, l, nil)
	deadline := time.Now().Add(5 * time.Second)
	for len(rep.all()) == 0 && time.Now().Before(deadline) {
		runtime.GC()
		iterate(t, l, nil) // takes the report the cleanup posted
	}
	r := rep.all()
	if len(r) != 1 || r[0].Err.Error() != "dropped" || !strings.Contains(r[0].Message, "garbage collected") {
		t.Fatalf("reports before shutdown %+v, want the dropped task's", r)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = rep.all()
	if len(r) != 2 || r[1].Err.Error() != "held" || r[1].Task.ID() != held.ID() {
		t.Fatalf("reports after shutdown %+v, want the held task's added", r)
	}
	runtime.KeepAlive(held)
}

// ---------------------------------------------------------------------------
// 7. Wait on a loop goroutine of another loop

// Wait from a task, a callback or the run of one loop, on a future of
// another loop, is refused with ErrOnLoop: it would block the first loop
// (and two loops waiting on each other would deadlock).
func TestWaitRefusedOnAnyLoop(t *testing.T) {
	a, b := newLoop(t), newLoop(t)
	f := aio.NewFuture[int](b)
	var fromTask, fromCallback error
	task := runTask(t, a, func(c *aio.Ctx) (int, error) {
		_, fromTask = f.Wait(context.Background())
		return 0, nil
	})
	iterate(t, a, func() { _, fromCallback = f.Wait(context.Background()) })
	if task.Err() != nil || !errors.Is(fromTask, aio.ErrOnLoop) || !errors.Is(fromCallback, aio.ErrOnLoop) {
		t.Fatalf("Wait on another loop's future: from a task %v, from a callback %v; want ErrOnLoop", fromTask, fromCallback)
	}
}

// ---------------------------------------------------------------------------
// 8. Gather

// Gather returns the error of the first awaitable to fail in time, not in
// argument order; a sibling that fails after Gather returned is not
// reported as never retrieved (Gather retrieves what it was given).
func TestGatherFirstFailureInTime(t *testing.T) {
	l := newLoop(t)
	rep := record(l)
	e0, e1 := errors.New("f0"), errors.New("f1")
	var got error
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		f0, f1 := aio.NewFuture[int](l), aio.NewFuture[int](l)
		l.CallSoon(func() { f1.SetError(e1); f0.SetError(e0) })
		_, got = aio.Gather(c, f0, f1)
		return 0, nil
	})
	if got != e1 {
		t.Fatalf("futures failing f1 then f0: Gather = %v, want f1's error", got)
	}
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		t0, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { aio.Yield(c); aio.Yield(c); return 0, e0 })
		t1, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { aio.Yield(c); return 0, e1 })
		t2, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { aio.Sleep(c, time.Millisecond); return 0, errors.New("late") })
		_, got = aio.Gather(c, t0, t1, t2)
		return 0, nil
	})
	if got != e1 {
		t.Fatalf("task t1 failing before t0: Gather = %v, want t1's error", got)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := rep.all(); len(r) != 0 {
		t.Fatalf("reports %+v: the failures after Gather returned are Gather's", r)
	}
}

// ---------------------------------------------------------------------------
// 10. Reports run as callbacks of their own

// The report of a future completed twice from another goroutine runs as a
// callback of its own, never inside a user's call on the loop (here a
// CallSoon that comes after the second completion reached the door).
func TestReportsRunAsOwnCallbacks(t *testing.T) {
	l := newLoop(t)
	inCall := false
	var reportedInCall []bool
	l.SetErrorHandler(func(_ *aio.Loop, ctx aio.ErrorContext) { reportedInCall = append(reportedInCall, inCall) })
	f := aio.NewFuture[int](l)
	iterate(t, l, func() {
		f.SetResult(1)
		offLoopDo(func() { f.SetResult(2) }) // in the door now
		inCall = true
		l.CallSoon(func() {})
		aio.Spawn(l, func(*aio.Ctx) (int, error) { return 0, nil })
		inCall = false
	})
	iterate(t, l, nil)
	iterate(t, l, nil)
	if len(reportedInCall) != 1 || reportedInCall[0] {
		t.Fatalf("reports (true: inside the user's call) %v, want one, outside", reportedInCall)
	}
}

// ---------------------------------------------------------------------------
// 11 and 12. File descriptors

// An fd closed while watched, whose number a new file then gets: AddReader
// for the new file registers it (it fires) instead of finding the old
// watch, and the stale watch is reported once.
func TestAddReaderAfterFDReuse(t *testing.T) {
	l := newLoop(t)
	rep := record(l)
	r1, _ := pipe(t)
	oldFired, newFired := 0, 0
	iterate(t, l, func() {
		if err := l.AddReader(r1, func() { oldFired++ }); err != nil {
			t.Fatal(err)
		}
	})
	syscall.Close(r1) // no RemoveReader; pipe's cleanup closes it again harmlessly only if reused
	r2, w2 := pipe(t)
	if r2 != r1 {
		t.Skipf("the new pipe got fd %d, not the freed %d", r2, r1)
	}
	iterate(t, l, func() {
		if err := l.AddReader(r2, func() {
			newFired++
			var b [1]byte
			readFD(r2, b[:])
		}); err != nil {
			t.Errorf("AddReader of the reused fd: %v", err)
		}
	})
	writeFD(w2, []byte{1})
	runUntil(t, l, func() bool { return newFired > 0 })
	iterate(t, l, func() { l.RemoveReader(r2) })
	if oldFired != 0 {
		t.Fatalf("the old watch's callback ran %d times for the new file", oldFired)
	}
	if r := rep.all(); len(r) != 1 || !strings.Contains(r[0].Message, "closed while watched") {
		t.Fatalf("reports %+v, want one about the closed fd", r)
	}
}

// An fd closed while watched and then removed, whose registration a
// duplicate keeps alive in epoll: the loop does not spin on the events
// nobody watches; it purges them and reports it once.
func TestDupKeepsClosedFDRegistered(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the stale registration is epoll's")
	}
	l := newLoop(t)
	rep := record(l)
	r, w := pipe(t)
	dup, err := syscall.Dup(r)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(dup)
	iterate(t, l, func() { l.AddReader(r, func() {}) })
	writeFD(w, []byte{1}) // readable for ever: nobody reads
	iterate(t, l, func() {
		syscall.Close(r)
		if _, err := l.RemoveReader(r); err != nil {
			t.Errorf("RemoveReader of a closed fd: %v", err)
		}
	})
	// Park for 50 ms: count the iterations.
	iters := 0
	done := false
	l.CallLater(50*time.Millisecond, func() { done = true })
	runUntil(t, l, counted(&iters, func() bool { return done }))
	if iters > 10 {
		t.Fatalf("%d iterations in a 50 ms idle wait: the loop spun on a stale registration", iters)
	}
	if r := rep.all(); len(r) != 1 || !strings.Contains(r[0].Message, "duplicate") {
		t.Fatalf("reports %+v, want one about the stale registration", r)
	}
}

// Errors of AddReader name the method and the fd and keep the errno.
func TestAddReaderErrorsNameTheirOperation(t *testing.T) {
	l := newLoop(t)
	file, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var ownErr, fileErr, badErr error
	iterate(t, l, func() {
		ownErr = l.AddReader(l.PollerFDForTest(), func() {})
		fileErr = l.AddWriter(int(file.Fd()), func() {})
		badErr = l.AddReader(1<<20, func() {})
	})
	for _, tc := range []struct {
		err   error
		errno syscall.Errno
		words []string
	}{
		{ownErr, syscall.EINVAL, []string{"AddReader(fd", "poller's own"}},
		{fileErr, syscall.EPERM, []string{"AddWriter(fd", "regular file"}},
		{badErr, syscall.EBADF, []string{"AddReader(fd 1048576)", "not an open file descriptor"}},
	} {
		if !errors.Is(tc.err, tc.errno) {
			t.Errorf("%v: does not match %v", tc.err, tc.errno)
		}
		for _, w := range tc.words {
			if tc.err == nil || !strings.Contains(tc.err.Error(), w) {
				t.Errorf("%v: does not say %q", tc.err, w)
			}
		}
	}
}

// CallAt of the zero Time (the far past) from another goroutine is a timer
// like any other, ordered with the loop's own: it used to collide with the
// value that marks a CallSoon and jump the timers.
func TestCallAtZeroTimeAcrossDoor(t *testing.T) {
	l := newLoop(t)
	var log []int
	var h aio.Handle
	l.CallSoon(func() {
		offLoopDo(func() { h, _ = l.CallAt(time.Time{}, func() { log = append(log, 1) }) })
		l.CallAt(time.Time{}, func() { log = append(log, 2) })
		offLoopDo(func() { l.CallAt(time.Time{}, func() { log = append(log, 3) }) })
	})
	runUntil(t, l, func() bool { return len(log) == 3 })
	if !slices.Equal(log, []int{1, 2, 3}) || h.When().IsZero() {
		t.Fatalf("timers ran in order %v (Handle.When %v), want [1 2 3]", log, h.When())
	}
}
