package aio_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// Tests of task groups (group.go): the rules of structured concurrency as a
// group keeps them.

// WithGroup waits for every task spawned into it, those spawned by its
// tasks while it waits included, and their results stay reachable through
// the *Task that Spawn(g, ...) returns.
func TestGroupWaitsForAll(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var tasks []*aio.Task[int]
		late := false
		err := aio.WithGroup(c, func(g *aio.Group) error {
			for i := range 5 {
				task, err := aio.Spawn(g, func(c *aio.Ctx) (int, error) {
					return i * i, aio.Sleep(c, time.Duration(5-i)*time.Millisecond)
				})
				if err != nil {
					return err
				}
				tasks = append(tasks, task)
			}
			return g.Go(func(c *aio.Ctx) error {
				aio.Sleep(c, 6*time.Millisecond) // after the body returned
				return g.Go(func(c *aio.Ctx) error {
					late = true
					return aio.Yield(c)
				})
			})
		})
		if err != nil {
			return err
		}
		for i, task := range tasks {
			if v, err := task.Result(); v != i*i || err != nil {
				t.Errorf("task %d: %d, %v", i, v, err)
			}
		}
		if !late {
			t.Error("a task spawned into the group while it waited did not run before the group ended")
		}
		return nil
	})
}

// The first task to fail cancels its siblings and the group's body; the
// group returns the failure as a *TaskError that names the task, seen
// through by errors.Is and errors.As, and the cancellations it made itself
// are not in the error. Tasks that failed in their cleanup count too, and a
// panic is a *PanicError in the joined error.
func TestGroupFirstFailureCancelsTheRest(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		boom := errors.New("boom")
		cleanup := errors.New("cleanup failed")
		var bodyErr, siblingErr error
		var failing aio.AnyTask
		err := aio.WithGroup(c, func(g *aio.Group) error {
			aio.Spawn(g, func(c *aio.Ctx) (int, error) {
				siblingErr = aio.Sleep(c, time.Hour)
				return 0, siblingErr
			})
			g.Go(func(c *aio.Ctx) error {
				if err := aio.Sleep(c, time.Hour); err != nil {
					return cleanup
				}
				return nil
			})
			g.Go(func(c *aio.Ctx) error {
				aio.Sleep(c, time.Hour)
				panicky("in a child")
				return nil
			})
			failing, _ = aio.Spawn(g, func(c *aio.Ctx) (int, error) {
				aio.Sleep(c, time.Millisecond)
				return 0, boom
			}, aio.WithName("failing"))
			bodyErr = aio.Sleep(c, time.Hour)
			return bodyErr
		})
		var te *aio.TaskError
		var pe *aio.PanicError
		switch {
		case !errors.Is(err, boom) || !errors.Is(err, cleanup) || !errors.As(err, &pe):
			t.Errorf("WithGroup = %v; want boom, the cleanup error and the panic", err)
		case !errors.As(err, &te) || te.Task != failing || !strings.Contains(err.Error(), "failing#"):
			t.Errorf("WithGroup = %v; the first error does not name the failing task", err)
		case errors.Is(err, context.Canceled):
			t.Errorf("WithGroup = %v; holds the group's own cancellations", err)
		}
		if !errors.Is(bodyErr, context.Canceled) || !errors.Is(siblingErr, context.Canceled) {
			t.Errorf("body got %v, sibling got %v; want cancellations", bodyErr, siblingErr)
		}
		if n := c.Task().Cancelling(); n != 0 {
			t.Errorf("Cancelling = %d after the group, want 0", n)
		}
		return aio.Sleep(c, time.Millisecond) // not cancelled
	})
}

// The body's own error aborts the group as a task's failure does, and is
// in the joined error beside the tasks' errors.
func TestGroupBodyError(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		bad := errors.New("body failed")
		var child error
		err := aio.WithGroup(c, func(g *aio.Group) error {
			g.Go(func(c *aio.Ctx) error { child = aio.Sleep(c, time.Hour); return child })
			aio.Yield(c)
			return bad
		})
		if !errors.Is(err, bad) || errors.Is(err, context.Canceled) || !errors.Is(child, context.Canceled) {
			t.Errorf("WithGroup = %v, child %v", err, child)
		}
		return nil
	})
}

// Group.Cancel cancels the tasks and the body; the group ends with no error
// of its own, and spawning into it afterwards is ErrGroupClosed.
func TestGroupCancel(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var child, body, spawn error
		err := aio.WithGroup(c, func(g *aio.Group) error {
			g.Go(func(c *aio.Ctx) error { child = aio.Sleep(c, time.Hour); return child })
			g.Go(func(c *aio.Ctx) error {
				aio.Sleep(c, time.Millisecond)
				g.Cancel(errors.New("enough"))
				return nil
			})
			body = aio.Sleep(c, time.Hour)
			spawn = g.Go(func(*aio.Ctx) error { return nil })
			return body
		})
		if err != nil || aio.Cause(child).Error() != "enough" || !errors.Is(body, context.Canceled) {
			t.Errorf("WithGroup = %v, child %v, body %v", err, child, body)
		}
		if !errors.Is(spawn, aio.ErrGroupClosed) {
			t.Errorf("spawn into a cancelled group = %v, want ErrGroupClosed", spawn)
		}
		return nil
	})
}

