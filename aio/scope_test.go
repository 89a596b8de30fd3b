package aio_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// Tests of cancel scopes, timeouts and deadlines (scope.go) and of WaitFor:
// the rules of structured cancellation, each race an explicit case.

// runMain runs body as the main task of a new loop on the virtual clock
// (time moves only when every task waits for a timer, so the order of
// timers is the order of their deadlines however loaded the machine is),
// shuts the loop down as Run does, and fails the test on an error. A test
// whose tasks wait for other goroutines uses runMainRealClock: the virtual
// clock would jump past their work.
func runMain(t *testing.T, body func(c *aio.Ctx) error) {
	t.Helper()
	l := newLoop(t)
	if err := l.SetVirtualClock(); err != nil {
		t.Fatal(err)
	}
	main, err := aio.Spawn(l, func(c *aio.Ctx) (struct{}, error) { return struct{}{}, body(c) }, aio.WithName("main"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.RunUntil(main.IsDone); err != nil {
		t.Fatal(err)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := main.Result(); err != nil {
		t.Fatal(err)
	}
}

// runMainRealClock runs body as Run's main task, on the real clock.
func runMainRealClock(t *testing.T, body func(c *aio.Ctx) error) {
	t.Helper()
	leakCheck(t)
	if _, err := aio.Run(func(c *aio.Ctx) (struct{}, error) { return struct{}{}, body(c) }); err != nil {
		t.Fatal(err)
	}
}

// A timeout that expires returns ErrTimeout, which matches
// context.DeadlineExceeded and not context.Canceled; inside the body the
// suspension point got a cancellation, which is not ErrTimeout (only the
// scope that set the deadline turns it into one), and the scope says it
// expired.
func TestTimeoutExpires(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var inside error
		var s *aio.Scope
		err := aio.WithTimeout(c, time.Millisecond, func(c *aio.Ctx) error {
			s = c.Scope()
			inside = aio.Sleep(c, time.Hour)
			return inside
		})
		if !errors.Is(err, aio.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			t.Errorf("WithTimeout = %v: want ErrTimeout, DeadlineExceeded, not Canceled", err)
		}
		if !errors.Is(inside, context.Canceled) || errors.Is(inside, aio.ErrTimeout) || !s.Expired() {
			t.Errorf("inside the body: %v (expired %v), want a cancellation, not ErrTimeout, and Expired", inside, s.Expired())
		}
		if n := c.Task().Cancelling(); n != 0 {
			t.Errorf("Cancelling after the timeout = %d, want 0", n)
		}
		return nil
	})
}

// A body that finishes before the deadline returns its own error; the timer
// is gone, and a later suspension is not cancelled.
func TestTimeoutNotReached(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		boom := errors.New("boom")
		if err := aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error { return aio.Yield(c) }); err != nil {
			t.Errorf("WithTimeout = %v", err)
		}
		if err := aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error { return boom }); err != boom {
			t.Errorf("WithTimeout of a failing body = %v", err)
		}
		if n := c.Loop().TimersForTest(); n != 0 {
			t.Errorf("%d timers left after the scopes ended", n)
		}
		return aio.Sleep(c, time.Millisecond)
	})
}

// A body that catches the timeout's cancellation and returns normally makes
// WithTimeout return nil; the scope still reports Expired, and the task's
// cancel count is back where it was (rule 3).
func TestTimeoutSwallowed(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var s *aio.Scope
		err := aio.WithTimeout(c, time.Millisecond, func(c *aio.Ctx) error {
			s = c.Scope()
			aio.Sleep(c, time.Hour) // swallowed
			return aio.Yield(c)     // not cancelled again
		})
		if err != nil || !s.Expired() {
			t.Errorf("WithTimeout = %v, Expired %v; want nil, true", err, s.Expired())
		}
		if n := c.Task().Cancelling(); n != 0 {
			t.Errorf("Cancelling = %d after a swallowed timeout, want 0", n)
		}
		return nil
	})
}

