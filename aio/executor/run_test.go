package executor_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/executor"
)

// Run returns the function's result, and its error, to the awaiting task.
func TestRunResultAndError(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		v, err := executor.Run(c, func(context.Context) (int, error) { return 42, nil })
		if v != 42 || err != nil {
			t.Errorf("Run = %v, %v; want 42, nil", v, err)
		}
		_, err = executor.Run(c, func(context.Context) (int, error) { return 0, errBoom })
		if !errors.Is(err, errBoom) {
			t.Errorf("Run error = %v; want errBoom", err)
		}
		if s := executor.StatsOf(c.Loop()); s.Submitted != 2 || s.Delivered != 2 || s.Started != 2 {
			t.Errorf("stats %+v", s)
		}
		return nil
	})
}

func panicky(context.Context) (int, error) { panic(errBoom) }

// A panic in the function becomes a *aio.PanicError whose stack names the
// function, and which unwraps to the panic value when it is an error.
func TestRunPanic(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		_, err := executor.Run(c, panicky)
		var pe *aio.PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("Run error = %v; want a *aio.PanicError", err)
		}
		if !errors.Is(err, errBoom) || !strings.Contains(string(pe.Stack), "executor_test.panicky") {
			t.Errorf("PanicError %v, stack:\n%s", pe, pe.Stack)
		}
		return nil
	})
}

// Cancelling the awaiting task while the function runs cancels the
// function's context (context.Canceled) and returns the cancellation to the
// task at once, while the function still runs; its late result is dropped
// and counted.
func TestRunCancelWhileRunning(t *testing.T) {
	started, release, finished := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var seen atomic.Value
	run(t, func(c *aio.Ctx) error {
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			return executor.Run(c, func(ctx context.Context) (int, error) {
				close(started)
				<-ctx.Done()
				seen.Store(ctx.Err())
				<-release
				close(finished)
				return 1, nil
			})
		})
		if !waitUntil(c, func() bool {
			select {
			case <-started:
				return true
			default:
				return false
			}
		}) {
			t.Fatal("the function did not start")
		}
		task.Cancel(nil)
		_, err := aio.Await(c, task)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("task error = %v; want a cancellation", err)
		}
		select {
		case <-finished:
			t.Error("the task's cancellation waited for the function")
		default:
		}
		if !waitUntil(c, func() bool { return seen.Load() != nil }) || seen.Load() != context.Canceled {
			t.Errorf("fn saw ctx.Err() = %v; want context.Canceled", seen.Load())
		}
		close(release)
		waitUntil(c, func() bool { return executor.StatsOf(c.Loop()).Late == 1 })
		if s := executor.StatsOf(c.Loop()); s.Late != 1 || s.Delivered != 0 {
			t.Errorf("stats %+v; want one late result", s)
		}
		return nil
	})
}

// A call cancelled while it waits for a free worker never runs its
// function.
func TestRunCancelWhileQueued(t *testing.T) {
	release := make(chan struct{})
	var ran atomic.Bool
	run(t, func(c *aio.Ctx) error {
		l := c.Loop()
		executor.SetPoolSize(l, 1)
		blocker, _ := executor.Go(c, func(context.Context) (int, error) { <-release; return 0, nil })
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			return executor.Run(c, func(context.Context) (int, error) { ran.Store(true); return 1, nil })
		})
		e, _ := executor.Default(l)
		p := e.(*executor.Pool)
		if !waitUntil(c, func() bool { return p.Len() == 1 }) {
			t.Fatalf("the second call is not queued: Len %d", p.Len())
		}
		task.Cancel(nil)
		if _, err := aio.Await(c, task); !errors.Is(err, context.Canceled) {
			t.Errorf("task error = %v; want a cancellation", err)
		}
		close(release)
		if _, err := aio.Await(c, blocker); err != nil {
			t.Error(err)
		}
		waitUntil(c, func() bool { return executor.StatsOf(l).Skipped == 1 })
		if ran.Load() || executor.StatsOf(l).Skipped != 1 {
			t.Errorf("ran %v, stats %+v; want the queued function skipped", ran.Load(), executor.StatsOf(l))
		}
		return nil
	})
}

// With FailFast, a call on a full pool fails at once with ErrFull; without
// it, it waits its turn and runs.
func TestFailFast(t *testing.T) {
	release := make(chan struct{})
	run(t, func(c *aio.Ctx) error {
		executor.SetPoolSize(c.Loop(), 1)
		blocker, _ := executor.Go(c, func(context.Context) (int, error) { <-release; return 0, nil })
		_, err := executor.Run(c, func(context.Context) (int, error) { return 1, nil }, executor.FailFast())
		if !errors.Is(err, executor.ErrFull) {
			t.Errorf("FailFast on a full pool: %v; want ErrFull", err)
		}
		waiting, _ := executor.Go(c, func(context.Context) (int, error) { return 2, nil })
		close(release)
		if v, err := aio.Await(c, waiting); v != 2 || err != nil {
			t.Errorf("queued call = %v, %v", v, err)
		}
		aio.Await(c, blocker)
		return nil
	})
}

