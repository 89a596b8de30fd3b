package aio_test

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

	"github.com/aiogo/aio/aio"
)

// A task's Result is what its body returned, value and error alike; the
// finished task is done, not canceled, and its Done channel is closed.
func TestTaskResult(t *testing.T) {
	l := newLoop(t)
	boom := errors.New("boom")
	ok := runTask(t, l, func(c *aio.Ctx) (string, error) { return "fine", nil })
	if v, err := ok.Result(); v != "fine" || err != nil {
		t.Fatalf("Result = %q, %v", v, err)
	}
	if !ok.IsDone() || ok.Canceled() || !isClosed(ok.Done()) {
		t.Fatal("finished task: wrong state")
	}
	bad := runTask(t, l, func(c *aio.Ctx) (string, error) { return "partial", boom })
	if v, err := bad.Result(); v != "partial" || err != boom {
		t.Fatalf("Result = %q, %v; want the body's value and error", v, err)
	}
	if bad.Canceled() || bad.Err() != boom {
		t.Fatalf("Cancelled=%v Err=%v", bad.Canceled(), bad.Err())
	}
}

// A task that has not run yet is not done: Result returns ErrInvalidState
// and Done is open; Done closes once the task is done.
func TestTaskPendingResult(t *testing.T) {
	l := newLoop(t)
	task, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 1, nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Result(); !errors.Is(err, aio.ErrInvalidState) {
		t.Fatalf("Result of a pending task = %v, want ErrInvalidState", err)
	}
	if task.IsDone() || isClosed(task.Done()) {
		t.Fatal("pending task reports done")
	}
	l.RunUntil(task.IsDone)
	if !isClosed(task.Done()) {
		t.Fatal("Done channel not closed")
	}
}

// A task starts at the loop's next iteration, never during Spawn: spawned
// from another goroutine on an idle loop, from a callback, or from a task
// (the child runs once the parent suspends).
func TestTaskStartsAtNextIteration(t *testing.T) {
	l := newLoop(t)
	ran := 0
	body := func(c *aio.Ctx) (int, error) { ran++; return 0, nil }

	// From another goroutine, on an idle loop: nothing runs before the loop.
	task, err := aio.Spawn(l, body)
	if err != nil {
		t.Fatal(err)
	}
	if ran != 0 {
		t.Fatal("body ran during Spawn from another goroutine")
	}
	iterate(t, l, nil)
	if ran != 1 || !task.IsDone() {
		t.Fatalf("after one iteration: ran=%d done=%v", ran, task.IsDone())
	}

	// From a callback: not during Spawn, but at the next iteration.
	var task2 *aio.Task[int]
	iterate(t, l, func() {
		task2, _ = aio.Spawn(l, body)
		if ran != 1 {
			t.Error("body ran during Spawn from the loop")
		}
	})
	if ran != 1 || task2.IsDone() {
		t.Fatalf("body ran in the iteration that spawned it (ran=%d)", ran)
	}
	iterate(t, l, nil)
	if ran != 2 || !task2.IsDone() {
		t.Fatalf("body did not run at the next iteration (ran=%d)", ran)
	}

	// From a task: the child starts after the parent suspends.
	var order []string
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		child, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			order = append(order, "child")
			return 0, nil
		})
		if err != nil {
			return 0, err
		}
		order = append(order, "after spawn")
		_, err = aio.Await(c, child)
		order = append(order, "awaited")
		return 0, err
	})
	if got := strings.Join(order, ","); got != "after spawn,child,awaited" {
		t.Fatalf("order %s", got)
	}
}

// A task is named Task-N after its ID unless WithName names it; IDs are
// unique, String is name#ID, SetName renames (also concurrently with reads,
// without a race), and Ctx.Name, Ctx.String and Ctx.Task agree with the
// task.
func TestTaskNames(t *testing.T) {
	l := newLoop(t)
	var inName, inString string
	var inID uint64
	task := runTask(t, l, func(c *aio.Ctx) (int, error) {
		inName, inString, inID = c.Name(), c.String(), c.Task().ID()
		return 0, nil
	})
	want := fmt.Sprintf("Task-%d", task.ID())
	if task.Name() != want || inName != want {
		t.Fatalf("default name %q (inside %q), want %q", task.Name(), inName, want)
	}
	if inID != task.ID() {
		t.Fatalf("c.Task().ID() = %d, want %d", inID, task.ID())
	}
	if task.String() != fmt.Sprintf("%s#%d", want, task.ID()) || inString != task.String() {
		t.Fatalf("String = %q (inside %q)", task.String(), inString)
	}
	named := runTask(t, l, func(c *aio.Ctx) (int, error) { return 0, nil }, aio.WithName("worker"))
	if named.Name() != "worker" {
		t.Fatalf("WithName: %q", named.Name())
	}
	if named.ID() == task.ID() {
		t.Fatal("two tasks share an ID")
	}
	named.SetName("renamed")
	if named.Name() != "renamed" || !strings.HasPrefix(named.String(), "renamed#") {
		t.Fatalf("SetName: %q %q", named.Name(), named.String())
	}
	if named.Loop() != l {
		t.Fatal("Loop() of a task")
	}
	// SetName from several goroutines while reading: no race.
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { named.SetName(fmt.Sprint(i)); _ = named.Name() })
	}
	wg.Wait()
}

// Spawn refuses a nil body with ErrNilFunc and a closed loop with ErrClosed.
func TestSpawnErrors(t *testing.T) {
	l := newLoop(t)
	if _, err := aio.Spawn[int](l, nil); !errors.Is(err, aio.ErrNilFunc) {
		t.Fatalf("Spawn(nil) = %v, want ErrNilFunc", err)
	}
	closed, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if _, err := aio.Spawn(closed, func(c *aio.Ctx) (int, error) { return 0, nil }); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("Spawn on a closed loop = %v, want ErrClosed", err)
	}
}

// otherLoopFuture is a future of a loop that is not the test's.
func otherLoopFuture(t *testing.T) *aio.Future[int] {
	other := newLoop(t)
	return aio.NewFuture[int](other)
}

