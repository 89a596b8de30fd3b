package loops_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/loops"
)

// Call runs its function in a task of the target loop and returns its
// result to the calling task of another loop; CallFunc does it in a
// callback.
func TestCallReturnsRemoteResult(t *testing.T) {
	g := startGroup(t, 2)
	a, b := g.Loop(0), g.Loop(1)
	v, err := onLoop(t, a, func(c *aio.Ctx) (int, error) {
		x, err := loops.Call(c, b, func(rc *aio.Ctx) (int, error) {
			if rc.Loop() != b || aio.RunningLoop() != b {
				t.Error("Call ran off the target loop")
			}
			return 20, aio.Sleep(rc, time.Millisecond)
		})
		if err != nil {
			return 0, err
		}
		y, err := loops.CallFunc(c, b, func() (int, error) {
			if aio.RunningLoop() != b {
				t.Error("CallFunc ran off the target loop")
			}
			return 22, nil
		})
		return x + y, err
	})
	if err != nil || v != 42 {
		t.Fatalf("got %v, %v", v, err)
	}
}

// The remote function's error and panic come back to the caller.
func TestCallErrorsAndPanics(t *testing.T) {
	g := startGroup(t, 2)
	boom := errors.New("boom")
	_, err := onLoop(t, g.Loop(0), func(c *aio.Ctx) (int, error) {
		_, err := loops.Call(c, g.Loop(1), func(*aio.Ctx) (int, error) { return 0, boom })
		if !errors.Is(err, boom) {
			t.Errorf("Call error = %v", err)
		}
		_, err = loops.Call(c, g.Loop(1), func(*aio.Ctx) (int, error) { panic("p") })
		var pe *aio.PanicError
		if !errors.As(err, &pe) || pe.Value != "p" {
			t.Errorf("Call panic = %v", err)
		}
		_, err = loops.CallFunc(c, g.Loop(1), func() (int, error) { panic("q") })
		if !errors.As(err, &pe) || pe.Value != "q" {
			t.Errorf("CallFunc panic = %v", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Cancelling the caller cancels the remote task, and Call returns the
// caller's cancellation once the remote task has ended.
func TestCallCancellationCrosses(t *testing.T) {
	g := startGroup(t, 2)
	remoteErr := make(chan error, 1)
	_, err := onLoop(t, g.Loop(0), func(c *aio.Ctx) (int, error) {
		err := aio.WithTimeout(c, 5*time.Millisecond, func(c *aio.Ctx) error {
			_, err := loops.Call(c, g.Loop(1), func(rc *aio.Ctx) (int, error) {
				err := aio.Sleep(rc, time.Hour)
				remoteErr <- err
				return 0, err
			})
			if !errors.Is(err, context.Canceled) || errors.Is(err, loops.ErrCompleted) {
				t.Errorf("Call under a timeout = %v", err)
			}
			return err
		})
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("WithTimeout = %v", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-remoteErr; !errors.Is(err, context.Canceled) {
		t.Errorf("the remote task ended with %v, want the caller's cancellation", err)
	}
}

// A remote task that completes although the caller was cancelled gives
// its value with an error matching the cancellation and ErrCompleted.
func TestCallCompletedDespiteCancel(t *testing.T) {
	g := startGroup(t, 2)
	_, err := onLoop(t, g.Loop(0), func(c *aio.Ctx) (int, error) {
		var v int
		err := aio.WithTimeout(c, time.Millisecond, func(c *aio.Ctx) error {
			var err error
			v, err = loops.Call(c, g.Loop(1), func(rc *aio.Ctx) (int, error) {
				aio.Shielded(rc, func(rc *aio.Ctx) error { return aio.Sleep(rc, 20*time.Millisecond) })
				return 7, nil
			})
			if !errors.Is(err, context.Canceled) || !errors.Is(err, loops.ErrCompleted) {
				t.Errorf("Call = %v", err)
			}
			return err
		})
		if v != 7 || !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("v = %d, WithTimeout = %v", v, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A hand-off to a closed loop, or to one that closes before answering,
// returns an error matching aio.ErrClosed; a remote loop shutting down
// gives ErrRemoteCanceled and ErrClosed, never context.Canceled.
func TestCallToClosedLoop(t *testing.T) {
	g := startGroup(t, 1)
	dead, _ := aio.NewLoop()
	dead.Close()
	_, err := onLoop(t, g.Loop(0), func(c *aio.Ctx) (int, error) {
		if _, err := loops.Call(c, dead, func(*aio.Ctx) (int, error) { return 1, nil }); !errors.Is(err, aio.ErrClosed) {
			t.Errorf("Call to a closed loop = %v", err)
		}
		if _, err := loops.CallFunc(c, dead, func() (int, error) { return 1, nil }); !errors.Is(err, aio.ErrClosed) {
			t.Errorf("CallFunc to a closed loop = %v", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A target that shuts down under the call.
	h, _ := loops.New(1)
	h.Start()
	started := make(chan struct{})
	res := make(chan error, 1)
	aio.Spawn(g.Loop(0), func(c *aio.Ctx) (int, error) {
		_, err := loops.Call(c, h.Loop(0), func(rc *aio.Ctx) (int, error) {
			close(started)
			return 0, aio.Sleep(rc, time.Hour)
		})
		res <- err
		return 0, nil
	})
	<-started
	h.Close()
	if err := <-res; !errors.Is(err, aio.ErrClosed) || !errors.Is(err, loops.ErrRemoteCanceled) || errors.Is(err, context.Canceled) {
		t.Errorf("Call to a loop that shut down = %v", err)
	}

	// A target that fails (Goexit) under the call.
	k, _ := loops.New(1, loops.WithOnFailure(func(loops.Failure) {}), loops.WithErrorHandler(func(int, *aio.Loop, aio.ErrorContext) {}))
	k.Start()
	defer k.Close()
	_, err = onLoop(t, g.Loop(0), func(c *aio.Ctx) (int, error) {
		_, err := loops.Call(c, k.Loop(0), func(rc *aio.Ctx) (int, error) { runtime.Goexit(); return 0, nil })
		return 0, err
	})
	if !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Call to a loop that failed = %v", err)
	}
}

// Bad input: nil function, nil target, nil or foreign Ctx.
func TestCallBadInput(t *testing.T) {
	g := startGroup(t, 2)
	_, err := onLoop(t, g.Loop(0), func(c *aio.Ctx) (int, error) {
		if _, err := loops.Call[int](c, g.Loop(1), nil); !errors.Is(err, aio.ErrNilFunc) {
			t.Errorf("nil fn: %v", err)
		}
		if _, err := loops.Call(c, nil, func(*aio.Ctx) (int, error) { return 0, nil }); !errors.Is(err, aio.ErrNoLoop) {
			t.Errorf("nil target: %v", err)
		}
		if _, err := loops.CallFunc(nil, g.Loop(1), func() (int, error) { return 0, nil }); !errors.Is(err, aio.ErrNotInTask) {
			t.Errorf("nil Ctx: %v", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Awaiting a future of another loop without the cross-loop form keeps the
// core's clear error (ErrInvalidState, "belongs to another loop").
func TestAwaitForeignFutureRefused(t *testing.T) {
	g := startGroup(t, 2)
	f := aio.NewFuture[int](g.Loop(1))
	_, err := onLoop(t, g.Loop(0), func(c *aio.Ctx) (int, error) { return aio.Await(c, f) })
	if !errors.Is(err, aio.ErrInvalidState) {
		t.Errorf("Await of a foreign future = %v, want ErrInvalidState", err)
	}
}