// Bad input: a nil function, a nil executor, a nil *Ctx, and a Ctx used
// from outside its task are refused with clear errors, and nothing runs.
func TestBadInput(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		if _, err := executor.Run[int](c, nil); !errors.Is(err, aio.ErrNilFunc) {
			t.Errorf("Run(nil) = %v; want ErrNilFunc", err)
		}
		if _, err := executor.Go[int](c, nil); !errors.Is(err, aio.ErrNilFunc) {
			t.Errorf("Go(nil) = %v; want ErrNilFunc", err)
		}
		fn := func(context.Context) (int, error) { return 1, nil }
		if _, err := executor.Run(c, fn, executor.WithExecutor(nil)); !errors.Is(err, aio.ErrNilFunc) {
			t.Errorf("WithExecutor(nil) = %v; want ErrNilFunc", err)
		}
		if _, err := executor.Run(nil, fn); !errors.Is(err, aio.ErrNotInTask) {
			t.Errorf("Run(nil Ctx) = %v; want ErrNotInTask", err)
		}
		errc := make(chan error)
		go func() { _, err := executor.Run(c, fn); errc <- err }()
		var err error
		waitUntil(c, func() bool {
			select {
			case err = <-errc:
				return true
			default:
				return false
			}
		})
		if !errors.Is(err, aio.ErrNotInTask) {
			t.Errorf("Run from another goroutine = %v; want ErrNotInTask", err)
		}
		if s := executor.StatsOf(c.Loop()); s.Submitted != 0 {
			t.Errorf("stats %+v; want nothing submitted", s)
		}
		return nil
	})
}

// counting is an Executor that counts its submissions and runs each on a
// goroutine of its own, which it waits for in wait.
type counting struct {
	n    atomic.Int64
	done chan struct{}
}

func newCounting() *counting { return &counting{done: make(chan struct{}, 100)} }

func (e *counting) Submit(task func()) error {
	e.n.Add(1)
	go func() { task(); e.done <- struct{}{} }()
	return nil
}

func (e *counting) wait(t *testing.T) {
	for range e.n.Load() {
		waitChan(t, chanOf(e.done))
	}
}

func chanOf(ch chan struct{}) <-chan struct{} {
	out := make(chan struct{})
	go func() { <-ch; close(out) }()
	return out
}

// WithExecutor runs one call on the given executor; SetDefault makes an
// executor the loop's default for the calls that give none.
func TestPerCallAndPerLoopExecutor(t *testing.T) {
	perCall, perLoop := newCounting(), newCounting()
	fn := func(context.Context) (int, error) { return 1, nil }
	run(t, func(c *aio.Ctx) error {
		if v, err := executor.Run(c, fn, executor.WithExecutor(perCall)); v != 1 || err != nil {
			t.Errorf("Run = %v, %v", v, err)
		}
		if err := executor.SetDefault(c.Loop(), perLoop); err != nil {
			t.Error(err)
		}
		if e, _ := executor.Default(c.Loop()); e != perLoop {
			t.Errorf("Default = %v; want the executor set", e)
		}
		executor.Run(c, fn)
		executor.Run(c, fn)
		executor.Run(c, fn, executor.WithExecutor(perCall))
		if perCall.n.Load() != 2 || perLoop.n.Load() != 2 {
			t.Errorf("submissions: per call %d, per loop %d; want 2, 2", perCall.n.Load(), perLoop.n.Load())
		}
		return nil
	})
	perCall.wait(t)
	perLoop.wait(t)
}

// An executor's Submit error is the call's error, wrapped.
func TestSubmitError(t *testing.T) {
	e := executor.ExecutorFunc(func(func()) error { return errBoom })
	run(t, func(c *aio.Ctx) error {
		_, err := executor.Run(c, func(context.Context) (int, error) { return 1, nil }, executor.WithExecutor(e))
		if !errors.Is(err, errBoom) {
			t.Errorf("Run = %v; want the Submit error", err)
		}
		return nil
	})
}

// Go returns a future for Gather; cancelling the future cancels the
// function's context.
func TestGoGatherAndCancel(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var futs []*aio.Future[int]
		for i := range 5 {
			f, err := executor.Go(c, func(context.Context) (int, error) { return i * i, nil })
			if err != nil {
				return err
			}
			futs = append(futs, f)
		}
		res, err := aio.Gather(c, futs...)
		if err != nil || len(res) != 5 || res[4] != 16 {
			t.Errorf("Gather = %v, %v", res, err)
		}
		var cause atomic.Value
		var started atomic.Bool
		f, _ := executor.Go(c, func(ctx context.Context) (int, error) {
			started.Store(true)
			<-ctx.Done()
			cause.Store(context.Cause(ctx))
			return 0, nil
		})
		waitUntil(c, started.Load)
		f.Cancel(nil)
		if !waitUntil(c, func() bool { return cause.Load() != nil }) {
			t.Fatal("the function's context was not cancelled")
		}
		if !errors.Is(cause.Load().(error), context.Canceled) {
			t.Errorf("cause %v", cause.Load())
		}
		return nil
	})
}
