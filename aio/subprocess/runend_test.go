//go:build linux

package subprocess_test

import (
	"context"
	"github.com/aiogo/aio/aio/internal/leakcheck"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/executor"
	"github.com/aiogo/aio/aio/subprocess"
)

// Graceful shutdown end to end: aio.Run returns only after the leftover
// task was cancelled and finished its cleanup, the executor function that
// ignores its context has returned, the child still running was killed and
// reaped with its pipes closed, and the signal handler was removed (the
// relay goroutine is gone: goleak in TestMain); no fd is left open.
func TestRunEndsEverything(t *testing.T) {
	before := leakcheck.OpenFDs(t)
	var cleanedUp, fnReturned atomic.Bool
	pid := 0
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		// A leftover task with cleanup to do.
		aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			err := aio.Sleep(c, time.Hour)
			aio.Shielded(c, func(c *aio.Ctx) error { return aio.Sleep(c, time.Millisecond) })
			cleanedUp.Store(true)
			return 0, err
		})
		// An executor function that ignores its context for a while.
		if _, err := executor.Go(c, func(ctx context.Context) (int, error) {
			time.Sleep(20 * time.Millisecond)
			fnReturned.Store(true)
			return 0, nil
		}); err != nil {
			return struct{}{}, err
		}
		// A child that would run for 100 s, its pipes open.
		cmd := subprocess.Command("sleep", "100")
		cmd.Stdin, cmd.Stdout = subprocess.Pipe, subprocess.Pipe
		p, err := cmd.Start(c)
		if err != nil {
			return struct{}{}, err
		}
		pid = p.Pid()
		if _, err := c.Loop().AddSignalHandler(syscall.SIGUSR2, func() {}); err != nil {
			return struct{}{}, err
		}
		return struct{}{}, aio.Yield(c) // let the function start
	}, aio.WithoutInterrupt())
	if err != nil {
		t.Fatal(err)
	}
	if !cleanedUp.Load() || !fnReturned.Load() {
		t.Errorf("after Run: task cleaned up %v, executor function returned %v", cleanedUp.Load(), fnReturned.Load())
	}
	if st := procState(pid); st != 0 {
		t.Errorf("the child %d is still there, state %c", pid, st)
	}
	if after := leakcheck.OpenFDs(t); after != before {
		t.Errorf("fds open: %d before, %d after", before, after)
	}
}
