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

// fxRunTask spawns body on l from the test goroutine and runs l until the
// task is done.
func fxRunTask[T any](t *testing.T, l *Loop, body func(*Ctx) (T, error), opts ...TaskOption) *Task[T] {
	t.Helper()
	task, err := Spawn(l, body, opts...)
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	if err := l.RunUntil(task.IsDone); err != nil {
		t.Fatalf("RunUntil: %v", err)
	}
	return task
}

func TestTaskResult(t *testing.T) {
	l := fxLoop(t)
	boom := errors.New("boom")
	ok := fxRunTask(t, l, func(c *Ctx) (string, error) { return "fine", nil })
	if v, err := ok.Result(); v != "fine" || err != nil {
		t.Fatalf("Result = %q, %v", v, err)
	}
	if !ok.IsDone() || ok.Canceled() || !fxClosed(ok.Done()) {
		t.Fatal("finished task: wrong state")
	}
	bad := fxRunTask(t, l, func(c *Ctx) (string, error) { return "partial", boom })
	if v, err := bad.Result(); v != "partial" || err != boom {
		t.Fatalf("Result = %q, %v; want the body's value and error", v, err)
	}
	if bad.Canceled() || bad.Err() != boom {
		t.Fatalf("Cancelled=%v Err=%v", bad.Canceled(), bad.Err())
	}
}

func TestTaskPendingResult(t *testing.T) {
	l := fxLoop(t)
	task, err := Spawn(l, func(c *Ctx) (int, error) { return 1, nil })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := task.Result(); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("Result of a pending task = %v, want ErrInvalidState", err)
	}
	if task.IsDone() || fxClosed(task.Done()) {
		t.Fatal("pending task reports done")
	}
	l.RunUntil(task.IsDone)
	if !fxClosed(task.Done()) {
		t.Fatal("Done channel not closed")
	}
}

func TestTaskStartsAtNextIteration(t *testing.T) {
	l := fxLoop(t)
	ran := 0
	body := func(c *Ctx) (int, error) { ran++; return 0, nil }

	// From another goroutine, on an idle loop: nothing runs before the loop.
	task, err := Spawn(l, body)
	if err != nil {
		t.Fatal(err)
	}
	if ran != 0 {
		t.Fatal("body ran during Spawn from another goroutine")
	}
	fxIterate(t, l, nil)
	if ran != 1 || !task.IsDone() {
		t.Fatalf("after one iteration: ran=%d done=%v", ran, task.IsDone())
	}

	// From a callback: not during Spawn, but at the next iteration.
	var task2 *Task[int]
	fxIterate(t, l, func() {
		task2, _ = Spawn(l, body)
		if ran != 1 {
			t.Error("body ran during Spawn from the loop")
		}
	})
	if ran != 1 || task2.IsDone() {
		t.Fatalf("body ran in the iteration that spawned it (ran=%d)", ran)
	}
	fxIterate(t, l, nil)
	if ran != 2 || !task2.IsDone() {
		t.Fatalf("body did not run at the next iteration (ran=%d)", ran)
	}

	// From a task: the child starts after the parent suspends.
	var order []string
	fxRunTask(t, l, func(c *Ctx) (int, error) {
		child, err := Spawn(l, func(c *Ctx) (int, error) {
			order = append(order, "child")
			return 0, nil
		})
		if err != nil {
			return 0, err
		}
		order = append(order, "after spawn")
		_, err = Await(c, child)
		order = append(order, "awaited")
		return 0, err
	})
	if got := strings.Join(order, ","); got != "after spawn,child,awaited" {
		t.Fatalf("order %s", got)
	}
}

