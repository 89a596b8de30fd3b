package executor_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/executor"
)

// The loop's close waits for a function of the default pool that is still
// running: aio.Run returns only after it has returned. The function's
// context is cancelled (cause aio.ErrClosed) by the close.
func TestCloseWaitsForFunctions(t *testing.T) {
	release := make(chan struct{})
	var finished atomic.Bool
	var cause atomic.Value
	cancelled := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		waitChan(t, cancelled)
		close(release)
	})
	run(t, func(c *aio.Ctx) error {
		_, err := executor.Go(c, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			cause.Store(context.Cause(ctx))
			close(cancelled)
			<-release // ignores the cancellation for a while
			finished.Store(true)
			return 0, nil
		})
		return err
	})
	if !finished.Load() {
		t.Error("aio.Run returned before the function did")
	}
	if err, _ := cause.Load().(error); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("the function's context cause = %v; want aio.ErrClosed", err)
	}
	wg.Wait()
}

func outlives(ctx context.Context, release <-chan struct{}) (int, error) {
	<-release
	return 0, nil
}

// A function that outlives the loop's shutdown timeout does not hold the
// close beyond it, and is reported through the error handler, by name, as
// an *UnfinishedError; a function queued behind it is discarded and
// reported too.
func TestCloseTimeoutReportsUnfinished(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{}, 2)
	var reports []aio.ErrorContext
	var ran atomic.Bool
	run(t, func(c *aio.Ctx) error {
		l := c.Loop()
		executor.SetShutdownTimeout(l, 20*time.Millisecond)
		executor.SetPoolSize(l, 1)
		_, err := executor.Go(c, func(ctx context.Context) (int, error) {
			defer func() { done <- struct{}{} }()
			return outlives(ctx, release)
		})
		executor.Go(c, func(ctx context.Context) (int, error) { ran.Store(true); return 0, nil })
		return err
	}, aio.WithErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) { reports = append(reports, ec) }))
	close(release)
	<-done
	if ran.Load() {
		t.Error("the queued function ran")
	}
	if len(reports) != 2 {
		t.Fatalf("%d reports, want 2: %v", len(reports), reports)
	}
	var ue *executor.UnfinishedError
	if !errors.Is(reports[0].Err, executor.ErrUnfinished) || !errors.As(reports[0].Err, &ue) || len(ue.Running) != 1 {
		t.Fatalf("report %v; want an UnfinishedError for a running function", reports[0].Err)
	}
	if !strings.Contains(ue.Running[0].Func, "TestCloseTimeoutReportsUnfinished") || !errors.Is(reports[0].Err, context.DeadlineExceeded) {
		t.Errorf("report %v", reports[0].Err)
	}
	if !errors.As(reports[1].Err, &ue) || len(ue.Queued) != 1 {
		t.Errorf("report %v; want an UnfinishedError for a queued function", reports[1].Err)
	}
}

// A loop that never used the package closes with no executor made, and
// the package keeps nothing of a closed loop: its state is gone and
// setting it fails with aio.ErrClosed.
func TestClosedLoop(t *testing.T) {
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	if err := executor.SetPoolSize(l, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := executor.Default(l); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := executor.SetDefault(l, nil); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("SetDefault on a closed loop = %v; want ErrClosed", err)
	}
	if _, err := executor.Default(l); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Default on a closed loop = %v; want ErrClosed", err)
	}
	if err := executor.SetPoolSize(l, 0); !errors.Is(err, executor.ErrBadSize) {
		t.Errorf("SetPoolSize(0) = %v; want ErrBadSize", err)
	}
}
