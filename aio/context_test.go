package aio_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// A task's context is done when the task is cancelled, with
// context.Canceled as its Err and the cancellation's cause as its cause;
// code on another goroutine sees it; the context ends (with a cause saying
// so) when the task ends.
func TestCtxContextTaskCancel(t *testing.T) {
	runMainRealClock(t, func(c *aio.Ctx) error {
		cause := errors.New("stop it")
		var ctx context.Context
		seen := make(chan error, 1)
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			ctx = c.Context()
			if ctx != c.Context() {
				t.Error("Context: a new context at the second call")
			}
			go func() { <-ctx.Done(); seen <- context.Cause(ctx) }()
			return 0, aio.Sleep(c, time.Hour)
		})
		aio.Yield(c)
		if ctx.Err() != nil {
			t.Errorf("done before the cancellation: %v", ctx.Err())
		}
		task.Cancel(cause)
		aio.Await(c, task)
		if got := <-seen; got != cause {
			t.Errorf("the goroutine saw cause %v, want %v", got, cause)
		}
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Errorf("Err = %v", ctx.Err())
		}
		// A task that ends normally ends its context too.
		var ctx2 context.Context
		t2, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { ctx2 = c.Context(); return 0, nil })
		aio.Await(c, t2)
		if ctx2.Err() == nil {
			t.Error("the context of an ended task is not done")
		}
		return nil
	})
}

// The context inside a timeout is done when the deadline passes, with a
// cause that matches context.DeadlineExceeded; the task's own context is
// not done by it, and the scope's context ends with the scope. A shielded
// scope's context is not done by a cancellation from outside it.
func TestCtxContextScopes(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		outer := c.Context()
		var inner context.Context
		err := aio.WithTimeout(c, 10*time.Millisecond, func(c *aio.Ctx) error {
			inner = c.Context()
			if inner == outer {
				t.Error("the same context inside a scope")
			}
			return aio.Sleep(c, time.Hour)
		})
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("WithTimeout = %v", err)
		}
		if !errors.Is(context.Cause(inner), context.DeadlineExceeded) || !errors.Is(inner.Err(), context.Canceled) {
			t.Errorf("inner: Err %v, cause %v", inner.Err(), context.Cause(inner))
		}
		if outer.Err() != nil {
			t.Errorf("the task's context is done by a scope's deadline: %v", outer.Err())
		}
		// A scope's context that is not cancelled ends with the scope.
		var ended context.Context
		aio.WithScope(c, func(s *aio.Scope) error { ended = c.Context(); return nil })
		if ended.Err() == nil {
			t.Error("the context of an ended scope is not done")
		}
		// Shielded: the outside cancellation waits, and so does its context.
		var shielded context.Context
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			err := aio.Shielded(c, func(c *aio.Ctx) error {
				shielded = c.Context()
				aio.Yield(c)
				aio.Yield(c)
				if shielded.Err() != nil {
					t.Errorf("a shielded scope's context is done by an outside cancellation: %v", context.Cause(shielded))
				}
				return nil
			})
			return 0, err
		})
		aio.Yield(c)
		task.Cancel(nil)
		aio.Await(c, task)
		return nil
	})
}

// A task spawned WithContext is cancelled when its parent context is done,
// with the parent's cause, also when the parent is done before the task
// starts; its Context carries the parent's values.
func TestWithContext(t *testing.T) {
	type key struct{}
	runMainRealClock(t, func(c *aio.Ctx) error {
		cause := errors.New("client went away")
		parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), key{}, "v"))
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) {
			v, _ := c.Context().Value(key{}).(string)
			return v, aio.Sleep(c, time.Hour)
		}, aio.WithContext(parent))
		aio.Yield(c)
		cancel(cause)
		v, err := aio.Await(c, task)
		if v != "v" || !errors.Is(err, context.Canceled) || aio.Cause(err) != cause {
			t.Errorf("task = %q, %v (cause %v)", v, err, aio.Cause(err))
		}
		done, stop := context.WithCancel(context.Background())
		stop()
		early, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Hour) }, aio.WithContext(done))
		if _, err := aio.Await(c, early); !errors.Is(err, context.Canceled) {
			t.Errorf("a task with a parent done before it started: %v", err)
		}
		return nil
	})
}

// AwaitContext returns the outside context's cause once it is done (at once
// if it is done already); a cancelled task gets its own cancellation and
// stops watching; a nil context is refused.
func TestAwaitContext(t *testing.T) {
	runMainRealClock(t, func(c *aio.Ctx) error {
		cause := errors.New("deadline of the request")
		ctx, cancel := context.WithCancelCause(context.Background())
		go func() { time.Sleep(time.Millisecond); cancel(cause) }()
		if err := aio.AwaitContext(c, ctx); err != cause {
			t.Errorf("AwaitContext = %v, want the cause", err)
		}
		if err := aio.AwaitContext(c, ctx); err != cause {
			t.Errorf("AwaitContext of a done context = %v", err)
		}
		never, stop := context.WithCancel(context.Background())
		defer stop()
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, aio.AwaitContext(c, never) })
		aio.Yield(c)
		task.Cancel(nil)
		if _, err := aio.Await(c, task); !errors.Is(err, context.Canceled) || never.Err() != nil {
			t.Errorf("cancelled AwaitContext = %v", err)
		}
		if err := aio.AwaitContext(c, nil); !errors.Is(err, aio.ErrNilContext) {
			t.Errorf("AwaitContext(nil) = %v", err)
		}
		return nil
	})
}

// Context outside the task of c panics with an error matching
// ErrNotInTask.
func TestCtxContextMisuse(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var other *aio.Ctx
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { other = c; return 0, aio.Sleep(c, time.Hour) })
		aio.Yield(c)
		func() {
			defer func() {
				if err, _ := recover().(error); !errors.Is(err, aio.ErrNotInTask) {
					t.Errorf("recovered %v", err)
				}
			}()
			other.Context()
		}()
		task.Cancel(nil)
		aio.Await(c, task)
		return nil
	})
}
