package locks_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
)

// Set wakes every task waiting, in the order they came; a Wait on a set
// Event returns at once; after Clear, Wait waits for the next Set.
func TestEventSetWakesAll(t *testing.T) {
	var order []int
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		var e locks.Event
		var tasks []*aio.Task[int]
		for i := range 3 {
			task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				err := e.Wait(c)
				order = append(order, i)
				return 0, err
			})
			tasks = append(tasks, task)
		}
		aio.Yield(c)
		if e.IsSet() || len(order) != 0 {
			t.Errorf("before Set: IsSet %v, woken %v", e.IsSet(), order)
		}
		e.Set()
		e.Set() // twice: nothing more
		if _, err := aio.Gather(c, tasks...); err != nil {
			return 0, err
		}
		if err := e.Wait(c); err != nil || !e.IsSet() {
			t.Errorf("Wait on a set Event = %v", err)
		}
		e.Clear()
		late, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 1, e.Wait(c) })
		aio.Yield(c)
		if late.IsDone() {
			t.Error("Wait after Clear returned before the next Set")
		}
		e.Set()
		_, err := aio.Await(c, late)
		return 0, err
	})
	if err != nil || !slices.Equal(order, []int{0, 1, 2}) {
		t.Fatalf("Run = %v, order %v", err, order)
	}
}

// A task cancelled while it waits gets the cancellation and does not stop
// the others from being woken; a task woken by a Set returns even if the
// Event was cleared before it ran.
func TestEventCancelAndClear(t *testing.T) {
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		var e locks.Event
		var cancelledErr, woken error
		a, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { cancelledErr = e.Wait(c); return 0, nil })
		b, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { woken = e.Wait(c); return 0, nil })
		aio.Yield(c)
		a.Cancel(nil)
		e.Set()
		e.Clear() // before b runs
		aio.Gather(c, a, b)
		if !errors.Is(cancelledErr, context.Canceled) || woken != nil {
			t.Errorf("cancelled waiter got %v, woken one %v", cancelledErr, woken)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A Set wakes the tasks waiting at that moment only: a task that starts
// waiting after it (here, after a Clear, before the woken ones run) is not
// woken by the wake that a cancelled one of them passes on, and waits for
// the next Set.
func TestEventWakePassedByCancelledWaiterIsNotASet(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var e locks.Event
		var early, late error
		a := spawn(c, func(c *aio.Ctx) error { early = e.Wait(c); return nil })
		aio.Yield(c) // a waits
		b := spawn(c, func(c *aio.Ctx) error { late = e.Wait(c); return nil })
		e.Set() // wakes a; b has not started yet
		e.Clear()
		a.Cancel(nil) // before a runs: its wake passes on, to b once b waits
		settle(c)
		if !errors.Is(early, context.Canceled) {
			t.Errorf("cancelled waiter's Wait = %v", early)
		}
		if b.IsDone() {
			t.Fatalf("a Wait that began after the Set returned %v with the Event clear", late)
		}
		e.Set()
		_, err := aio.Await(c, b)
		if err != nil || late != nil {
			t.Errorf("after the next Set: task %v, Wait %v", err, late)
		}
		return nil
	})
}

// An Event is an aio.Awaitable: Await waits for it as Wait does.
func TestEventIsAwaitable(t *testing.T) {
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		var e locks.Event
		c.Loop().CallSoon(e.Set)
		_, err := aio.Await[struct{}](c, &e)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// An Event used from a plain goroutine panics with ErrNotOnLoop (Set,
// Clear, IsSet have no error result); Wait with a Ctx that is not the
// running task's returns ErrNotInTask.
func TestEventMisuse(t *testing.T) {
	var e locks.Event
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, aio.ErrNotOnLoop) {
			t.Fatalf("Set from a plain goroutine: panic %v, want ErrNotOnLoop", err)
		}
	}()
	if err := e.Wait(nil); !errors.Is(err, aio.ErrNotInTask) {
		t.Errorf("Wait(nil) = %v", err)
	}
	e.Set()
}