// Await, Sleep, Yield, Gather and Wait refuse misuse in a task (a nil or
// another task's Ctx, another loop's future, the task itself, nil
// awaitables, a blocking Wait) with the documented error, and the misuse
// changes nothing: the task goes on, and the other task is untouched.
func TestAwaitMisuseInTask(t *testing.T) {
	type env struct {
		l     *aio.Loop
		other *aio.Ctx       // another task's Ctx, suspended
		self  *aio.Task[int] // the running task
		f     *aio.Future[int]
		t     *testing.T
	}
	cases := []struct {
		name string
		op   func(c *aio.Ctx, e *env) error
		want error
	}{
		{"Await with a nil Ctx", func(c *aio.Ctx, e *env) error { _, err := aio.Await[int](nil, e.f); return err }, aio.ErrNotInTask},
		{"Sleep with a nil Ctx", func(c *aio.Ctx, e *env) error { return aio.Sleep(nil, time.Millisecond) }, aio.ErrNotInTask},
		{"Yield with a nil Ctx", func(c *aio.Ctx, e *env) error { return aio.Yield(nil) }, aio.ErrNotInTask},
		{"Await with another task's Ctx", func(c *aio.Ctx, e *env) error { _, err := aio.Await[int](e.other, e.f); return err }, aio.ErrNotInTask},
		{"Sleep with another task's Ctx", func(c *aio.Ctx, e *env) error { return aio.Sleep(e.other, time.Millisecond) }, aio.ErrNotInTask},
		{"Yield with another task's Ctx", func(c *aio.Ctx, e *env) error { return aio.Yield(e.other) }, aio.ErrNotInTask},
		{"Gather with another task's Ctx", func(c *aio.Ctx, e *env) error { _, err := aio.Gather[aio.Awaitable[int]](e.other, e.f); return err }, aio.ErrNotInTask},
		{"Await of another loop's future", func(c *aio.Ctx, e *env) error { _, err := aio.Await[int](c, otherLoopFuture(e.t)); return err }, aio.ErrInvalidState},
		{"Await of itself", func(c *aio.Ctx, e *env) error { _, err := aio.Await[int](c, e.self); return err }, aio.ErrInvalidState},
		{"Await of a nil Awaitable", func(c *aio.Ctx, e *env) error { _, err := aio.Await[int](c, nil); return err }, aio.ErrInvalidState},
		{"Await of a nil *Future", func(c *aio.Ctx, e *env) error { _, err := aio.Await[int](c, (*aio.Future[int])(nil)); return err }, aio.ErrInvalidState},
		{"Await of a nil *Task", func(c *aio.Ctx, e *env) error { _, err := aio.Await[int](c, (*aio.Task[int])(nil)); return err }, aio.ErrInvalidState},
		{"Wait in a task", func(c *aio.Ctx, e *env) error { _, err := e.f.Wait(context.Background()); return err }, aio.ErrOnLoop},
		{"Wait of a task in a task", func(c *aio.Ctx, e *env) error { _, err := e.self.Wait(context.Background()); return err }, aio.ErrOnLoop},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			e := &env{l: l, f: aio.NewFuture[int](l), t: t}
			otherStarted := false
			other, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
				e.other = c
				otherStarted = true
				return aio.Await[int](c, e.f)
			})
			if err != nil {
				t.Fatal(err)
			}
			l.RunUntil(func() bool { return otherStarted })
			var opErr, afterErr error
			e.self, err = aio.Spawn(l, func(c *aio.Ctx) (int, error) {
				opErr = tc.op(c, e)
				// The misuse changed nothing: the task still works.
				afterErr = aio.Yield(c)
				return 7, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			l.RunUntil(e.self.IsDone)
			if !errors.Is(opErr, tc.want) {
				_, taskErr := e.self.Result()
				t.Fatalf("got %v, want %v (the task ended with %v)", opErr, tc.want, taskErr)
			}
			if afterErr != nil {
				t.Fatalf("Yield after the misuse: %v", afterErr)
			}
			if v, err := e.self.Result(); v != 7 || err != nil {
				t.Fatalf("task outcome %d, %v", v, err)
			}
			// The other task is untouched and completes normally.
			if other.IsDone() {
				t.Fatal("the other task ended")
			}
			iterate(t, l, func() { e.f.SetResult(3) })
			l.RunUntil(other.IsDone)
			if v, err := other.Result(); v != 3 || err != nil {
				t.Fatalf("other task outcome %d, %v", v, err)
			}
		})
	}
}

// Await, Sleep and Yield with a task's Ctx, called from a loop callback or
// from a plain goroutine, return ErrNotInTask; CurrentTask is nil there; and
// the task is not disturbed.
func TestAwaitOutsideTask(t *testing.T) {
	l := newLoop(t)
	stop := goLoop(t, l)
	defer stop()
	f := aio.NewFuture[int](l)
	ctxc := make(chan *aio.Ctx, 1)
	errc := make(chan error, 3)
	curc := make(chan aio.AnyTask, 1)
	task, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		ctxc <- c
		// From a loop callback.
		l.CallSoon(func() {
			_, err := aio.Await[int](c, f)
			errc <- err
			errc <- aio.Sleep(c, time.Millisecond)
			errc <- aio.Yield(c)
			curc <- l.CurrentTask()
		})
		return aio.Await[int](c, f)
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := <-ctxc
	for range 3 {
		if err := <-errc; !errors.Is(err, aio.ErrNotInTask) {
			t.Fatalf("from a callback: %v, want ErrNotInTask", err)
		}
	}
	if cur := <-curc; cur != nil {
		t.Fatalf("CurrentTask in a callback = %v, want nil", cur)
	}

	// From a plain goroutine, while the loop runs.
	go func() {
		_, err := aio.Await[int](ctx, f)
		errc <- err
		errc <- aio.Sleep(ctx, time.Millisecond)
		errc <- aio.Yield(ctx)
	}()
	for range 3 {
		if err := <-errc; !errors.Is(err, aio.ErrNotInTask) {
			t.Fatalf("from a goroutine: %v, want ErrNotInTask", err)
		}
	}
	if l.CurrentTask() != nil {
		t.Fatal("CurrentTask from another goroutine is not nil")
	}
	if task.IsDone() {
		t.Fatal("misuse ended the task")
	}
	f.SetResult(5)
	if v, err := task.Wait(context.Background()); v != 5 || err != nil {
		t.Fatalf("task outcome %d, %v", v, err)
	}
}

