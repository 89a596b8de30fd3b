package aio_test

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// Signal handlers run on the loop, several per signal in the order they
// were added; a panicking handler is reported and the next one runs; a
// removed handler does not run; SIGKILL and nil arguments are refused.
// SIGUSR1 is sent to the test process itself.
func TestAddSignalHandler(t *testing.T) {
	// Keep SIGUSR1 from killing the test process between the removal of
	// the last handler and the end of the test.
	guard := make(chan os.Signal, 8)
	signal.Notify(guard, syscall.SIGUSR1)
	defer signal.Stop(guard)
	var reported []error
	runMainRealClock(t, func(c *aio.Ctx) error {
		l := c.Loop()
		l.SetErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) { reported = append(reported, ec.Err) })
		var log []string
		onLoop := true
		got := make(chan struct{}, 8)
		l.AddSignalHandler(syscall.SIGUSR1, func() {
			onLoop = onLoop && aio.RunningLoop() == l
			log = append(log, "first")
		})
		l.AddSignalHandler(syscall.SIGUSR1, func() { panic("handler panics") })
		remove, _ := l.AddSignalHandler(syscall.SIGUSR1, func() { log = append(log, "third"); got <- struct{}{} })
		if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
			return err
		}
		if err := waitSignal(c, got); err != nil {
			return err
		}
		if len(log) != 2 || log[0] != "first" || log[1] != "third" || !onLoop {
			t.Errorf("handlers ran %v (on the loop: %v)", log, onLoop)
		}
		var pe *aio.PanicError
		if len(reported) != 1 || !errors.As(reported[0], &pe) {
			t.Errorf("reported %v, want the handler's panic", reported)
		}
		if !remove() || remove() {
			t.Error("remove: want true, then false")
		}
		if _, err := l.AddSignalHandler(syscall.SIGKILL, func() {}); !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("SIGKILL: %v", err)
		}
		if _, err := l.AddSignalHandler(syscall.SIGUSR1, nil); !errors.Is(err, aio.ErrNilFunc) {
			t.Errorf("nil handler: %v", err)
		}
		return nil
	})
}

// waitSignal waits, polling the loop, until got has a value, for at most 5 s.
func waitSignal(c *aio.Ctx, got chan struct{}) error {
	for range 5000 {
		select {
		case <-got:
			return nil
		default:
		}
		if err := aio.Sleep(c, time.Millisecond); err != nil {
			return err
		}
	}
	return errors.New("the signal handler did not run within 5 s")
}

// Closing the loop removes its signal handlers and their relays (goleak
// checks that no goroutine is left); AddSignalHandler on a closed loop
// returns ErrClosed.
func TestSignalHandlersRemovedOnClose(t *testing.T) {
	l := newLoop(t)
	if _, err := l.AddSignalHandler(syscall.SIGUSR2, func() {}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddSignalHandler(syscall.SIGUSR2, func() {}); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("on a closed loop: %v", err)
	}
}

// RunContext cancels the main task when its context is done, with the
// context's cause; a nil context is refused.
func TestRunContext(t *testing.T) {
	leakCheck(t)
	cause := errors.New("the service is stopping")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(time.Millisecond, func() { cancel(cause) })
	_, err := aio.RunContext(ctx, func(c *aio.Ctx) (int, error) {
		return 0, aio.Sleep(c, time.Hour)
	}, aio.WithoutInterrupt())
	if !errors.Is(err, context.Canceled) || aio.Cause(err) != cause {
		t.Errorf("RunContext = %v (cause %v)", err, aio.Cause(err))
	}
	//lint:ignore SA1012 a nil context is what this test gives
	if _, err := aio.RunContext(nil, func(c *aio.Ctx) (int, error) { return 0, nil }); !errors.Is(err, aio.ErrNilContext) {
		t.Errorf("RunContext(nil) = %v", err)
	}
}
