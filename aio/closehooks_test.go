package aio_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aiogo/aio/aio"
)

// Close hooks run once, when the loop closes, after its tasks have ended,
// last registered first; a removed hook does not run; a panicking hook is
// reported and the next one runs; OnClose on a closed loop returns
// ErrClosed, and a nil function ErrNilFunc.
func TestOnClose(t *testing.T) {
	l := newLoop(t)
	var log []string
	var reported []error
	l.SetErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) { reported = append(reported, ec.Err) })
	started := false
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		started = true
		err := aio.Sleep(c, 1<<62)
		log = append(log, "task ended")
		return 0, err
	})
	l.RunUntil(func() bool { return started })
	for i := range 3 {
		if _, err := l.OnClose(func() { log = append(log, fmt.Sprint("hook ", i)) }); err != nil {
			t.Fatal(err)
		}
	}
	remove, _ := l.OnClose(func() { log = append(log, "removed hook") })
	if !remove() || remove() {
		t.Error("remove: want true, then false")
	}
	l.OnClose(func() { panic("boom") })
	var inHook []error
	l.OnClose(func() {
		// A hook runs as loop code: ReportError works, Spawn fails.
		l.ReportError(aio.ErrorContext{Message: "from a hook", Err: errors.New("reported")})
		_, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, nil })
		inHook = append(inHook, err)
		if aio.RunningLoop() != l {
			inHook = append(inHook, errors.New("RunningLoop is not the loop"))
		}
	})
	if _, err := l.OnClose(nil); !errors.Is(err, aio.ErrNilFunc) {
		t.Errorf("OnClose(nil) = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if want := "[task ended hook 2 hook 1 hook 0]"; fmt.Sprint(log) != want {
		t.Errorf("log %v, want %s", log, want)
	}
	var pe *aio.PanicError
	if len(reported) != 2 || reported[0].Error() != "reported" || !errors.As(reported[1], &pe) {
		t.Errorf("reported %v, want the hook's report, then its panic", reported)
	}
	if len(inHook) != 1 || !errors.Is(inHook[0], aio.ErrClosed) {
		t.Errorf("in a hook: %v, want Spawn's ErrClosed only", inHook)
	}
	if _, err := l.OnClose(func() {}); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("OnClose after Close = %v", err)
	}
	if !task.IsDone() {
		t.Error("the task is not done")
	}
}

// Run's loop runs its close hooks before Run returns.
func TestOnCloseRun(t *testing.T) {
	leakCheck(t)
	ran := false
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		_, err := c.Loop().OnClose(func() { ran = true })
		return 0, err
	})
	if err != nil || !ran {
		t.Errorf("Run = %v, hook ran %v", err, ran)
	}
}