// Await returns the outcome of tasks and futures, value and error; the cause
// of a cancelled task's cancellation; and the outcome of a done future,
// again and again.
func TestAwaitTasksAndFutures(t *testing.T) {
	l := newLoop(t)
	boom := errors.New("boom")
	var got []string
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		ok, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { aio.Sleep(c, time.Millisecond); return 1, nil })
		bad, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { aio.Yield(c); return 2, boom })
		cancelled, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return aio.Await[int](c, aio.NewFuture[int](l)) })
		f := aio.NewFuture[int](l)
		l.CallSoon(func() { f.SetResult(4) })
		for _, a := range []aio.Awaitable[int]{ok, bad, f} {
			v, err := aio.Await(c, a)
			got = append(got, fmt.Sprint(v, err))
		}
		aio.Yield(c)
		cancelled.Cancel(errors.New("why"))
		v, err := aio.Await(c, cancelled)
		got = append(got, fmt.Sprint(v, aio.Cause(err)))
		// A done future: returned at once, again and again.
		for range 2 {
			v, err := aio.Await(c, f)
			got = append(got, fmt.Sprint(v, err))
		}
		return 0, nil
	})
	want := "1 <nil>|2 boom|4 <nil>|0 why|4 <nil>|4 <nil>"
	if s := strings.Join(got, "|"); s != want {
		t.Fatalf("got %s, want %s", s, want)
	}
}

// Await of a done future returns without suspending: a callback scheduled
// before it runs only at the task's next suspension.
func TestAwaitDoneFutureDoesNotSuspend(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	var order []string
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		f.SetResult(1)
		l.CallSoon(func() { order = append(order, "callback") })
		aio.Await(c, f)
		order = append(order, "after await")
		aio.Yield(c)
		return 0, nil
	})
	if s := strings.Join(order, ","); s != "after await,callback" {
		t.Fatalf("order %s: Await of a done future suspended", s)
	}
}

// Two tasks that yield in turn alternate, one step each per iteration, in
// the order they were spawned.
func TestYieldAlternates(t *testing.T) {
	l := newLoop(t)
	var log []string
	body := func(name string) func(c *aio.Ctx) (int, error) {
		return func(c *aio.Ctx) (int, error) {
			for i := range 3 {
				log = append(log, fmt.Sprint(name, i))
				if err := aio.Yield(c); err != nil {
					return 0, err
				}
			}
			return 0, nil
		}
	}
	a, _ := aio.Spawn(l, body("a"))
	b, _ := aio.Spawn(l, body("b"))
	l.RunUntil(func() bool { return a.IsDone() && b.IsDone() })
	if s := strings.Join(log, ","); s != "a0,b0,a1,b1,a2,b2" {
		t.Fatalf("order %s", s)
	}
}

// Sleep suspends for at least its duration, a zero or negative duration only
// yields, and every Sleep returns nil.
func TestSleepDuration(t *testing.T) {
	l := newLoop(t)
	var elapsed []time.Duration
	var errs []error
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		for _, d := range []time.Duration{3 * time.Millisecond, 0, -time.Second, time.Microsecond} {
			start := time.Now()
			errs = append(errs, aio.Sleep(c, d))
			elapsed = append(elapsed, time.Since(start))
		}
		return 0, nil
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("Sleep: %v", err)
		}
	}
	if elapsed[0] < 3*time.Millisecond {
		t.Fatalf("Sleep(3ms) returned after %v", elapsed[0])
	}
	if elapsed[3] < time.Microsecond {
		t.Fatalf("Sleep(1us) returned after %v", elapsed[3])
	}
}

// Tasks sleeping for different durations wake in the order of their
// deadlines.
func TestSleepOrder(t *testing.T) {
	l := newLoop(t)
	if err := l.SetVirtualClock(); err != nil { // the tasks' Sleeps start at the same instant
		t.Fatal(err)
	}
	var log []int
	var tasks []*aio.Task[int]
	for _, ms := range []int{4, 1, 3, 2} {
		task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			if err := aio.Sleep(c, time.Duration(ms)*time.Millisecond); err != nil {
				return 0, err
			}
			log = append(log, ms)
			return ms, nil
		})
		tasks = append(tasks, task)
	}
	l.RunUntil(func() bool {
		for _, t := range tasks {
			if !t.IsDone() {
				return false
			}
		}
		return true
	})
	if fmt.Sprint(log) != "[1 2 3 4]" {
		t.Fatalf("woke in order %v", log)
	}
}

// Cancelling a task suspended in Await, Sleep, Yield, Gather, GatherAll or a
// deeply nested Await makes that call return a *CanceledError with the
// cause; the task ends canceled with it, what it awaited is left pending,
// and a second Cancel reports false.
func TestTaskCancelSuspended(t *testing.T) {
	cause := errors.New("stop now")
	cases := []struct {
		name    string
		suspend func(c *aio.Ctx, f *aio.Future[int]) error
	}{
		{"Await", func(c *aio.Ctx, f *aio.Future[int]) error { _, err := aio.Await(c, f); return err }},
		{"Sleep", func(c *aio.Ctx, f *aio.Future[int]) error { return aio.Sleep(c, time.Hour) }},
		{"Yield", func(c *aio.Ctx, f *aio.Future[int]) error {
			for {
				if err := aio.Yield(c); err != nil {
					return err
				}
			}
		}},
		{"Gather", func(c *aio.Ctx, f *aio.Future[int]) error { _, err := aio.Gather[aio.Awaitable[int]](c, f); return err }},
		{"GatherAll", func(c *aio.Ctx, f *aio.Future[int]) error {
			_, _, err := aio.GatherAll[aio.Awaitable[int]](c, f)
			return err
		}},
		{"nested Await", func(c *aio.Ctx, f *aio.Future[int]) error {
			var deep func(n int) error
			deep = func(n int) error {
				if n == 0 {
					_, err := aio.Await(c, f)
					return err
				}
				return deep(n - 1)
			}
			return deep(20)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			f := aio.NewFuture[int](l)
			var suspErr error
			started := false
			task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
				started = true
				suspErr = tc.suspend(c, f)
				return 0, suspErr
			})
			l.RunUntil(func() bool { return started })
			iterate(t, l, nil)
			if task.IsDone() {
				t.Fatal("task ended early")
			}
			var ok bool
			iterate(t, l, func() { ok = task.Cancel(cause) })
			if !ok {
				t.Fatal("Cancel of a suspended task reported false")
			}
			l.RunUntil(task.IsDone)
			var ce *aio.CanceledError
			if !errors.As(suspErr, &ce) || ce.Cause != cause {
				t.Fatalf("suspension returned %v, want *CanceledError with the cause", suspErr)
			}
			if !errors.Is(suspErr, context.Canceled) || !errors.Is(suspErr, cause) {
				t.Fatalf("%v does not match context.Canceled and its cause", suspErr)
			}
			if !task.Canceled() || aio.Cause(task.Err()) != cause {
				t.Fatalf("task Cancelled=%v Err=%v", task.Canceled(), task.Err())
			}
			// What the task awaited is not cancelled with it.
			if f.IsDone() {
				t.Fatal("cancelling the task completed the future it awaited")
			}
			if task.Cancel(nil) {
				t.Fatal("Cancel of a done task reported true")
			}
		})
	}
}