// The result and the expiry in the same loop iteration: a callback that
// blocks the loop makes the future's completion and the timeout's timer fall
// due together. The one due first wins, and nothing is lost: with the
// result first WaitFor returns it; with the expiry first WaitFor returns
// ErrTimeout and the future keeps its result (CPython's bpo-37658). A task
// that takes WaitFor's cancellation and still returns a result gives that
// result, and a done awaitable with a zero or negative timeout is returned.
func TestWaitForResultAndExpiryTogether(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		const d = time.Millisecond
		for _, resultFirst := range []bool{true, false} {
			f := aio.NewFuture[int](l)
			set := func() { f.SetResult(42) }
			if resultFirst {
				l.CallLater(d, set) // due before WaitFor's deadline
			}
			l.CallSoon(func() {
				if !resultFirst {
					l.CallLater(d, set) // due after WaitFor's deadline
				}
				time.Sleep(3 * d) // both fall due in the next iteration
			})
			v, err := aio.WaitFor[int](c, f, d)
			switch {
			case resultFirst && (v != 42 || err != nil):
				t.Errorf("result first: WaitFor = %d, %v; want 42, nil", v, err)
			case !resultFirst && !errors.Is(err, aio.ErrTimeout):
				t.Errorf("expiry first: WaitFor = %d, %v; want ErrTimeout", v, err)
			}
			aio.Yield(c)
			if v, err := f.Result(); v != 42 || err != nil {
				t.Errorf("result first %v: the future holds %d, %v; want 42", resultFirst, v, err)
			}
		}
		stubborn, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			aio.Sleep(c, time.Hour) // takes the cancellation and goes on
			return 42, nil
		})
		if v, err := aio.WaitFor[int](c, stubborn, d); v != 42 || err != nil {
			t.Errorf("WaitFor of a task that returns after the timeout's cancel = %d, %v; want 42, nil", v, err)
		}
		g := aio.NewFuture[int](l)
		g.SetResult(7)
		if v, err := aio.WaitFor[int](c, g, 0); v != 7 || err != nil {
			t.Errorf("WaitFor of a done future with a zero timeout = %d, %v", v, err)
		}
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 9, nil })
		aio.Yield(c)
		if v, err := aio.WaitFor[int](c, task, -time.Second); v != 9 || err != nil {
			t.Errorf("WaitFor of a done task with a negative timeout = %d, %v", v, err)
		}
		return nil
	})
}

// WaitFor on a task that does not finish in time cancels it, waits for its
// cancellation to finish, and returns ErrTimeout.
func TestWaitForCancelsTask(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		cleaned := false
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			err := aio.Sleep(c, time.Hour)
			aio.Sleep(c, time.Millisecond) // cleanup that takes a while
			cleaned = true
			return 0, err
		})
		_, err := aio.WaitFor[int](c, task, time.Millisecond)
		if !errors.Is(err, aio.ErrTimeout) || !task.IsDone() || !cleaned || !task.Canceled() {
			t.Errorf("WaitFor = %v; task done %v, cleaned %v, canceled %v", err, task.IsDone(), cleaned, task.Canceled())
		}
		// Shielded, the task goes on and its result is still there.
		slow, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 5, aio.Sleep(c, 5*time.Millisecond) })
		if _, err := aio.WaitFor(c, aio.Shield[int](slow), time.Millisecond); !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("WaitFor of a shielded task = %v", err)
		}
		if v, err := aio.Await(c, slow); v != 5 || err != nil {
			t.Errorf("the shielded task ended with %d, %v", v, err)
		}
		return nil
	})
}