// A group whose task is cancelled from outside cancels its children, waits
// for them, and returns the outside cancellation as it is, never converted
// into the children's errors; an error a child returned meanwhile goes to
// the loop's error handler.
func TestGroupOutsideCancel(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		rec := record(c.Loop())
		childDone := false
		var groupErr error
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			groupErr = aio.WithGroup(c, func(g *aio.Group) error {
				g.Go(func(c *aio.Ctx) error {
					aio.Sleep(c, time.Hour)
					aio.Sleep(c, time.Millisecond) // cleanup takes a while
					childDone = true
					return errors.New("failed on the way out")
				})
				return aio.Sleep(c, time.Hour)
			})
			return 0, groupErr
		})
		aio.Sleep(c, time.Millisecond)
		task.Cancel(errors.New("outside"))
		aio.Await(c, task)
		if !errors.Is(groupErr, context.Canceled) || aio.Cause(groupErr).Error() != "outside" || !childDone {
			t.Errorf("WithGroup = %v (cause %v), child done %v; want the outside cancellation after the child", groupErr, aio.Cause(groupErr), childDone)
		}
		if !task.Canceled() {
			t.Errorf("the task that ran the group is not cancelled: %v", task.Err())
		}
		aio.Yield(c)
		if n := rec.count("cancelled from outside"); n != 1 {
			t.Errorf("%d reports of the child's dropped error, want 1: %v", n, rec.all())
		}
		return nil
	})
}

// An outside cancellation that arrives in the iteration a child fails wins:
// the group returns the cancellation, not the child's error.
func TestGroupOutsideCancelAndFailureTogether(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		record(c.Loop())
		var groupErr error
		var task *aio.Task[int]
		task, _ = aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			groupErr = aio.WithGroup(c, func(g *aio.Group) error {
				g.Go(func(c *aio.Ctx) error {
					task.Cancel(errors.New("outside")) // the same turn
					return errors.New("child failed")
				})
				return aio.Sleep(c, time.Hour)
			})
			return 0, groupErr
		})
		aio.Await(c, task)
		if aio.Cause(groupErr) == nil || aio.Cause(groupErr).Error() != "outside" {
			t.Errorf("WithGroup = %v; want the outside cancellation", groupErr)
		}
		return nil
	})
}

// Groups nest: an inner group's failure is the inner WithGroup's error,
// which fails the task of the outer group that ran it; the outer group
// returns it wrapped once more.
func TestGroupNested(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		boom := errors.New("boom")
		var outerSibling error
		err := aio.WithGroup(c, func(outer *aio.Group) error {
			outer.Go(func(c *aio.Ctx) error { outerSibling = aio.Sleep(c, time.Hour); return outerSibling })
			outer.Go(func(c *aio.Ctx) error {
				return aio.WithGroup(c, func(inner *aio.Group) error {
					inner.Go(func(c *aio.Ctx) error { return boom })
					return aio.Sleep(c, time.Hour)
				})
			})
			return nil
		})
		if !errors.Is(err, boom) || !errors.Is(outerSibling, context.Canceled) {
			t.Errorf("nested groups = %v, outer sibling %v", err, outerSibling)
		}
		return nil
	})
}

// Bad input and misuse: a nil body or func, spawning after the group ended,
// spawning from another goroutine, and a group of no tasks.
func TestGroupMisuse(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		if err := aio.WithGroup(c, nil); !errors.Is(err, aio.ErrNilFunc) {
			t.Errorf("WithGroup(nil) = %v", err)
		}
		var kept *aio.Group
		err := aio.WithGroup(c, func(g *aio.Group) error {
			kept = g
			if err := g.Go(nil); !errors.Is(err, aio.ErrNilFunc) {
				t.Errorf("Go(nil) = %v", err)
			}
			if err := offLoop(func() error { return g.Go(func(*aio.Ctx) error { return nil }) }); !errors.Is(err, aio.ErrNotOnLoop) {
				t.Errorf("Go from another goroutine = %v", err)
			}
			return nil
		})
		if err != nil {
			t.Errorf("a group of no tasks = %v", err)
		}
		if err := kept.Go(func(*aio.Ctx) error { return nil }); !errors.Is(err, aio.ErrGroupClosed) {
			t.Errorf("Go after the group ended = %v", err)
		}
		if kept.Len() != 0 {
			t.Errorf("Len after the end = %d", kept.Len())
		}
		kept.Cancel(nil) // ended: nothing
		return nil
	})
}

// A panic in the group's body cancels the tasks, waits for them, and goes
// on up as a panic; the task's scopes are back in order for whoever
// recovers.
func TestGroupBodyPanics(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var child error
		func() {
			defer func() { recover() }()
			aio.WithGroup(c, func(g *aio.Group) error {
				g.Go(func(c *aio.Ctx) error { child = aio.Sleep(c, time.Hour); return child })
				aio.Yield(c)
				panic("in the body")
			})
		}()
		if c.Scope() != nil {
			t.Error("a scope is left open after the panic")
		}
		aio.Yield(c)
		aio.Yield(c)
		if !errors.Is(child, context.Canceled) {
			t.Errorf("child after the body's panic: %v", child)
		}
		return aio.Sleep(c, time.Millisecond) // not cancelled
	})
}