// A task cancelled before it starts, on the loop or from another goroutine,
// never runs its body and ends canceled with the cause.
func TestTaskCancelBeforeStart(t *testing.T) {
	cause := errors.New("never mind")
	for _, from := range []string{"loop", "goroutine"} {
		t.Run(from, func(t *testing.T) {
			l := newLoop(t)
			ran := false
			body := func(c *aio.Ctx) (int, error) { ran = true; return 1, nil }
			var task *aio.Task[int]
			var ok bool
			if from == "loop" {
				iterate(t, l, func() {
					task, _ = aio.Spawn(l, body)
					ok = task.Cancel(cause)
				})
			} else {
				task, _ = aio.Spawn(l, body)
				ok = task.Cancel(cause)
			}
			if !ok {
				t.Fatal("Cancel of a new task reported false")
			}
			l.RunUntil(task.IsDone)
			if ran {
				t.Fatal("the body of a task cancelled before it started ran")
			}
			if !task.Canceled() || aio.Cause(task.Err()) != cause {
				t.Fatalf("Cancelled=%v Err=%v", task.Canceled(), task.Err())
			}
		})
	}
}

// Cancel from another goroutine of a task sleeping on a running loop reports
// true and ends the task canceled with the cause; Cancel of the done task
// reports false.
func TestTaskCancelFromGoroutine(t *testing.T) {
	l := newLoop(t)
	stop := goLoop(t, l)
	defer stop()
	started := make(chan struct{})
	task, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		close(started)
		return 0, aio.Sleep(c, time.Hour)
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if !task.Cancel(aio.ErrInterrupted) {
		t.Fatal("Cancel from a goroutine reported false")
	}
	_, err = task.Wait(context.Background())
	if !errors.Is(err, aio.ErrInterrupted) || !task.Canceled() {
		t.Fatalf("Wait = %v, Cancelled=%v", err, task.Canceled())
	}
	if task.Cancel(nil) {
		t.Fatal("Cancel of a done task from a goroutine reported true")
	}
}

// A task whose body returns an error matching context.Canceled ends
// canceled, and with any other error it does not; Err is the body's error
// either way.
func TestTaskBodyReturnsCancellation(t *testing.T) {
	cases := []struct {
		name          string
		err           error
		wantCancelled bool
	}{
		{"context.Canceled", context.Canceled, true},
		{"wrapped context.Canceled", fmt.Errorf("op: %w", context.Canceled), true},
		{"CanceledError", &aio.CanceledError{Cause: errors.New("c")}, true},
		{"DeadlineExceeded", context.DeadlineExceeded, false},
		{"other", errors.New("other"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			task := runTask(t, l, func(c *aio.Ctx) (int, error) { return 0, tc.err })
			if task.Canceled() != tc.wantCancelled {
				t.Fatalf("Cancelled = %v, want %v", task.Canceled(), tc.wantCancelled)
			}
			if task.Err() != tc.err {
				t.Fatalf("Err = %v, want %v", task.Err(), tc.err)
			}
		})
	}
}

// A body may handle its cancellation and go on: the cancellation is
// delivered once, Cancelling counts it, later suspensions work, and the task
// ends with the body's result, not canceled.
func TestTaskHandlesCancellation(t *testing.T) {
	l := newLoop(t)
	var counts []int
	var errs []error
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		errs = append(errs, aio.Sleep(c, time.Hour))
		counts = append(counts, c.Task().Cancelling())
		// The cancellation was delivered once: later suspensions work.
		errs = append(errs, aio.Sleep(c, time.Microsecond))
		errs = append(errs, aio.Yield(c))
		return 11, nil
	})
	iterate(t, l, nil)
	iterate(t, l, func() { task.Cancel(nil) })
	l.RunUntil(task.IsDone)
	if !errors.Is(errs[0], context.Canceled) || errs[1] != nil || errs[2] != nil {
		t.Fatalf("errors %v", errs)
	}
	if counts[0] != 1 {
		t.Fatalf("Cancelling = %d, want 1", counts[0])
	}
	if v, err := task.Result(); v != 11 || err != nil || task.Canceled() {
		t.Fatalf("a task that handled its cancellation ended %d, %v, cancelled=%v", v, err, task.Canceled())
	}
}

// A task can cancel itself: Cancel reports true, and its next suspension
// returns the cancellation with the cause, which ends the task canceled.
func TestTaskSelfCancel(t *testing.T) {
	l := newLoop(t)
	cause := errors.New("self")
	var ok bool
	task := runTask(t, l, func(c *aio.Ctx) (int, error) {
		ok = c.Task().Cancel(cause)
		return 0, aio.Yield(c)
	})
	if !ok || !task.Canceled() || aio.Cause(task.Err()) != cause {
		t.Fatalf("ok=%v Cancelled=%v Err=%v", ok, task.Canceled(), task.Err())
	}
}

// A cancellation requested before Await is returned by it, even when the
// awaited future is done (the documented rule).
func TestTaskCancelledBeforeAwaitOfDoneFuture(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	var err error
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		f.SetResult(1)
		c.Task().Cancel(nil)
		_, err = aio.Await(c, f)
		return 0, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Await = %v, want the pending cancellation", err)
	}
}

