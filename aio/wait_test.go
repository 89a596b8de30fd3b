package aio_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
)

// Tests of the wait-queue seam: WaitQueue and Awaitables of one's own.

// Tasks parked on a WaitQueue are woken in FIFO order, one by WakeOne,
// all by WakeAll; Park returns nil to a woken task.
func TestWaitQueueFIFO(t *testing.T) {
	var woken []int
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		var q aio.WaitQueue
		var tasks []*aio.Task[int]
		for i := range 5 {
			task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				if err := q.Park(c); err != nil {
					return 0, err
				}
				woken = append(woken, i)
				return i, nil
			})
			tasks = append(tasks, task)
		}
		aio.Yield(c) // all five park
		if n := q.Len(); n != 5 {
			t.Errorf("Len = %d, want 5", n)
		}
		q.WakeOne()
		q.WakeOne()
		aio.Yield(c)
		if !slices.Equal(woken, []int{0, 1}) {
			t.Errorf("after two WakeOne: woken %v", woken)
		}
		if n := q.WakeAll(); n != 3 {
			t.Errorf("WakeAll = %d, want 3", n)
		}
		_, err := aio.Gather(c, tasks...)
		if q.WakeOne() || q.Len() != 0 {
			t.Error("WakeOne of an empty queue reported a waiter")
		}
		return 0, err
	})
	if err != nil || !slices.Equal(woken, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("Run = %v, woken %v", err, woken)
	}
}

// A task cancelled while parked leaves the queue at once (WakeOne then
// wakes the next one) and Park returns the cancellation.
func TestWaitQueueCancelWhileParked(t *testing.T) {
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		var q aio.WaitQueue
		var errs [2]error
		a, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { errs[0] = q.Park(c); return 0, nil })
		b, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { errs[1] = q.Park(c); return 0, nil })
		aio.Yield(c)
		a.Cancel(nil)
		if n := q.Len(); n != 1 {
			t.Errorf("Len after cancelling a parked task = %d, want 1", n)
		}
		q.WakeOne()
		aio.Gather(c, a, b)
		if !errors.Is(errs[0], context.Canceled) || errs[1] != nil {
			t.Errorf("Park returned %v to the cancelled task, %v to the woken one", errs[0], errs[1])
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A wake that races with a cancellation is not lost: WakeOne picks a task,
// the task is cancelled before it resumes; Park returns the cancellation to
// it and the wake passes to the next task in the queue.
func TestWaitQueueWakePassesOnWhenCancelled(t *testing.T) {
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		var q aio.WaitQueue
		var errs [3]error
		var tasks []*aio.Task[int]
		for i := range 3 {
			task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { errs[i] = q.Park(c); return 0, nil })
			tasks = append(tasks, task)
		}
		aio.Yield(c)
		q.WakeOne()          // picks task 0
		tasks[0].Cancel(nil) // before it resumes
		aio.Yield(c)
		aio.Yield(c)
		if !errors.Is(errs[0], context.Canceled) || errs[1] != nil || !tasks[1].IsDone() || tasks[2].IsDone() {
			t.Errorf("errors %v; task 1 done %v, task 2 done %v: the wake should have passed to task 1 only",
				errs, tasks[1].IsDone(), tasks[2].IsDone())
		}
		q.WakeAll()
		aio.Gather(c, tasks...)
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Waking counts the wakes in flight: a waiter WakeOne picked counts until
// it resumes; one cancelled before it resumes hands the count to the next
// waiter it passes the wake to, or drops it if there is none.
func TestWaitQueueWaking(t *testing.T) {
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		var q aio.WaitQueue
		park := func() *aio.Task[int] {
			task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, q.Park(c) })
			return task
		}
		a, b := park(), park()
		aio.Yield(c)
		q.WakeOne()
		if q.Waking() != 1 || q.Len() != 1 {
			t.Errorf("after WakeOne: Waking %d, Len %d; want 1, 1", q.Waking(), q.Len())
		}
		a.Cancel(nil) // before it resumes: its wake passes to b when it does
		aio.GatherAll(c, a, b)
		if q.Waking() != 0 {
			t.Errorf("after b resumed: Waking %d", q.Waking())
		}
		a, b = park(), park()
		aio.Yield(c)
		q.WakeAll()
		if q.Waking() != 2 {
			t.Errorf("after WakeAll: Waking %d, want 2", q.Waking())
		}
		a.Cancel(nil)
		b.Cancel(nil) // no one to pass to
		aio.GatherAll(c, a, b)
		if q.Waking() != 0 || q.Len() != 0 {
			t.Errorf("after both picked waiters were cancelled: Waking %d, Len %d", q.Waking(), q.Len())
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Park refuses misuse: a nil Ctx, another task's Ctx, and a queue of
// another loop.
func TestWaitQueueMisuse(t *testing.T) {
	var q aio.WaitQueue
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		if err := q.Park(nil); !errors.Is(err, aio.ErrNotInTask) {
			t.Errorf("Park(nil) = %v", err)
		}
		other, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, q.Park(c) })
		aio.Yield(c)
		q.WakeAll()
		_, err := aio.Await(c, other)
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	// q now belongs to the first loop.
	_, err = aio.Run(func(c *aio.Ctx) (int, error) {
		if err := q.Park(c); !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("Park on a queue of another loop = %v, want ErrInvalidState", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// latch is an awaitable of one's own, built on WaitQueue: it is ready once
// counted down to zero.
type latch struct {
	n int
	q aio.WaitQueue
}

func (l *latch) countDown() {
	if l.n--; l.n == 0 {
		l.q.WakeAll()
	}
}

func (l *latch) Poll(w *aio.Waiter) (int, bool, error) {
	if l.n <= 0 {
		return 0, true, nil
	}
	l.q.Add(w)
	return 0, false, nil
}

// An Awaitable of one's own is awaited like a future, by Await and Gather,
// and a task awaiting it is cancelled like one awaiting a future.
func TestCustomAwaitable(t *testing.T) {
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		l := &latch{n: 3}
		var order []string
		waiter, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			_, err := aio.Await(c, aio.Awaitable[int](l))
			order = append(order, "released")
			return 0, err
		})
		gathered, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			_, err := aio.Gather(c, l, l)
			order = append(order, "gathered")
			return 0, err
		})
		cancelled, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			_, err := aio.Await(c, aio.Awaitable[int](l))
			return 0, err
		})
		aio.Yield(c)
		cancelled.Cancel(nil)
		for range 3 {
			order = append(order, "count")
			l.countDown()
			aio.Yield(c)
		}
		if _, err := aio.Gather(c, waiter, gathered); err != nil {
			return 0, err
		}
		if !cancelled.Canceled() {
			t.Errorf("the cancelled waiter ended with %v", cancelled.Err())
		}
		if got := slices.Index(order, "released"); got != 3 {
			t.Errorf("order %v: released before the count reached zero", order)
		}
		// Ready now: Await returns at once.
		_, err := aio.Await(c, aio.Awaitable[int](l))
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// noQueue is an Awaitable whose Poll wrongly reports not ready without
// adding the Waiter anywhere: Await refuses to wait for ever.
type noQueue struct{}

func (noQueue) Poll(*aio.Waiter) (int, bool, error) { return 0, false, nil }

// An Awaitable that reports not ready without adding the Waiter to a queue
// would never wake its task: Await returns an error matching
// ErrInvalidState instead of hanging.
func TestCustomAwaitableWithoutQueue(t *testing.T) {
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		_, err := aio.Await[int](c, noQueue{})
		if !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("Await of a Poll that adds the Waiter nowhere = %v", err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
