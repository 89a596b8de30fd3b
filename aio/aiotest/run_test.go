package aiotest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/aiotest"
)

// Run runs its body on the virtual clock: the loop starts at 2000-01-01
// UTC, an hour's Sleep takes an hour of loop time and a moment of real
// time, and a body that succeeds fails nothing.
func TestRunVirtualClock(t *testing.T) {
	rec := &recorder{}
	realStart := time.Now()
	ran := false
	aiotest.Run(rec, func(c *aio.Ctx) error {
		ran = true
		l := c.Loop()
		start := l.Now()
		if !l.HasVirtualClock() || !start.Equal(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("virtual %v, start %v", l.HasVirtualClock(), start)
		}
		if err := aio.Sleep(c, time.Hour); err != nil {
			return err
		}
		if d := l.Now().Sub(start); d != time.Hour {
			t.Errorf("Sleep(1h) took %v of loop time", d)
		}
		return nil
	})
	if !ran || len(rec.failures()) != 0 {
		t.Errorf("ran %v, failures %q", ran, rec.failures())
	}
	if d := time.Since(realStart); d > time.Second {
		t.Errorf("an hour of loop time took %v of real time", d)
	}
}

// The body's error fails the test, with the error in the message.
func TestRunBodyError(t *testing.T) {
	rec := &recorder{}
	aiotest.Run(rec, func(c *aio.Ctx) error { return errors.New("the body's own error") })
	if f := rec.failures(); len(f) != 1 || !strings.Contains(f[0], "the body's own error") {
		t.Errorf("failures %q, want one naming the body's error", f)
	}
}

// Every report of the loop's error handler fails the test: here a task that
// fails with nobody awaiting it, reported at the shutdown, and a panic in a
// callback. With OnReport, the reports go to the handler instead.
func TestRunReportsFail(t *testing.T) {
	body := func(c *aio.Ctx) error {
		aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, errors.New("orphan failed") })
		c.Loop().CallSoon(func() { panic("callback panicked") })
		return aio.Sleep(c, time.Second)
	}
	rec := &recorder{}
	aiotest.Run(rec, body)
	f := strings.Join(rec.failures(), "\n")
	if len(rec.failures()) != 2 || !strings.Contains(f, "orphan failed") || !strings.Contains(f, "callback panicked") {
		t.Errorf("failures:\n%s\nwant the orphan's error and the panic", f)
	}

	rec = &recorder{}
	var handled []string
	aiotest.Run(rec, body, aiotest.OnReport(func(l *aio.Loop, ec aio.ErrorContext) {
		handled = append(handled, ec.Err.Error())
	}))
	if len(rec.failures()) != 0 || len(handled) != 2 {
		t.Errorf("with OnReport: failures %q, handled %q", rec.failures(), handled)
	}
}

// A body stuck for real (it awaits a future nobody completes, with no timer
// pending) fails the test once the real-time bound passes, with a message
// that says so, and Run returns: the body was cancelled with ErrTimedOut.
func TestRunTimeout(t *testing.T) {
	rec := &recorder{}
	var awaitErr error
	aiotest.Run(rec, func(c *aio.Ctx) error {
		_, awaitErr = aio.Await(c, aio.NewFuture[int](c.Loop()))
		return nil
	}, aiotest.Timeout(50*time.Millisecond))
	f := rec.failures()
	if len(f) != 1 || !strings.Contains(f[0], "more than 50ms of real time") {
		t.Errorf("failures %q, want one about the real-time bound", f)
	}
	if !errors.Is(awaitErr, aiotest.ErrTimedOut) {
		t.Errorf("the stuck Await returned %v, want a cancellation caused by ErrTimedOut", awaitErr)
	}
}

// HoldLimit lets the clock jump despite a hold never released.
func TestRunHoldLimit(t *testing.T) {
	rec := &recorder{}
	aiotest.Run(rec, func(c *aio.Ctx) error {
		release := c.Loop().HoldClock()
		defer release()
		return aio.Sleep(c, time.Hour)
	}, aiotest.HoldLimit(5*time.Millisecond))
	if f := rec.failures(); len(f) != 0 {
		t.Errorf("failures %q", f)
	}
}

// RealClock runs the body on the real clock.
func TestRunRealClock(t *testing.T) {
	rec := &recorder{}
	aiotest.Run(rec, func(c *aio.Ctx) error {
		if c.Loop().HasVirtualClock() {
			t.Error("RealClock: the loop is on the virtual clock")
		}
		return aio.Sleep(c, time.Millisecond)
	}, aiotest.RealClock())
	if f := rec.failures(); len(f) != 0 {
		t.Errorf("failures %q", f)
	}
}

// A nil body is a failure, not a crash.
func TestRunNilBody(t *testing.T) {
	rec := &recorder{}
	aiotest.Run(rec, nil)
	if f := rec.failures(); len(f) != 1 || !strings.Contains(f[0], "nil function") {
		t.Errorf("failures %q", f)
	}
}