// Cancelling counts the cancellation requests and Uncancel withdraws them
// one at a time, never below zero; with none left the undelivered
// cancellation is dropped, and with one left it is delivered with the latest
// cause.
func TestTaskCancellingUncancel(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return aio.Await(c, f) })
	iterate(t, l, nil) // suspended in Await
	var steps []int
	iterate(t, l, func() {
		steps = append(steps, task.Cancelling())
		task.Cancel(errors.New("a"))
		task.Cancel(errors.New("b"))
		steps = append(steps, task.Cancelling())
		steps = append(steps, task.Uncancel())
		steps = append(steps, task.Uncancel()) // none left: the undelivered cancellation is dropped
		steps = append(steps, task.Uncancel()) // stays at zero
	})
	if fmt.Sprint(steps) != "[0 2 1 0 0]" {
		t.Fatalf("Cancelling/Uncancel sequence %v, want [0 2 1 0 0]", steps)
	}
	for range 3 {
		iterate(t, l, nil)
	}
	if task.IsDone() {
		t.Fatalf("a withdrawn cancellation was delivered: %v", task.Err())
	}
	iterate(t, l, func() { f.SetResult(8) })
	l.RunUntil(task.IsDone)
	if v, err := task.Result(); v != 8 || err != nil {
		t.Fatalf("task outcome %d, %v", v, err)
	}

	// With one request left, the cancellation is still delivered with the
	// latest cause.
	g := aio.NewFuture[int](l)
	task2, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return aio.Await(c, g) })
	iterate(t, l, nil)
	iterate(t, l, func() {
		task2.Cancel(errors.New("first"))
		task2.Cancel(errors.New("second"))
		task2.Uncancel()
	})
	l.RunUntil(task2.IsDone)
	if !task2.Canceled() || aio.Cause(task2.Err()).Error() != "second" {
		t.Fatalf("Cancelled=%v Err=%v", task2.Canceled(), task2.Err())
	}
}

// Task.Cancelling, Task.Uncancel and Loop.Tasks panic with an error matching
// ErrNotOnLoop off the loop, and Task.AddDoneCallback returns one.
func TestTaskLoopOnlyMethodsPanicOffLoop(t *testing.T) {
	l := newLoop(t)
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, nil })
	for name, fn := range map[string]func(){
		"Cancelling": func() { task.Cancelling() },
		"Uncancel":   func() { task.Uncancel() },
		"Tasks":      func() { l.Tasks() },
	} {
		func() {
			defer func() {
				r := recover()
				err, _ := r.(error)
				if !errors.Is(err, aio.ErrNotOnLoop) {
					t.Errorf("%s off the loop: recovered %v, want a panic with ErrNotOnLoop", name, r)
				}
			}()
			fn()
		}()
	}
	if _, err := task.AddDoneCallback(func() {}); !errors.Is(err, aio.ErrNotOnLoop) {
		t.Errorf("AddDoneCallback off the loop: %v", err)
	}
	l.RunUntil(task.IsDone)
}

// A task's done callbacks run after its body, in the order they were added;
// a removed one does not run, and a nil one is refused with ErrNilFunc.
func TestTaskAddDoneCallback(t *testing.T) {
	l := newLoop(t)
	var log []string
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		log = append(log, "body")
		return 0, aio.Yield(c)
	})
	iterate(t, l, func() {
		task.AddDoneCallback(func() { log = append(log, "cb1") })
		rm, _ := task.AddDoneCallback(func() { log = append(log, "removed") })
		task.AddDoneCallback(func() { log = append(log, "cb2") })
		rm()
		if _, err := task.AddDoneCallback(nil); !errors.Is(err, aio.ErrNilFunc) {
			t.Errorf("AddDoneCallback(nil) = %v", err)
		}
	})
	l.RunUntil(task.IsDone)
	iterate(t, l, nil)
	iterate(t, l, nil)
	if s := strings.Join(log, ","); s != "body,cb1,cb2" {
		t.Fatalf("log %s", s)
	}
}

// A panic in a task body becomes the task's error, a *PanicError with the
// value and the stack at the panic that unwraps to an error value; the task
// is not canceled, the loop goes on running tasks, and nothing goes to the
// error handler.
func TestTaskPanic(t *testing.T) {
	l := newLoop(t)
	rep := record(l)
	sentinel := errors.New("sentinel")
	p1 := runTask(t, l, func(c *aio.Ctx) (int, error) {
		aio.Yield(c)
		panicky("bad thing")
		return 1, nil
	})
	var pe *aio.PanicError
	if !errors.As(p1.Err(), &pe) {
		t.Fatalf("Err = %T %v, want *PanicError", p1.Err(), p1.Err())
	}
	if pe.Value != "bad thing" || !strings.Contains(pe.Error(), "bad thing") {
		t.Fatalf("PanicError %v", pe)
	}
	if !strings.Contains(string(pe.Stack), "panicky") {
		t.Fatalf("Stack does not show the panicking function:\n%s", pe.Stack)
	}
	if p1.Canceled() {
		t.Fatal("a panicked task reports Cancelled")
	}
	p2 := runTask(t, l, func(c *aio.Ctx) (int, error) { panic(sentinel) })
	if !errors.Is(p2.Err(), sentinel) {
		t.Fatalf("panic(err): task error %v does not unwrap to err", p2.Err())
	}
	// panic(context.Canceled) is a failure of a panicking body, reported as
	// a *PanicError; the loop keeps running either way.
	ok := runTask(t, l, func(c *aio.Ctx) (int, error) { aio.Yield(c); return 5, nil })
	if v, _ := ok.Result(); v != 5 {
		t.Fatal("the loop does not run tasks after a panic")
	}
	if r := rep.all(); len(r) != 0 {
		t.Fatalf("panics of tasks are task errors, not reports: %+v", r)
	}
}