// An outside cancellation and the expiry together: the outside cancel wins
// and propagates as a cancellation, not as a timeout (rule 1), from
// WithTimeout and from WaitFor alike.
func TestOutsideCancelAndExpiryTogether(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		for _, useWaitFor := range []bool{false, true} {
			var err error
			task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				if useWaitFor {
					_, err = aio.WaitFor[int](c, aio.NewFuture[int](l), time.Millisecond)
				} else {
					err = aio.WithTimeout(c, time.Millisecond, func(c *aio.Ctx) error { return aio.Sleep(c, time.Hour) })
				}
				return 0, err
			})
			aio.Yield(c)
			// The timer falls due and the cancel arrives before the task
			// runs again.
			time.Sleep(2 * time.Millisecond)
			l.CallSoon(func() { task.Cancel(errors.New("outside")) })
			aio.Await(c, task)
			if errors.Is(err, aio.ErrTimeout) || !errors.Is(err, context.Canceled) || aio.Cause(err).Error() != "outside" {
				t.Errorf("WaitFor %v: %v, want the outside cancellation", useWaitFor, err)
			}
		}
		return nil
	})
}

// Nested timeouts tell inner from outer: an inner expiry is the inner
// scope's timeout, an outer expiry goes through the inner scope as a
// cancellation and is the outer scope's timeout.
func TestNestedTimeouts(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var inner error
		outer := aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error {
			inner = aio.WithTimeout(c, time.Millisecond, func(c *aio.Ctx) error { return aio.Sleep(c, time.Hour) })
			return nil
		})
		if outer != nil || !errors.Is(inner, aio.ErrTimeout) {
			t.Errorf("inner expiry: inner %v, outer %v", inner, outer)
		}
		outer = aio.WithTimeout(c, time.Millisecond, func(c *aio.Ctx) error {
			inner = aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error { return aio.Sleep(c, time.Hour) })
			return inner
		})
		if !errors.Is(outer, aio.ErrTimeout) || errors.Is(inner, aio.ErrTimeout) || !errors.Is(inner, context.Canceled) {
			t.Errorf("outer expiry: inner %v (want a cancellation), outer %v (want ErrTimeout)", inner, outer)
		}
		return nil
	})
}

// A timeout's deadline can be moved while the scope runs; moving it after it
// passed, or after the scope ended, is an error matching ErrScopeEnded.
func TestTimeoutReschedule(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var s *aio.Scope
		err := aio.WithTimeout(c, time.Millisecond, func(c *aio.Ctx) error {
			s = c.Scope()
			if err := s.SetTimeout(time.Hour); err != nil {
				return err
			}
			if d, ok := s.Deadline(); !ok || d.Sub(c.Loop().Now()) < 30*time.Minute {
				t.Errorf("Deadline after SetTimeout(1h) = %v, %v", d, ok)
			}
			return aio.Sleep(c, 3*time.Millisecond) // past the first deadline
		})
		if err != nil || s.Expired() {
			t.Errorf("rescheduled timeout = %v, Expired %v", err, s.Expired())
		}
		if err := s.SetTimeout(time.Second); !errors.Is(err, aio.ErrScopeEnded) {
			t.Errorf("SetTimeout of an ended scope = %v", err)
		}
		aio.WithTimeout(c, 0, func(c *aio.Ctx) error {
			if err := c.Scope().SetTimeout(time.Hour); !errors.Is(err, aio.ErrScopeEnded) {
				t.Errorf("SetTimeout after the deadline passed = %v", err)
			}
			return nil
		})
		return nil
	})
}

// A zero or negative timeout expires at once: the first suspension point is
// cancelled; a body that does not suspend completes.
func TestTimeoutZero(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		for _, d := range []time.Duration{0, -time.Second} {
			if err := aio.WithTimeout(c, d, func(c *aio.Ctx) error { return aio.Yield(c) }); !errors.Is(err, aio.ErrTimeout) {
				t.Errorf("WithTimeout(%v) of a yield = %v", d, err)
			}
			ran := false
			if err := aio.WithTimeout(c, d, func(c *aio.Ctx) error { ran = true; return nil }); err != nil || !ran {
				t.Errorf("WithTimeout(%v) of a body that does not suspend = %v, ran %v", d, err, ran)
			}
		}
		past := c.Loop().Now().Add(-time.Hour)
		if err := aio.WithDeadline(c, past, func(c *aio.Ctx) error { return aio.Yield(c) }); !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("WithDeadline in the past = %v", err)
		}
		return nil
	})
}