func TestTaskNames(t *testing.T) {
	l := fxLoop(t)
	var inName, inString string
	var inID uint64
	task := fxRunTask(t, l, func(c *Ctx) (int, error) {
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
	named := fxRunTask(t, l, func(c *Ctx) (int, error) { return 0, nil }, WithName("worker"))
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

func TestSpawnErrors(t *testing.T) {
	l := fxLoop(t)
	if _, err := Spawn[int](l, nil); !errors.Is(err, ErrNilFunc) {
		t.Fatalf("Spawn(nil) = %v, want ErrNilFunc", err)
	}
	closed, err := NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if _, err := Spawn(closed, func(c *Ctx) (int, error) { return 0, nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Spawn on a closed loop = %v, want ErrClosed", err)
	}
}

// fxOtherLoopFuture is a future of a loop that is not the test's.
func fxOtherLoopFuture(t *testing.T) *Future[int] {
	other := fxLoop(t)
	return NewFuture[int](other)
}

func TestAwaitMisuseInTask(t *testing.T) {
	type env struct {
		l     *Loop
		other *Ctx       // another task's Ctx, suspended
		self  *Task[int] // the running task
		f     *Future[int]
		t     *testing.T
	}
	cases := []struct {
		name string
		op   func(c *Ctx, e *env) error
		want error
	}{
		{"Await with a nil Ctx", func(c *Ctx, e *env) error { _, err := Await[int](nil, e.f); return err }, ErrNotInTask},
		{"Sleep with a nil Ctx", func(c *Ctx, e *env) error { return Sleep(nil, time.Millisecond) }, ErrNotInTask},
		{"Yield with a nil Ctx", func(c *Ctx, e *env) error { return Yield(nil) }, ErrNotInTask},
		{"Await with another task's Ctx", func(c *Ctx, e *env) error { _, err := Await[int](e.other, e.f); return err }, ErrNotInTask},
		{"Sleep with another task's Ctx", func(c *Ctx, e *env) error { return Sleep(e.other, time.Millisecond) }, ErrNotInTask},
		{"Yield with another task's Ctx", func(c *Ctx, e *env) error { return Yield(e.other) }, ErrNotInTask},
		{"Gather with another task's Ctx", func(c *Ctx, e *env) error { _, err := Gather[Awaitable[int]](e.other, e.f); return err }, ErrNotInTask},
		{"Await of another loop's future", func(c *Ctx, e *env) error { _, err := Await[int](c, fxOtherLoopFuture(e.t)); return err }, ErrInvalidState},
		{"Await of itself", func(c *Ctx, e *env) error { _, err := Await[int](c, e.self); return err }, ErrInvalidState},
		{"Await of a nil Awaitable", func(c *Ctx, e *env) error { _, err := Await[int](c, nil); return err }, ErrInvalidState},
		{"Await of a nil *Future", func(c *Ctx, e *env) error { _, err := Await[int](c, (*Future[int])(nil)); return err }, ErrInvalidState},
		{"Await of a nil *Task", func(c *Ctx, e *env) error { _, err := Await[int](c, (*Task[int])(nil)); return err }, ErrInvalidState},
		{"Wait in a task", func(c *Ctx, e *env) error { _, err := e.f.Wait(context.Background()); return err }, ErrOnLoop},
		{"Wait of a task in a task", func(c *Ctx, e *env) error { _, err := e.self.Wait(context.Background()); return err }, ErrOnLoop},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := fxLoop(t)
			e := &env{l: l, f: NewFuture[int](l), t: t}
			otherStarted := false
			other, err := Spawn(l, func(c *Ctx) (int, error) {
				e.other = c
				otherStarted = true
				return Await[int](c, e.f)
			})
			if err != nil {
				t.Fatal(err)
			}
			l.RunUntil(func() bool { return otherStarted })
			var opErr, afterErr error
			e.self, err = Spawn(l, func(c *Ctx) (int, error) {
				opErr = tc.op(c, e)
				// The misuse changed nothing: the task still works.
				afterErr = Yield(c)
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
			fxIterate(t, l, func() { e.f.SetResult(3) })
			l.RunUntil(other.IsDone)
			if v, err := other.Result(); v != 3 || err != nil {
				t.Fatalf("other task outcome %d, %v", v, err)
			}
		})
	}
}

func TestAwaitOutsideTask(t *testing.T) {
	l := fxLoop(t)
	stop := fxGoLoop(t, l)
	defer stop()
	f := NewFuture[int](l)
	ctxc := make(chan *Ctx, 1)
	errc := make(chan error, 3)
	curc := make(chan AnyTask, 1)
	task, err := Spawn(l, func(c *Ctx) (int, error) {
		ctxc <- c
		// From a loop callback.
		l.CallSoon(func() {
			_, err := Await[int](c, f)
			errc <- err
			errc <- Sleep(c, time.Millisecond)
			errc <- Yield(c)
			curc <- l.CurrentTask()
		})
		return Await[int](c, f)
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := <-ctxc
	for range 3 {
		if err := <-errc; !errors.Is(err, ErrNotInTask) {
			t.Fatalf("from a callback: %v, want ErrNotInTask", err)
		}
	}
	if cur := <-curc; cur != nil {
		t.Fatalf("CurrentTask in a callback = %v, want nil", cur)
	}

	// From a plain goroutine, while the loop runs.
	go func() {
		_, err := Await[int](ctx, f)
		errc <- err
		errc <- Sleep(ctx, time.Millisecond)
		errc <- Yield(ctx)
	}()
	for range 3 {
		if err := <-errc; !errors.Is(err, ErrNotInTask) {
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

func TestAwaitTasksAndFutures(t *testing.T) {
	l := fxLoop(t)
	boom := errors.New("boom")
	var got []string
	fxRunTask(t, l, func(c *Ctx) (int, error) {
		ok, _ := Spawn(l, func(c *Ctx) (int, error) { Sleep(c, time.Millisecond); return 1, nil })
		bad, _ := Spawn(l, func(c *Ctx) (int, error) { Yield(c); return 2, boom })
		cancelled, _ := Spawn(l, func(c *Ctx) (int, error) { return Await[int](c, NewFuture[int](l)) })
		f := NewFuture[int](l)
		l.CallSoon(func() { f.SetResult(4) })
		for _, a := range []Awaitable[int]{ok, bad, f} {
			v, err := Await(c, a)
			got = append(got, fmt.Sprint(v, err))
		}
		Yield(c)
		cancelled.Cancel(errors.New("why"))
		v, err := Await(c, cancelled)
		got = append(got, fmt.Sprint(v, Cause(err)))
		// A done future: returned at once, again and again.
		for range 2 {
			v, err := Await(c, f)
			got = append(got, fmt.Sprint(v, err))
		}
		return 0, nil
	})
	want := "1 <nil>|2 boom|4 <nil>|0 why|4 <nil>|4 <nil>"
	if s := strings.Join(got, "|"); s != want {
		t.Fatalf("got %s, want %s", s, want)
	}
}

func TestAwaitDoneFutureDoesNotSuspend(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	var order []string
	fxRunTask(t, l, func(c *Ctx) (int, error) {
		f.SetResult(1)
		l.CallSoon(func() { order = append(order, "callback") })
		Await(c, f)
		order = append(order, "after await")
		Yield(c)
		return 0, nil
	})
	if s := strings.Join(order, ","); s != "after await,callback" {
		t.Fatalf("order %s: Await of a done future suspended", s)
	}
}

func TestYieldAlternates(t *testing.T) {
	l := fxLoop(t)
	var log []string
	body := func(name string) func(c *Ctx) (int, error) {
		return func(c *Ctx) (int, error) {
			for i := range 3 {
				log = append(log, fmt.Sprint(name, i))
				if err := Yield(c); err != nil {
					return 0, err
				}
			}
			return 0, nil
		}
	}
	a, _ := Spawn(l, body("a"))
	b, _ := Spawn(l, body("b"))
	l.RunUntil(func() bool { return a.IsDone() && b.IsDone() })
	if s := strings.Join(log, ","); s != "a0,b0,a1,b1,a2,b2" {
		t.Fatalf("order %s", s)
	}
}

func TestSleepDuration(t *testing.T) {
	l := fxLoop(t)
	var elapsed []time.Duration
	var errs []error
	fxRunTask(t, l, func(c *Ctx) (int, error) {
		for _, d := range []time.Duration{3 * time.Millisecond, 0, -time.Second, time.Microsecond} {
			start := time.Now()
			errs = append(errs, Sleep(c, d))
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

func TestSleepOrder(t *testing.T) {
	l := fxLoop(t)
	var log []int
	var tasks []*Task[int]
	for _, ms := range []int{4, 1, 3, 2} {
		task, _ := Spawn(l, func(c *Ctx) (int, error) {
			if err := Sleep(c, time.Duration(ms)*time.Millisecond); err != nil {
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

func TestTaskCancelSuspended(t *testing.T) {
	cause := errors.New("stop now")
	cases := []struct {
		name    string
		suspend func(c *Ctx, f *Future[int]) error
	}{
		{"Await", func(c *Ctx, f *Future[int]) error { _, err := Await(c, f); return err }},
		{"Sleep", func(c *Ctx, f *Future[int]) error { return Sleep(c, time.Hour) }},
		{"Yield", func(c *Ctx, f *Future[int]) error {
			for {
				if err := Yield(c); err != nil {
					return err
				}
			}
		}},
		{"Gather", func(c *Ctx, f *Future[int]) error { _, err := Gather[Awaitable[int]](c, f); return err }},
		{"GatherAll", func(c *Ctx, f *Future[int]) error { _, _, err := GatherAll[Awaitable[int]](c, f); return err }},
		{"nested Await", func(c *Ctx, f *Future[int]) error {
			var deep func(n int) error
			deep = func(n int) error {
				if n == 0 {
					_, err := Await(c, f)
					return err
				}
				return deep(n - 1)
			}
			return deep(20)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := fxLoop(t)
			f := NewFuture[int](l)
			var suspErr error
			started := false
			task, _ := Spawn(l, func(c *Ctx) (int, error) {
				started = true
				suspErr = tc.suspend(c, f)
				return 0, suspErr
			})
			l.RunUntil(func() bool { return started })
			fxIterate(t, l, nil)
			if task.IsDone() {
				t.Fatal("task ended early")
			}
			var ok bool
			fxIterate(t, l, func() { ok = task.Cancel(cause) })
			if !ok {
				t.Fatal("Cancel of a suspended task reported false")
			}
			l.RunUntil(task.IsDone)
			var ce *CanceledError
			if !errors.As(suspErr, &ce) || ce.Cause != cause {
				t.Fatalf("suspension returned %v, want *CanceledError with the cause", suspErr)
			}
			if !errors.Is(suspErr, context.Canceled) || !errors.Is(suspErr, cause) {
				t.Fatalf("%v does not match context.Canceled and its cause", suspErr)
			}
			if !task.Canceled() || Cause(task.Err()) != cause {
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

func TestTaskCancelBeforeStart(t *testing.T) {
	cause := errors.New("never mind")
	for _, from := range []string{"loop", "goroutine"} {
		t.Run(from, func(t *testing.T) {
			l := fxLoop(t)
			ran := false
			body := func(c *Ctx) (int, error) { ran = true; return 1, nil }
			var task *Task[int]
			var ok bool
			if from == "loop" {
				fxIterate(t, l, func() {
					task, _ = Spawn(l, body)
					ok = task.Cancel(cause)
				})
			} else {
				task, _ = Spawn(l, body)
				ok = task.Cancel(cause)
			}
			if !ok {
				t.Fatal("Cancel of a new task reported false")
			}
			l.RunUntil(task.IsDone)
			if ran {
				t.Fatal("the body of a task cancelled before it started ran")
			}
			if !task.Canceled() || Cause(task.Err()) != cause {
				t.Fatalf("Cancelled=%v Err=%v", task.Canceled(), task.Err())
			}
		})
	}
}

func TestTaskCancelFromGoroutine(t *testing.T) {
	l := fxLoop(t)
	stop := fxGoLoop(t, l)
	defer stop()
	started := make(chan struct{})
	task, err := Spawn(l, func(c *Ctx) (int, error) {
		close(started)
		return 0, Sleep(c, time.Hour)
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if !task.Cancel(ErrInterrupted) {
		t.Fatal("Cancel from a goroutine reported false")
	}
	_, err = task.Wait(context.Background())
	if !errors.Is(err, ErrInterrupted) || !task.Canceled() {
		t.Fatalf("Wait = %v, Cancelled=%v", err, task.Canceled())
	}
	if task.Cancel(nil) {
		t.Fatal("Cancel of a done task from a goroutine reported true")
	}
}

func TestTaskBodyReturnsCancellation(t *testing.T) {
	cases := []struct {
		name          string
		err           error
		wantCancelled bool
	}{
		{"context.Canceled", context.Canceled, true},
		{"wrapped context.Canceled", fmt.Errorf("op: %w", context.Canceled), true},
		{"CanceledError", &CanceledError{Cause: errors.New("c")}, true},
		{"DeadlineExceeded", context.DeadlineExceeded, false},
		{"other", errors.New("other"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := fxLoop(t)
			task := fxRunTask(t, l, func(c *Ctx) (int, error) { return 0, tc.err })
			if task.Canceled() != tc.wantCancelled {
				t.Fatalf("Cancelled = %v, want %v", task.Canceled(), tc.wantCancelled)
			}
			if task.Err() != tc.err {
				t.Fatalf("Err = %v, want %v", task.Err(), tc.err)
			}
		})
	}
}

func TestTaskHandlesCancellation(t *testing.T) {
	l := fxLoop(t)
	var counts []int
	var errs []error
	task, _ := Spawn(l, func(c *Ctx) (int, error) {
		errs = append(errs, Sleep(c, time.Hour))
		counts = append(counts, c.Task().Cancelling())
		// The cancellation was delivered once: later suspensions work.
		errs = append(errs, Sleep(c, time.Microsecond))
		errs = append(errs, Yield(c))
		return 11, nil
	})
	fxIterate(t, l, nil)
	fxIterate(t, l, func() { task.Cancel(nil) })
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

func TestTaskSelfCancel(t *testing.T) {
	l := fxLoop(t)
	cause := errors.New("self")
	var ok bool
	task := fxRunTask(t, l, func(c *Ctx) (int, error) {
		ok = c.Task().Cancel(cause)
		return 0, Yield(c)
	})
	if !ok || !task.Canceled() || Cause(task.Err()) != cause {
		t.Fatalf("ok=%v Cancelled=%v Err=%v", ok, task.Canceled(), task.Err())
	}
}

func TestTaskCancelledBeforeAwaitOfDoneFuture(t *testing.T) {
	// The documented rule: a cancellation requested before Await is
	// returned by it, even when the awaited future is done.
	l := fxLoop(t)
	f := NewFuture[int](l)
	var err error
	fxRunTask(t, l, func(c *Ctx) (int, error) {
		f.SetResult(1)
		c.Task().Cancel(nil)
		_, err = Await(c, f)
		return 0, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Await = %v, want the pending cancellation", err)
	}
}

func TestTaskCancellingUncancel(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	task, _ := Spawn(l, func(c *Ctx) (int, error) { return Await(c, f) })
	fxIterate(t, l, nil) // suspended in Await
	var steps []int
	fxIterate(t, l, func() {
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
		fxIterate(t, l, nil)
	}
	if task.IsDone() {
		t.Fatalf("a withdrawn cancellation was delivered: %v", task.Err())
	}
	fxIterate(t, l, func() { f.SetResult(8) })
	l.RunUntil(task.IsDone)
	if v, err := task.Result(); v != 8 || err != nil {
		t.Fatalf("task outcome %d, %v", v, err)
	}

	// With one request left, the cancellation is still delivered with the
	// latest cause.
	g := NewFuture[int](l)
	task2, _ := Spawn(l, func(c *Ctx) (int, error) { return Await(c, g) })
	fxIterate(t, l, nil)
	fxIterate(t, l, func() {
		task2.Cancel(errors.New("first"))
		task2.Cancel(errors.New("second"))
		task2.Uncancel()
	})
	l.RunUntil(task2.IsDone)
	if !task2.Canceled() || Cause(task2.Err()).Error() != "second" {
		t.Fatalf("Cancelled=%v Err=%v", task2.Canceled(), task2.Err())
	}
}

func TestTaskLoopOnlyMethodsPanicOffLoop(t *testing.T) {
	l := fxLoop(t)
	task, _ := Spawn(l, func(c *Ctx) (int, error) { return 0, nil })
	for name, fn := range map[string]func(){
		"Cancelling": func() { task.Cancelling() },
		"Uncancel":   func() { task.Uncancel() },
		"Tasks":      func() { l.Tasks() },
	} {
		func() {
			defer func() {
				r := recover()
				err, _ := r.(error)
				if !errors.Is(err, ErrNotOnLoop) {
					t.Errorf("%s off the loop: recovered %v, want a panic with ErrNotOnLoop", name, r)
				}
			}()
			fn()
		}()
	}
	if _, err := task.AddDoneCallback(func() {}); !errors.Is(err, ErrNotOnLoop) {
		t.Errorf("AddDoneCallback off the loop: %v", err)
	}
	l.RunUntil(task.IsDone)
}

func TestTaskAddDoneCallback(t *testing.T) {
	l := fxLoop(t)
	var log []string
	task, _ := Spawn(l, func(c *Ctx) (int, error) {
		log = append(log, "body")
		return 0, Yield(c)
	})
	fxIterate(t, l, func() {
		task.AddDoneCallback(func() { log = append(log, "cb1") })
		rm, _ := task.AddDoneCallback(func() { log = append(log, "removed") })
		task.AddDoneCallback(func() { log = append(log, "cb2") })
		rm()
		if _, err := task.AddDoneCallback(nil); !errors.Is(err, ErrNilFunc) {
			t.Errorf("AddDoneCallback(nil) = %v", err)
		}
	})
	l.RunUntil(task.IsDone)
	fxIterate(t, l, nil)
	fxIterate(t, l, nil)
	if s := strings.Join(log, ","); s != "body,cb1,cb2" {
		t.Fatalf("log %s", s)
	}
}

// fxPanickingHelper panics; its name must appear in the task's PanicError.
func fxPanickingHelper(v any) {
	panic(v)
}

func TestTaskPanic(t *testing.T) {
	l := fxLoop(t)
	rep := fxRecord(l)
	sentinel := errors.New("sentinel")
	p1 := fxRunTask(t, l, func(c *Ctx) (int, error) {
		Yield(c)
		fxPanickingHelper("bad thing")
		return 1, nil
	})
	var pe *PanicError
	if !errors.As(p1.Err(), &pe) {
		t.Fatalf("Err = %T %v, want *PanicError", p1.Err(), p1.Err())
	}
	if pe.Value != "bad thing" || !strings.Contains(pe.Error(), "bad thing") {
		t.Fatalf("PanicError %v", pe)
	}
	if !strings.Contains(string(pe.Stack), "fxPanickingHelper") {
		t.Fatalf("Stack does not show the panicking function:\n%s", pe.Stack)
	}
	if p1.Canceled() {
		t.Fatal("a panicked task reports Cancelled")
	}
	p2 := fxRunTask(t, l, func(c *Ctx) (int, error) { panic(sentinel) })
	if !errors.Is(p2.Err(), sentinel) {
		t.Fatalf("panic(err): task error %v does not unwrap to err", p2.Err())
	}
	// panic(context.Canceled) is a failure of a panicking body, reported as
	// a *PanicError; the loop keeps running either way.
	ok := fxRunTask(t, l, func(c *Ctx) (int, error) { Yield(c); return 5, nil })
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
	l, err := NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	rep := fxRecord(l)
	var unwound []error
	var others []*Task[int]
	for range 20 {
		other, _ := Spawn(l, func(c *Ctx) (int, error) {
			err := Sleep(c, time.Hour)
			unwound = append(unwound, err)
			return 0, err
		})
		others = append(others, other)
	}
	task, _ := Spawn(l, func(c *Ctx) (int, error) {
		Yield(c)
		runtime.Goexit()
		return 0, nil
	})
	if err := l.RunUntil(func() bool { return false }); !errors.Is(err, ErrClosed) {
		t.Fatalf("RunUntil after a task called runtime.Goexit = %v, want ErrClosed", err)
	}
	if !l.IsClosed() || !fxClosed(l.Closed()) {
		t.Fatal("the loop is not closed after its goroutine exited")
	}
	if !task.IsDone() || task.Err() == nil {
		t.Fatalf("the Goexit task: done=%v err=%v", task.IsDone(), task.Err())
	}
	if len(unwound) != len(others) {
		t.Fatalf("%d of %d suspended tasks were unwound", len(unwound), len(others))
	}
	for _, other := range others {
		if !other.IsDone() || !errors.Is(other.Err(), ErrClosed) {
			t.Fatalf("an abandoned task: done=%v err=%v, want cancelled with ErrClosed", other.IsDone(), other.Err())
		}
	}
	reports := rep.all()
	if len(reports) == 0 || !errors.Is(reports[0].Err, ErrClosed) {
		t.Fatalf("reports %+v, want one matching ErrClosed", reports)
	}
	if err := l.RunForever(); !errors.Is(err, ErrClosed) {
		t.Fatalf("RunForever after the loop was abandoned = %v, want ErrClosed", err)
	}
	if _, err := Spawn(l, func(c *Ctx) (int, error) { return 0, nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Spawn after the loop was abandoned = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close of an abandoned loop = %v", err)
	}
	fxNoGoroutinesBeyond(t, before)
}

func TestTaskCloseUnwindsSuspended(t *testing.T) {
	l, err := NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	f := NewFuture[int](l)
	var errs []error
	cleaned := false
	suspended, _ := Spawn(l, func(c *Ctx) (int, error) {
		_, err := Await(c, f)
		errs = append(errs, err)
		// Every later suspension fails the same way; the body runs on.
		errs = append(errs, Sleep(c, time.Hour))
		errs = append(errs, Yield(c))
		_, err = Await(c, NewFuture[int](l))
		errs = append(errs, err)
		cleaned = true
		return 0, err
	})
	sleeper, _ := Spawn(l, func(c *Ctx) (int, error) { return 0, Sleep(c, time.Hour) })
	fxIterate(t, l, nil) // both suspended
	var notStarted *Task[int]
	ran := false
	fxIterate(t, l, func() {
		notStarted, _ = Spawn(l, func(c *Ctx) (int, error) { ran = true; return 0, nil })
	})
	// Close from the goroutine that ran the loop unwinds them.
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !cleaned || len(errs) != 4 {
		t.Fatalf("the body was not run to its end: cleaned=%v errs=%v", cleaned, errs)
	}
	for i, err := range errs {
		var ce *CanceledError
		if !errors.As(err, &ce) || !errors.Is(err, ErrClosed) || !errors.Is(err, context.Canceled) {
			t.Fatalf("suspension %d after Close returned %v, want *CanceledError wrapping ErrClosed", i, err)
		}
	}
	if ran {
		t.Fatal("a task that had not started ran during Close")
	}
	for _, task := range []*Task[int]{suspended, sleeper, notStarted} {
		if !task.IsDone() || !task.Canceled() || !errors.Is(task.Err(), ErrClosed) {
			t.Fatalf("%v after Close: done=%v cancelled=%v err=%v", task, task.IsDone(), task.Canceled(), task.Err())
		}
	}
	// Awaiting with a Ctx of the closed loop fails with the same error.
	if _, err := Await[int](&suspended.c, f); !errors.Is(err, ErrClosed) {
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
		l, err := NewLoop()
		if err != nil {
			t.Fatal(err)
		}
		var tasks []*Task[int]
		for range 20 {
			task, _ := Spawn(l, func(c *Ctx) (int, error) { return 0, Sleep(c, time.Hour) })
			tasks = append(tasks, task)
		}
		ran := make(chan error)
		go func() { ran <- l.RunUntil(func() bool { return len(l.tasks.all()) == 20 && !tasks[19].c.woken }) }()
		if err := <-ran; err != nil {
			t.Fatal(err)
		}
		// The goroutine that ran the loop has exited; close from here.
		if err := l.Close(); err != nil {
			t.Fatalf("Close from another goroutine with suspended tasks = %v", err)
		}
		for _, task := range tasks {
			if !task.IsDone() || !errors.Is(task.Err(), ErrClosed) {
				t.Fatalf("a suspended task after Close: done=%v err=%v", task.IsDone(), task.Err())
			}
		}
	}
	fxNoGoroutinesBeyond(t, before)
}

func TestTaskKeptAliveByLoop(t *testing.T) {
	l := fxLoop(t)
	var done atomic.Int32
	var collected atomic.Bool
	for range 10 {
		func() {
			task, err := Spawn(l, func(c *Ctx) (int, error) {
				if err := Sleep(c, 2*time.Millisecond); err != nil {
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
	fxIterate(t, l, nil) // all started and sleeping; nobody holds them but the loop
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

func TestTaskUnretrievedErrorsReported(t *testing.T) {
	l := fxLoop(t)
	rep := fxRecord(l)
	boom := errors.New("boom")
	fail := func(c *Ctx) (int, error) { Yield(c); return 0, boom }
	unretrieved, _ := Spawn(l, fail, WithName("unretrieved"))
	panicked, _ := Spawn(l, func(c *Ctx) (int, error) { panic("p") }, WithName("panicked"))
	retrieved, _ := Spawn(l, fail, WithName("retrieved"))
	awaited, _ := Spawn(l, fail, WithName("awaited"))
	cancelled, _ := Spawn(l, func(c *Ctx) (int, error) { return 0, Sleep(c, time.Hour) }, WithName("cancelled"))
	Spawn(l, func(c *Ctx) (int, error) { return 1, nil }, WithName("ok"))
	Spawn(l, func(c *Ctx) (int, error) {
		Await(c, awaited)
		cancelled.Cancel(nil)
		return 0, nil
	}, WithName("awaiter"))
	l.RunUntil(func() bool { return retrieved.IsDone() && cancelled.IsDone() && unretrieved.IsDone() })
	retrieved.Result()
	if r := rep.all(); len(r) != 0 {
		t.Fatalf("reported before Shutdown: %+v", r)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	got := map[string]ErrorContext{}
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
	var pe *PanicError
	if r, ok := got["panicked"]; !ok || !errors.As(r.Err, &pe) || r.Task != AnyTask(panicked) {
		t.Fatalf("panicked: %+v", r)
	}
}

func TestCurrentTaskAndTasks(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	var cur AnyTask
	var live []AnyTask
	waiter, _ := Spawn(l, func(c *Ctx) (int, error) { return Await(c, f) }, WithName("waiter"))
	finished, _ := Spawn(l, func(c *Ctx) (int, error) { return 0, nil }, WithName("finished"))
	me, _ := Spawn(l, func(c *Ctx) (int, error) {
		Yield(c)
		cur = l.CurrentTask()
		live = l.Tasks()
		return 0, nil
	}, WithName("me"))
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
	var after []AnyTask
	fxIterate(t, l, func() { after = l.Tasks() })
	if len(after) != 1 || after[0].ID() != waiter.ID() {
		t.Fatalf("Tasks() after = %v", after)
	}
	if l.CurrentTask() != nil {
		t.Fatal("CurrentTask with the loop idle is not nil")
	}
	fxIterate(t, l, func() { f.SetResult(1) })
	l.RunUntil(waiter.IsDone)
}

func TestTaskWaitFromGoroutines(t *testing.T) {
	l := fxLoop(t)
	stop := fxGoLoop(t, l)
	defer stop()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			task, err := Spawn(l, func(c *Ctx) (int, error) {
				if err := Sleep(c, time.Duration(i%3)*time.Millisecond); err != nil {
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
	task, _ := Spawn(l, func(c *Ctx) (int, error) { return 0, Sleep(c, time.Hour) })
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

func TestTaskBodiesRunOnLoopThread(t *testing.T) {
	ltNeedTid(t)
	l := fxLoop(t)
	var loopTid int
	var tids []int
	var mu sync.Mutex // bodies run on the loop; the lock only documents it
	record := func() {
		mu.Lock()
		tids = append(tids, fxGettid())
		mu.Unlock()
	}
	l.CallSoon(func() { loopTid = fxGettid() })
	var tasks []*Task[int]
	for i := range 6 {
		task, _ := Spawn(l, func(c *Ctx) (int, error) {
			record()
			for j := range 3 {
				var err error
				switch (i + j) % 3 {
				case 0:
					err = Yield(c)
				case 1:
					err = Sleep(c, 100*time.Microsecond)
				case 2:
					child, _ := Spawn(l, func(c *Ctx) (int, error) { record(); Yield(c); record(); return 0, nil })
					_, err = Await(c, child)
				}
				if err != nil {
					return 0, err
				}
				record()
				runtime.Gosched()
				record()
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

// A cancellation withdrawn with Uncancel before it was delivered still wakes
// the task; the suspension it woke must go on waiting.

func TestSleepNotCutShortByWithdrawnCancel(t *testing.T) {
	l := fxLoop(t)
	const d = 20 * time.Millisecond
	var slept time.Duration
	var sleepErr error
	task, _ := Spawn(l, func(c *Ctx) (int, error) {
		start := time.Now()
		sleepErr = Sleep(c, d)
		slept = time.Since(start)
		return 0, nil
	})
	fxIterate(t, l, nil) // sleeping
	fxIterate(t, l, func() {
		task.Cancel(nil)
		task.Uncancel()
	})
	l.RunUntil(task.IsDone)
	if sleepErr != nil {
		t.Fatalf("Sleep = %v", sleepErr)
	}
	if slept < d {
		t.Fatalf("Sleep(%v) returned after %v: a withdrawn cancellation cut it short", d, slept)
	}
}

func TestAwaitWithdrawnCancelsKeepOneWaiter(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	task, _ := Spawn(l, func(c *Ctx) (int, error) { return Await(c, f) })
	fxIterate(t, l, nil) // suspended in Await
	for range 5 {
		fxIterate(t, l, func() {
			task.Cancel(nil)
			task.Uncancel()
		})
		fxIterate(t, l, nil)
	}
	if task.IsDone() {
		t.Fatalf("task ended: %v", task.Err())
	}
	var n int
	fxIterate(t, l, func() {
		for w := f.waiters.head; w != nil; w = w.next {
			n++
		}
	})
	if n != 1 {
		t.Fatalf("the future holds %d waiters for one suspended Await, want 1", n)
	}
	fxIterate(t, l, func() { f.SetResult(4) })
	l.RunUntil(task.IsDone)
	if v, err := task.Result(); v != 4 || err != nil {
		t.Fatalf("task outcome %d, %v", v, err)
	}
}

func TestGatherNotCutShortByWithdrawnCancel(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	var results []int
	task, _ := Spawn(l, func(c *Ctx) (int, error) {
		var err error
		results, err = Gather[Awaitable[int]](c, f)
		return 0, err
	})
	fxIterate(t, l, nil)
	fxIterate(t, l, func() { task.Cancel(nil); task.Uncancel() })
	fxIterate(t, l, nil)
	fxIterate(t, l, nil)
	if task.IsDone() {
		t.Fatalf("Gather returned before its future was done: %v, %v", results, task.Err())
	}
	fxIterate(t, l, func() { f.SetResult(2) })
	l.RunUntil(task.IsDone)
	if fmt.Sprint(results) != "[2]" || task.Err() != nil {
		t.Fatalf("Gather = %v, %v", results, task.Err())
	}
}

func TestSleepForever(t *testing.T) {
	l := fxLoop(t)
	rep := fxRecord(l)
	task, _ := Spawn(l, func(c *Ctx) (int, error) { return 0, Sleep(c, time.Duration(1<<63-1)) })
	fxIterate(t, l, nil)
	timer := time.AfterFunc(2*time.Millisecond, func() { task.Cancel(ErrInterrupted) })
	defer timer.Stop()
	l.RunUntil(task.IsDone)
	if Cause(task.Err()) != ErrInterrupted {
		t.Fatalf("task error %v", task.Err())
	}
	if r := rep.all(); len(r) != 0 {
		t.Fatalf("reports %+v", r)
	}
}

func TestStaleAwaitWaiterDoesNotWakeLaterSleep(t *testing.T) {
	// Await(f) is woken by a cancellation that is withdrawn, then cancelled
	// for real; the body handles that and sleeps. Completing f later must
	// not wake the sleep: Await must leave no waiter of its own on f.
	l := fxLoop(t)
	f := NewFuture[int](l)
	const d = 20 * time.Millisecond
	var awaitErr, sleepErr error
	var slept time.Duration
	task, _ := Spawn(l, func(c *Ctx) (int, error) {
		_, awaitErr = Await(c, f)
		start := time.Now()
		sleepErr = Sleep(c, d)
		slept = time.Since(start)
		return 0, nil
	})
	fxIterate(t, l, nil)
	fxIterate(t, l, func() { task.Cancel(nil); task.Uncancel() })
	fxIterate(t, l, nil)
	fxIterate(t, l, func() { task.Cancel(nil) })
	fxIterate(t, l, nil) // Await returned the cancellation; the task sleeps
	fxIterate(t, l, func() { f.SetResult(1) })
	l.RunUntil(task.IsDone)
	if !errors.Is(awaitErr, context.Canceled) {
		t.Fatalf("Await = %v, want the cancellation", awaitErr)
	}
	if sleepErr != nil || slept < d {
		t.Fatalf("Sleep(%v) = %v after %v: woken by a stale waiter of the earlier Await", d, sleepErr, slept)
	}
}

// A task that Close unwinds cannot schedule more work: the loop is closed,
// so its CallSoon and Spawn fail with ErrClosed rather than queue work that
// will never run.
func TestUnwoundTaskCannotSchedule(t *testing.T) {
	l, err := NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	var callErr, spawnErr error
	Spawn(l, func(c *Ctx) (int, error) {
		err := Sleep(c, time.Hour)
		_, callErr = l.CallSoon(func() {})
		_, spawnErr = Spawn(l, func(*Ctx) (int, error) { return 0, nil })
		return 0, err
	})
	l.CallLater(time.Millisecond, func() { l.Stop() })
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil { // on the goroutine that ran it: unwinds
		t.Fatal(err)
	}
	if !errors.Is(callErr, ErrClosed) {
		t.Errorf("CallSoon during unwinding: %v, want ErrClosed", callErr)
	}
	if !errors.Is(spawnErr, ErrClosed) {
		t.Errorf("Spawn during unwinding: %v, want ErrClosed", spawnErr)
	}
}