// A task body that calls runtime.Goexit ends the loop's goroutine: the run
// returns an error matching ErrClosed to its caller, the loop is closed, the
// other suspended tasks are unwound on the loop's thread before it goes (no
// coroutine goroutine is left), and the error handler is told.
func TestTaskGoexitEndsLoopGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	rep := record(l)
	var unwound []error
	var others []*aio.Task[int]
	for range 20 {
		other, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			err := aio.Sleep(c, time.Hour)
			unwound = append(unwound, err)
			return 0, err
		})
		others = append(others, other)
	}
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		aio.Yield(c)
		runtime.Goexit()
		return 0, nil
	})
	if err := l.RunUntil(func() bool { return false }); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("RunUntil after a task called runtime.Goexit = %v, want ErrClosed", err)
	}
	if !l.IsClosed() || !isClosed(l.Closed()) {
		t.Fatal("the loop is not closed after its goroutine exited")
	}
	if !task.IsDone() || task.Err() == nil {
		t.Fatalf("the Goexit task: done=%v err=%v", task.IsDone(), task.Err())
	}
	if len(unwound) != len(others) {
		t.Fatalf("%d of %d suspended tasks were unwound", len(unwound), len(others))
	}
	for _, other := range others {
		if !other.IsDone() || !errors.Is(other.Err(), aio.ErrClosed) {
			t.Fatalf("an abandoned task: done=%v err=%v, want cancelled with ErrClosed", other.IsDone(), other.Err())
		}
	}
	reports := rep.all()
	if len(reports) == 0 || !errors.Is(reports[0].Err, aio.ErrClosed) {
		t.Fatalf("reports %+v, want one matching ErrClosed", reports)
	}
	if err := l.RunForever(); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("RunForever after the loop was abandoned = %v, want ErrClosed", err)
	}
	if _, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, nil }); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("Spawn after the loop was abandoned = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close of an abandoned loop = %v", err)
	}
	noGoroutinesBeyond(t, before)
}

// Close unwinds the live tasks: in a suspended task the pending Await and
// every later suspension return a *CanceledError wrapping ErrClosed while
// the body runs to its end; a task that had not started never runs; all end
// canceled with ErrClosed; and Await with a Ctx of the closed loop fails the
// same way.
func TestTaskCloseUnwindsSuspended(t *testing.T) {
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	f := aio.NewFuture[int](l)
	var errs []error
	cleaned := false
	var suspendedCtx *aio.Ctx
	suspended, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		suspendedCtx = c
		_, err := aio.Await(c, f)
		errs = append(errs, err)
		// Every later suspension fails the same way; the body runs on.
		errs = append(errs, aio.Sleep(c, time.Hour))
		errs = append(errs, aio.Yield(c))
		_, err = aio.Await(c, aio.NewFuture[int](l))
		errs = append(errs, err)
		cleaned = true
		return 0, err
	})
	sleeper, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Hour) })
	iterate(t, l, nil) // both suspended
	var notStarted *aio.Task[int]
	ran := false
	iterate(t, l, func() {
		notStarted, _ = aio.Spawn(l, func(c *aio.Ctx) (int, error) { ran = true; return 0, nil })
	})
	// Close from the goroutine that ran the loop unwinds them.
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !cleaned || len(errs) != 4 {
		t.Fatalf("the body was not run to its end: cleaned=%v errs=%v", cleaned, errs)
	}
	for i, err := range errs {
		var ce *aio.CanceledError
		if !errors.As(err, &ce) || !errors.Is(err, aio.ErrClosed) || !errors.Is(err, context.Canceled) {
			t.Fatalf("suspension %d after Close returned %v, want *CanceledError wrapping ErrClosed", i, err)
		}
	}
	if ran {
		t.Fatal("a task that had not started ran during Close")
	}
	for _, task := range []*aio.Task[int]{suspended, sleeper, notStarted} {
		if !task.IsDone() || !task.Canceled() || !errors.Is(task.Err(), aio.ErrClosed) {
			t.Fatalf("%v after Close: done=%v cancelled=%v err=%v", task, task.IsDone(), task.Canceled(), task.Err())
		}
	}
	// Awaiting with a Ctx of the closed loop fails with the same error.
	if _, err := aio.Await[int](suspendedCtx, f); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("Await on a closed loop = %v, want ErrClosed", err)
	}
}

// Close from a goroutine other than the one that ran the loop, after that
// goroutine has exited, unwinds the suspended tasks all the same: they run
// on the loop's own goroutine and thread, and no goroutine is left behind,
// over many loops.
func TestTaskCloseFromOtherGoroutineWithSuspendedTasks(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 50 {
		l, err := aio.NewLoop()
		if err != nil {
			t.Fatal(err)
		}
		var tasks []*aio.Task[int]
		sleeping := 0
		for range 20 {
			task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
				sleeping++ // the body goes on into Sleep in the same step
				return 0, aio.Sleep(c, time.Hour)
			})
			tasks = append(tasks, task)
		}
		ran := make(chan error)
		// Until all 20 are live and suspended in Sleep.
		go func() { ran <- l.RunUntil(func() bool { return len(l.Tasks()) == 20 && sleeping == 20 }) }()
		if err := <-ran; err != nil {
			t.Fatal(err)
		}
		// The goroutine that ran the loop has exited; close from here.
		if err := l.Close(); err != nil {
			t.Fatalf("Close from another goroutine with suspended tasks = %v", err)
		}
		for _, task := range tasks {
			if !task.IsDone() || !errors.Is(task.Err(), aio.ErrClosed) {
				t.Fatalf("a suspended task after Close: done=%v err=%v", task.IsDone(), task.Err())
			}
		}
	}
	noGoroutinesBeyond(t, before)
}

// The loop keeps its tasks alive: sleeping tasks that nobody else holds are
// not garbage collected, and all of them complete.
func TestTaskKeptAliveByLoop(t *testing.T) {
	l := newLoop(t)
	var done atomic.Int32
	var collected atomic.Bool
	for range 10 {
		func() {
			task, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
				if err := aio.Sleep(c, 2*time.Millisecond); err != nil {
					return 0, err
				}
				done.Add(1)
				return 1, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			runtime.AddCleanup(task, func(*atomic.Bool) { collected.Store(true) }, &collected)
		}()
	}
	iterate(t, l, nil) // all started and sleeping; nobody holds them but the loop
	for range 3 {
		runtime.GC()
	}
	if collected.Load() {
		t.Fatal("a live task was garbage collected")
	}
	l.RunUntil(func() bool { return done.Load() == 10 })
	if done.Load() != 10 {
		t.Fatalf("%d of 10 tasks completed", done.Load())
	}
}

