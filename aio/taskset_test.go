package aio_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// Tests of TaskSet (taskset.go), eager tasks and the loop's task hook.

// JoinNext returns the set's tasks in completion order, each once, and nil
// on an empty set; Len counts running and unjoined tasks.
func TestTaskSetJoinNext(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		set, err := aio.NewTaskSet[int](c)
		if err != nil {
			return err
		}
		if task, err := set.JoinNext(c); task != nil || err != nil {
			t.Errorf("JoinNext of an empty set = %v, %v", task, err)
		}
		for _, ms := range []int{3, 1, 2} {
			set.Spawn(func(c *aio.Ctx) (int, error) {
				return ms, aio.Sleep(c, time.Duration(ms)*time.Millisecond)
			})
		}
		if set.Len() != 3 {
			t.Errorf("Len = %d, want 3", set.Len())
		}
		var got []int
		for set.Len() > 0 {
			task, err := set.JoinNext(c)
			if err != nil {
				return err
			}
			v, err := task.Result()
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		if !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("JoinNext order = %v, want [1 2 3]", got)
		}
		return set.Close(c)
	})
}

// CancelAll cancels what is running, which stays in the set until joined;
// Close cancels and waits for the rest, and Spawn after Close is
// ErrTaskSetClosed.
func TestTaskSetCancelAndClose(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		set, _ := aio.NewTaskSet[int](c)
		set.Spawn(func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Hour) })
		set.CancelAll(nil)
		task, err := set.JoinNext(c)
		if err != nil || !task.Canceled() || set.Len() != 0 {
			t.Errorf("after CancelAll: %v, %v, canceled %v, Len %d", task, err, task.Canceled(), set.Len())
		}
		cleaned := false
		set.Spawn(func(c *aio.Ctx) (int, error) {
			err := aio.Sleep(c, time.Hour)
			aio.Sleep(c, time.Millisecond) // cleanup
			cleaned = true
			return 0, err
		})
		set.Spawn(func(c *aio.Ctx) (int, error) { return 1, errors.New("unjoined failure") })
		aio.Yield(c)
		if err := set.Close(c); err != nil || !cleaned || set.Len() != 0 {
			t.Errorf("Close = %v, cleaned %v, Len %d", err, cleaned, set.Len())
		}
		if _, err := set.Spawn(func(c *aio.Ctx) (int, error) { return 0, nil }); !errors.Is(err, aio.ErrTaskSetClosed) {
			t.Errorf("Spawn after Close = %v", err)
		}
		return nil
	})
}

// What a set holds does not outlive its owner: when the task that made the
// set ends, the tasks still in it are cancelled.
func TestTaskSetOwnerEnds(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var held *aio.Task[int]
		owner, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			set, _ := aio.NewTaskSet[int](c)
			held, _ = set.Spawn(func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Hour) })
			return 0, nil
		})
		aio.Await(c, owner)
		_, err := aio.Await(c, held)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the set's task after its owner ended: %v, want cancelled", err)
		}
		return nil
	})
}

// A task cancelled in JoinNext gets the cancellation and the set is left as
// it was; misuse from another goroutine is an error.
func TestTaskSetMisuse(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		set, _ := aio.NewTaskSet[int](c)
		slow, _ := set.Spawn(func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Hour) })
		var joinErr error
		joiner, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			_, joinErr = set.JoinNext(c)
			return 0, nil
		})
		aio.Yield(c)
		joiner.Cancel(nil)
		aio.Await(c, joiner)
		if !errors.Is(joinErr, context.Canceled) || set.Len() != 1 || slow.IsDone() {
			t.Errorf("cancelled JoinNext = %v; Len %d, task done %v", joinErr, set.Len(), slow.IsDone())
		}
		if err := offLoop(func() error {
			_, err := set.Spawn(func(c *aio.Ctx) (int, error) { return 0, nil })
			return err
		}); !errors.Is(err, aio.ErrNotOnLoop) {
			t.Errorf("Spawn from another goroutine = %v", err)
		}
		if _, err := aio.NewTaskSet[int](nil); !errors.Is(err, aio.ErrNotInTask) {
			t.Errorf("NewTaskSet(nil) = %v", err)
		}
		return set.Close(c)
	})
}

// An eager task runs inside Spawn until its first suspension: one that
// never suspends is done when Spawn returns; one that suspends goes on at
// its turn, and the spawning task runs on unaffected.
func TestEagerStart(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var order []string
		task, err := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			order = append(order, "eager")
			return 1, nil
		}, aio.WithEagerStart())
		order = append(order, "after spawn")
		if err != nil || !task.IsDone() {
			t.Fatalf("eager task not done when Spawn returned: %v", err)
		}
		suspends, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			order = append(order, "eager part")
			if err := aio.Yield(c); err != nil {
				return 0, err
			}
			order = append(order, "rest")
			return 2, nil
		}, aio.WithEagerStart())
		order = append(order, "spawner")
		if v, err := aio.Await(c, suspends); v != 2 || err != nil {
			t.Errorf("suspending eager task = %d, %v", v, err)
		}
		want := []string{"eager", "after spawn", "eager part", "spawner", "rest"}
		if !slices.Equal(order, want) {
			t.Errorf("order %v, want %v", order, want)
		}
		// Nested: an eager task that spawns an eager task.
		outer, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			inner, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 3, nil }, aio.WithEagerStart())
			return aio.Await(c, inner)
		}, aio.WithEagerStart())
		if v, err := aio.Await(c, outer); v != 3 || err != nil {
			t.Errorf("nested eager = %d, %v", v, err)
		}
		return nil
	})
}

// The task hook sees every task spawned after it is set and can wrap its
// body: the wrapper runs around the body, and the task's result and error
// are the body's.
func TestTaskHook(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		l := c.Loop()
		var seen []string
		l.SetTaskHook(func(task aio.AnyTask, body func(*aio.Ctx) error) func(*aio.Ctx) error {
			return func(c *aio.Ctx) error {
				seen = append(seen, "start "+task.Name())
				err := body(c)
				seen = append(seen, "end "+task.Name())
				return err
			}
		})
		defer l.SetTaskHook(nil)
		a, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 4, aio.Yield(c) }, aio.WithName("a"))
		boom := errors.New("boom")
		b, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) { return "x", boom }, aio.WithName("b"), aio.WithEagerStart())
		if v, err := aio.Await(c, a); v != 4 || err != nil {
			t.Errorf("hooked task = %d, %v", v, err)
		}
		if v, err := aio.Await(c, b); v != "x" || !errors.Is(err, boom) {
			t.Errorf("hooked failing task = %q, %v", v, err)
		}
		want := []string{"start b", "end b", "start a", "end a"}
		if !slices.Equal(seen, want) {
			t.Errorf("hook saw %v, want %v", seen, want)
		}
		if err := offLoop(func() (err error) {
			defer func() { err, _ = recover().(error) }()
			l.SetTaskHook(nil)
			return nil
		}); !errors.Is(err, aio.ErrNotOnLoop) {
			t.Errorf("SetTaskHook from another goroutine while the loop runs: %v", err)
		}
		return nil
	})
}
