package queue_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/queue"
)

// Join returns at once on a queue with nothing unfinished, and otherwise
// waits until every item put has been marked done with TaskDone, getting
// it not being enough; every task waiting in Join is released together.
func TestJoinWaitsForTaskDone(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](0)
		if err := q.Join(c); err != nil {
			t.Errorf("Join on a fresh queue = %v", err)
		}
		for i := range 3 {
			q.TryPut(i)
		}
		var joined [2]bool
		var joiners []*aio.Task[int]
		for i := range joined {
			j, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				err := q.Join(c)
				joined[i] = true
				return 0, err
			})
			joiners = append(joiners, j)
		}
		settle(c)
		for range 3 {
			q.TryGet()
		}
		settle(c)
		if joined[0] || joined[1] {
			t.Error("Join returned when the items were got, before TaskDone")
		}
		q.TaskDone()
		q.TaskDone()
		settle(c)
		if joined[0] || joined[1] {
			t.Error("Join returned with one item unfinished")
		}
		if err := q.TaskDone(); err != nil {
			t.Errorf("TaskDone = %v", err)
		}
		_, err := aio.Gather(c, joiners...)
		return err
	})
}

// TaskDone called more times than items were put returns ErrTooManyDone,
// never panics, and changes nothing: the count stays at zero, and the next
// item put needs its own TaskDone.
func TestTaskDoneTooOften(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewLIFO[string](0)
		if err := q.TaskDone(); !errors.Is(err, queue.ErrTooManyDone) {
			t.Errorf("TaskDone on a fresh queue = %v, want ErrTooManyDone", err)
		}
		q.TryPut("a")
		q.TryGet()
		if err := q.TaskDone(); err != nil {
			t.Errorf("TaskDone = %v", err)
		}
		if err := q.TaskDone(); !errors.Is(err, queue.ErrTooManyDone) {
			t.Errorf("TaskDone once too often = %v, want ErrTooManyDone", err)
		}
		q.TryPut("b")
		j, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, q.Join(c) })
		settle(c)
		if j.IsDone() {
			t.Error("Join returned with an item unfinished: the extra TaskDone counted")
		}
		q.TaskDone()
		_, err := aio.Await(c, j)
		return err
	})
}

// A task cancelled while it waits in Join gets the cancellation; a task
// that the last TaskDone released returns nil even if another item was put
// before it ran, as in asyncio (the queue was finished while it waited).
func TestJoinCancelAndLateput(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](0)
		q.TryPut(1)
		var errA, errB error
		a, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { errA = q.Join(c); return 0, nil })
		b, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { errB = q.Join(c); return 0, nil })
		settle(c)
		a.Cancel(nil)
		q.TryGet()
		q.TaskDone() // releases b ...
		q.TryPut(2)  // ... which returns although 2 is unfinished
		aio.Gather(c, a, b)
		if !errors.Is(errA, context.Canceled) || errB != nil {
			t.Errorf("cancelled joiner: %v; released joiner: %v", errA, errB)
		}
		return nil
	})
}

// A joiner that the last TaskDone woke and that is cancelled before it runs
// passes its wake on (the seam does) to a task that began to Join after an
// item was put again: that task does not return while the item is
// unfinished, and returns once it is done.
func TestJoinPassedWakeDoesNotRelease(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](0)
		q.TryPut(1)
		early, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, q.Join(c) })
		settle(c)
		q.TryGet()
		q.TaskDone() // wakes early ...
		q.TryPut(2)  // ... and a new item is unfinished
		late, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, q.Join(c) }, aio.WithEagerStart())
		early.Cancel(nil) // before early runs: its wake passes to late
		settle(c)
		if !early.IsDone() || late.IsDone() {
			t.Errorf("early done %v (want true), late done %v (want false: 2 is unfinished)", early.IsDone(), late.IsDone())
		}
		q.TryGet()
		q.TaskDone()
		_, err := aio.Await(c, late)
		return err
	})
}