// Shutdown reports through the error handler, once each and naming the task,
// the failures nobody retrieved (an error, a panic); not those read with
// Result or Await, nor cancellations, nor successes; and nothing is reported
// before Shutdown.
func TestTaskUnretrievedErrorsReported(t *testing.T) {
	l := newLoop(t)
	rep := record(l)
	boom := errors.New("boom")
	fail := func(c *aio.Ctx) (int, error) { aio.Yield(c); return 0, boom }
	unretrieved, _ := aio.Spawn(l, fail, aio.WithName("unretrieved"))
	panicked, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { panic("p") }, aio.WithName("panicked"))
	retrieved, _ := aio.Spawn(l, fail, aio.WithName("retrieved"))
	awaited, _ := aio.Spawn(l, fail, aio.WithName("awaited"))
	cancelled, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Hour) }, aio.WithName("cancelled"))
	aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 1, nil }, aio.WithName("ok"))
	aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		aio.Await(c, awaited)
		cancelled.Cancel(nil)
		return 0, nil
	}, aio.WithName("awaiter"))
	l.RunUntil(func() bool { return retrieved.IsDone() && cancelled.IsDone() && unretrieved.IsDone() })
	retrieved.Result()
	if r := rep.all(); len(r) != 0 {
		t.Fatalf("reported before Shutdown: %+v", r)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	got := map[string]aio.ErrorContext{}
	for _, r := range rep.all() {
		if r.Task == nil {
			t.Fatalf("report without a task: %+v", r)
		}
		got[r.Task.Name()] = r
		if r.Message != "aio: task error was never retrieved" {
			t.Fatalf("message %q", r.Message)
		}
	}
	if len(got) != 2 || len(rep.all()) != 2 {
		t.Fatalf("reported %v, want exactly unretrieved and panicked", got)
	}
	if r, ok := got["unretrieved"]; !ok || r.Err != boom || r.Task.ID() != unretrieved.ID() {
		t.Fatalf("unretrieved: %+v", r)
	}
	var pe *aio.PanicError
	if r, ok := got["panicked"]; !ok || !errors.As(r.Err, &pe) || r.Task != aio.AnyTask(panicked) {
		t.Fatalf("panicked: %+v", r)
	}
}

// CurrentTask in a body is that task, and nil on an idle loop; Tasks lists
// the live tasks (spawned and not done) and drops them as they finish.
func TestCurrentTaskAndTasks(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	var cur aio.AnyTask
	var live []aio.AnyTask
	waiter, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return aio.Await(c, f) }, aio.WithName("waiter"))
	finished, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, nil }, aio.WithName("finished"))
	me, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		aio.Yield(c)
		cur = l.CurrentTask()
		live = l.Tasks()
		return 0, nil
	}, aio.WithName("me"))
	l.RunUntil(me.IsDone)
	if cur == nil || cur.ID() != me.ID() {
		t.Fatalf("CurrentTask in a body = %v, want %v", cur, me)
	}
	names := map[string]bool{}
	for _, task := range live {
		names[task.Name()] = true
	}
	if !names["waiter"] || !names["me"] || names["finished"] || len(live) != 2 {
		t.Fatalf("Tasks() = %v, want waiter and me", live)
	}
	if !finished.IsDone() {
		t.Fatal("finished is not done")
	}
	var after []aio.AnyTask
	iterate(t, l, func() { after = l.Tasks() })
	if len(after) != 1 || after[0].ID() != waiter.ID() {
		t.Fatalf("Tasks() after = %v", after)
	}
	if l.CurrentTask() != nil {
		t.Fatal("CurrentTask with the loop idle is not nil")
	}
	iterate(t, l, func() { f.SetResult(1) })
	l.RunUntil(waiter.IsDone)
}

// Task.Wait and Done from plain goroutines that spawned tasks onto a running
// loop return each task's outcome; Wait returns the context's error if the
// context ends first, and the cancellation once the task is cancelled.
func TestTaskWaitFromGoroutines(t *testing.T) {
	l := newLoop(t)
	stop := goLoop(t, l)
	defer stop()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			task, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
				if err := aio.Sleep(c, time.Duration(i%3)*time.Millisecond); err != nil {
					return 0, err
				}
				return i * i, nil
			})
			if err != nil {
				t.Errorf("Spawn: %v", err)
				return
			}
			v, err := task.Wait(context.Background())
			if v != i*i || err != nil {
				t.Errorf("task %d: %d, %v", i, v, err)
			}
			<-task.Done()
		})
	}
	wg.Wait()
	// Wait with a context that ends first.
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Hour) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := task.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with a timeout = %v", err)
	}
	task.Cancel(nil)
	if _, err := task.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after Cancel = %v", err)
	}
}

// Every task body of a loop run by hand, child tasks included, runs on the
// loop's thread, across Yield, Sleep, Await and runtime.Gosched.
func TestTaskBodiesRunOnLoopThread(t *testing.T) {
	needThreadID(t)
	l := newLoop(t)
	var loopTid int
	var tids []int
	var mu sync.Mutex // bodies run on the loop; the lock only documents it
	noteThread := func() {
		mu.Lock()
		tids = append(tids, gettid())
		mu.Unlock()
	}
	l.CallSoon(func() { loopTid = gettid() })
	var tasks []*aio.Task[int]
	for i := range 6 {
		task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			noteThread()
			for j := range 3 {
				var err error
				switch (i + j) % 3 {
				case 0:
					err = aio.Yield(c)
				case 1:
					err = aio.Sleep(c, 100*time.Microsecond)
				case 2:
					child, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { noteThread(); aio.Yield(c); noteThread(); return 0, nil })
					_, err = aio.Await(c, child)
				}
				if err != nil {
					return 0, err
				}
				noteThread()
				runtime.Gosched()
				noteThread()
			}
			return 0, nil
		})
		tasks = append(tasks, task)
	}
	l.RunUntil(func() bool {
		for _, t := range tasks {
			if !t.IsDone() {
				return false
			}
		}
		return true
	})
	if loopTid == 0 || len(tids) == 0 {
		t.Fatal("nothing recorded")
	}
	for _, tid := range tids {
		if tid != loopTid {
			t.Fatalf("a body ran on thread %d, the loop on %d", tid, loopTid)
		}
	}
}