// Cancelling a scope cancels only the work inside it: WithScope absorbs its
// own cancellation and returns nil, Canceled reports it, and the task's
// later suspensions are not cancelled.
func TestScopeCancel(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var inside error
		var scope *aio.Scope
		err := aio.WithScope(c, func(s *aio.Scope) error {
			scope = s
			c.Loop().CallLater(time.Millisecond, func() { s.Cancel(nil) })
			inside = aio.Sleep(c, time.Hour)
			return inside
		})
		if err != nil || !errors.Is(inside, context.Canceled) || !scope.Canceled() || scope.Expired() {
			t.Errorf("WithScope = %v, inside %v, Canceled %v", err, inside, scope.Canceled())
		}
		scope.Cancel(nil) // ended: nothing
		return aio.Sleep(c, time.Millisecond)
	})
}

// A shielded scope keeps an outside cancellation out until it ends; then the
// next suspension point delivers it. The scope's own cancellation still
// applies inside it.
func TestShieldedScope(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var during, after error
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			aio.Shielded(c, func(c *aio.Ctx) error {
				during = aio.Sleep(c, 3*time.Millisecond)
				return nil
			})
			after = aio.Yield(c)
			return 0, after
		})
		aio.Yield(c)
		task.Cancel(nil)
		aio.Await(c, task)
		if during != nil || !errors.Is(after, context.Canceled) {
			t.Errorf("in the shield: %v (want nil), after it: %v (want the cancellation)", during, after)
		}
		err := aio.WithScope(c, func(s *aio.Scope) error {
			s.SetShield(true)
			s.Cancel(nil)
			return aio.Yield(c)
		})
		if err != nil {
			t.Errorf("a shielded scope cancelled itself: %v, want nil (absorbed)", err)
		}
		return nil
	})
}

// Misuse of scopes: a nil body, a Ctx of another task.
func TestScopeMisuse(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		if err := aio.WithTimeout(c, time.Second, nil); !errors.Is(err, aio.ErrNilFunc) {
			t.Errorf("WithTimeout(nil body) = %v", err)
		}
		var other *aio.Ctx
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { other = c; return 0, aio.Sleep(c, time.Millisecond) })
		aio.Yield(c)
		if err := aio.WithScope(other, func(*aio.Scope) error { return nil }); !errors.Is(err, aio.ErrNotInTask) {
			t.Errorf("WithScope with another task's Ctx = %v", err)
		}
		_, err := aio.Await(c, task)
		return err
	})
}

// An outside cancellation delivered inside a timeout's body and lost there
// (the body handled it, then returned the timeout's own cancellation) still
// comes out of the timeout as a cancellation, not as ErrTimeout (rule 1).
func TestTimeoutOutsideCancelLostInBody(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var err, cleanup error
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			err = aio.WithTimeout(c, time.Millisecond, func(c *aio.Ctx) error {
				own := aio.Sleep(c, time.Hour)    // the timeout
				cleanup = aio.Sleep(c, time.Hour) // the outside cancel, handled
				return own
			})
			return 0, err
		})
		aio.Sleep(c, 3*time.Millisecond)
		task.Cancel(errors.New("outside"))
		aio.Await(c, task)
		if !errors.Is(cleanup, context.Canceled) || errors.Is(err, aio.ErrTimeout) || aio.Cause(err).Error() != "outside" {
			t.Errorf("WithTimeout = %v (cleanup got %v); want the outside cancellation", err, cleanup)
		}
		return nil
	})
}

// Scope.Cancel from another goroutine travels through the door and cancels
// the scope as a call on the loop does.
func TestScopeCancelFromGoroutine(t *testing.T) {
	runMainRealClock(t, func(c *aio.Ctx) error {
		var inside error
		err := aio.WithScope(c, func(s *aio.Scope) error {
			go s.Cancel(errors.New("from a goroutine"))
			inside = aio.Sleep(c, time.Hour)
			return inside
		})
		if err != nil || aio.Cause(inside) == nil || aio.Cause(inside).Error() != "from a goroutine" {
			t.Errorf("WithScope = %v, inside %v", err, inside)
		}
		return nil
	})
}
