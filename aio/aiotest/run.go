package aiotest

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/aiogo/aio/aio"
)

// DefaultTimeout is the real time Run gives a test body before it fails the
// test and cancels the body (see Timeout). It bounds a stuck test, not a
// slow one: a body on the virtual clock takes microseconds of real time
// for hours of loop time.
const DefaultTimeout = 30 * time.Second

// ErrTimedOut is the cause of the cancellation of a body that ran past its
// real-time bound (see Timeout).
var ErrTimedOut = errors.New("aiotest: the test ran past its real-time bound")

// TB is what Run needs of a test: *testing.T, *testing.B and *testing.F
// have it (testing.TB does).
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// An Option configures Run.
type Option func(*config)

type config struct {
	timeout   time.Duration
	holdLimit time.Duration
	onReport  aio.ErrorHandler
	realClock bool
}

// Timeout bounds the run in real time: once d has passed, Run fails the
// test, saying so, and cancels the body's task with cause ErrTimedOut (the
// loop's other tasks are cancelled in its shutdown, as Run's are). If the
// run still has not ended after another d (a task that blocks the loop's
// thread, or ignores its cancellation), Run panics with the stacks of every
// goroutine, which ends the test binary with a message rather than a hang.
// Zero or negative d means DefaultTimeout.
func Timeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// HoldLimit lets the virtual clock jump despite outstanding holds once the
// loop has waited d of real time for held work with nothing arriving (see
// aio.Loop.SetClockHoldLimit).
func HoldLimit(d time.Duration) Option {
	return func(c *config) { c.holdLimit = d }
}

// OnReport sends the reports of the loop's error handler to h instead of
// failing the test with each: for a test that checks what is reported.
func OnReport(h aio.ErrorHandler) Option {
	return func(c *config) { c.onReport = h }
}

// RealClock runs the body on the real clock instead: for a test that runs
// the same body both ways and compares what happened.
func RealClock() Option {
	return func(c *config) { c.realClock = true }
}

// Run runs body as the main task of a new loop on the virtual clock, with
// aio.Run (SIGINT is left alone), and returns when the loop is closed. It
// fails t (t.Errorf) if body returns an error, for every report that reaches
// the loop's error handler (unless OnReport takes them), and if the run
// lasts longer than its real-time bound (see Timeout).
func Run(t TB, body func(c *aio.Ctx) error, opts ...Option) {
	t.Helper()
	cfg := config{timeout: DefaultTimeout}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if body == nil {
		t.Errorf("aiotest.Run: %v", aio.ErrNilFunc)
		return
	}
	handler := cfg.onReport
	if handler == nil {
		handler = func(l *aio.Loop, ec aio.ErrorContext) {
			// Every field that is set: the task, the callback, the
			// creation site and the stacks of debug mode.
			t.Errorf("aiotest: reported to the loop's error handler: %s", ec.String())
		}
	}
	runOpts := []aio.RunOption{
		aio.WithErrorHandler(handler),
		aio.WithoutInterrupt(),
		aio.WithShutdownTimeout(cfg.timeout),
	}
	if !cfg.realClock {
		runOpts = append(runOpts, aio.WithVirtualClock())
	}

	w := &watchdog{t: t, d: cfg.timeout, done: make(chan struct{})}
	defer w.stop()
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		if cfg.holdLimit > 0 && !cfg.realClock {
			if err := c.Loop().SetClockHoldLimit(cfg.holdLimit); err != nil {
				return struct{}{}, err
			}
		}
		w.start(c.Task())
		return struct{}{}, body(c)
	}, runOpts...)
	if err != nil {
		t.Errorf("aiotest: the test body returned: %v", err)
	}
}

// watchdog bounds a run in real time.
type watchdog struct {
	t    TB
	d    time.Duration
	done chan struct{} // closed by stop

	mu    sync.Mutex // orders the failure report before the end of the run
	timer *time.Timer
	ended bool
}

// start arms the watchdog for the main task.
func (w *watchdog) start(main aio.AnyTask) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = time.AfterFunc(w.d, func() {
		w.mu.Lock()
		if w.ended {
			w.mu.Unlock()
			return
		}
		// Under the lock: stop waits for it, so that t is not used after
		// the test has ended.
		w.t.Errorf("aiotest: the test ran for more than %v of real time: cancelling it "+
			"(a task that awaits what only another goroutine can complete, with no timer pending, "+
			"keeps the loop waiting for real; so does a clock hold never released)", w.d)
		main.Cancel(fmt.Errorf("%w (%v)", ErrTimedOut, w.d))
		w.mu.Unlock()
		select {
		case <-w.done:
		case <-time.After(w.d):
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			panic(fmt.Sprintf("aiotest: the test did not end %v after it was cancelled for running past %v of real time "+
				"(a task blocks the loop's thread, or ignores its cancellation); goroutines:\n%s", w.d, w.d, buf))
		}
	})
}

// stop disarms the watchdog once the run has ended.
func (w *watchdog) stop() {
	w.mu.Lock()
	w.ended = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	close(w.done)
}