// ---------------------------------------------------------------------------
// Withdrawn cancellations: a cancellation withdrawn with Uncancel before it
// was delivered still wakes the task; the suspension it woke must go on
// waiting.

// A Sleep woken by a cancellation withdrawn with Uncancel goes on sleeping
// for its whole duration, and returns nil.
func TestSleepNotCutShortByWithdrawnCancel(t *testing.T) {
	l := newLoop(t)
	if err := l.SetVirtualClock(); err != nil { // the Stops of iterate keep the clock from jumping
		t.Fatal(err)
	}
	const d = time.Hour
	var slept time.Duration
	var sleepErr error
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		start := l.Now()
		sleepErr = aio.Sleep(c, d)
		slept = l.Now().Sub(start)
		return 0, nil
	})
	iterate(t, l, nil) // sleeping
	iterate(t, l, func() {
		task.Cancel(nil)
		task.Uncancel()
	})
	l.RunUntil(task.IsDone)
	if sleepErr != nil {
		t.Fatalf("Sleep = %v", sleepErr)
	}
	if slept != d {
		t.Fatalf("Sleep(%v) returned after %v: a withdrawn cancellation cut it short", d, slept)
	}
}

// An Await woken again and again by withdrawn cancellations keeps exactly
// one waiter on its future, and returns the future's result once it
// completes.
func TestAwaitWithdrawnCancelsKeepOneWaiter(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return aio.Await(c, f) })
	iterate(t, l, nil) // suspended in Await
	for range 5 {
		iterate(t, l, func() {
			task.Cancel(nil)
			task.Uncancel()
		})
		iterate(t, l, nil)
	}
	if task.IsDone() {
		t.Fatalf("task ended: %v", task.Err())
	}
	var n int
	iterate(t, l, func() {
		n = f.WaitersForTest()
	})
	if n != 1 {
		t.Fatalf("the future holds %d waiters for one suspended Await, want 1", n)
	}
	iterate(t, l, func() { f.SetResult(4) })
	l.RunUntil(task.IsDone)
	if v, err := task.Result(); v != 4 || err != nil {
		t.Fatalf("task outcome %d, %v", v, err)
	}
}

// A Gather woken by a withdrawn cancellation goes on waiting, and returns
// once its future is done.
func TestGatherNotCutShortByWithdrawnCancel(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	var results []int
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		var err error
		results, err = aio.Gather[aio.Awaitable[int]](c, f)
		return 0, err
	})
	iterate(t, l, nil)
	iterate(t, l, func() { task.Cancel(nil); task.Uncancel() })
	iterate(t, l, nil)
	iterate(t, l, nil)
	if task.IsDone() {
		t.Fatalf("Gather returned before its future was done: %v, %v", results, task.Err())
	}
	iterate(t, l, func() { f.SetResult(2) })
	l.RunUntil(task.IsDone)
	if fmt.Sprint(results) != "[2]" || task.Err() != nil {
		t.Fatalf("Gather = %v, %v", results, task.Err())
	}
}

// Sleep of the longest duration does not overflow the deadline: the task
// sleeps until it is cancelled, and nothing is reported.
func TestSleepForever(t *testing.T) {
	l := newLoop(t)
	rep := record(l)
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Duration(1<<63-1)) })
	iterate(t, l, nil)
	timer := time.AfterFunc(2*time.Millisecond, func() { task.Cancel(aio.ErrInterrupted) })
	defer timer.Stop()
	l.RunUntil(task.IsDone)
	if aio.Cause(task.Err()) != aio.ErrInterrupted {
		t.Fatalf("task error %v", task.Err())
	}
	if r := rep.all(); len(r) != 0 {
		t.Fatalf("reports %+v", r)
	}
}

// An Await(f) woken by a withdrawn cancellation, then cancelled for real,
// leaves no waiter of its own on f: the body handles the cancellation and
// sleeps, and completing f later does not cut the sleep short.
func TestStaleAwaitWaiterDoesNotWakeLaterSleep(t *testing.T) {
	l := newLoop(t)
	if err := l.SetVirtualClock(); err != nil { // the Stops of iterate keep the clock from jumping
		t.Fatal(err)
	}
	f := aio.NewFuture[int](l)
	const d = time.Hour
	var awaitErr, sleepErr error
	var slept time.Duration
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		_, awaitErr = aio.Await(c, f)
		start := l.Now()
		sleepErr = aio.Sleep(c, d)
		slept = l.Now().Sub(start)
		return 0, nil
	})
	iterate(t, l, nil)
	iterate(t, l, func() { task.Cancel(nil); task.Uncancel() })
	iterate(t, l, nil)
	iterate(t, l, func() { task.Cancel(nil) })
	iterate(t, l, nil) // Await returned the cancellation; the task sleeps
	iterate(t, l, func() { f.SetResult(1) })
	l.RunUntil(task.IsDone)
	if !errors.Is(awaitErr, context.Canceled) {
		t.Fatalf("Await = %v, want the cancellation", awaitErr)
	}
	if sleepErr != nil || slept != d {
		t.Fatalf("Sleep(%v) = %v after %v: woken by a stale waiter of the earlier Await", d, sleepErr, slept)
	}
}

// A task that Close unwinds cannot schedule more work: the loop is closed,
// so its CallSoon and Spawn fail with ErrClosed rather than queue work that
// will never run.
func TestUnwoundTaskCannotSchedule(t *testing.T) {
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	var callErr, spawnErr error
	aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		err := aio.Sleep(c, time.Hour)
		_, callErr = l.CallSoon(func() {})
		_, spawnErr = aio.Spawn(l, func(*aio.Ctx) (int, error) { return 0, nil })
		return 0, err
	})
	l.CallLater(time.Millisecond, func() { l.Stop() })
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil { // on the goroutine that ran it: unwinds
		t.Fatal(err)
	}
	if !errors.Is(callErr, aio.ErrClosed) {
		t.Errorf("CallSoon during unwinding: %v, want ErrClosed", callErr)
	}
	if !errors.Is(spawnErr, aio.ErrClosed) {
		t.Errorf("Spawn during unwinding: %v, want ErrClosed", spawnErr)
	}
}
