package queue_test

import (
	"errors"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/queue"
)

// NewPriority without a comparison function returns ErrNilCmp and no queue.
func TestNewPriorityNilCmp(t *testing.T) {
	q, err := queue.NewPriority[int](0, nil)
	if q != nil || !errors.Is(err, queue.ErrNilCmp) {
		t.Fatalf("NewPriority(0, nil) = %v, %v; want nil, ErrNilCmp", q, err)
	}
}

// panicErr runs f and returns the error it panicked with, or nil.
func panicErr(f func()) (err error) {
	defer func() { err, _ = recover().(error) }()
	f()
	return nil
}

// From a plain goroutine, with a *aio.Ctx borrowed from a task or none:
// Put, Get and Join return ErrNotInTask; TryPut, TryGet and TaskDone return
// ErrNotOnLoop; Len, Empty, Full and Shutdown panic with ErrNotOnLoop; Cap
// answers. None waits or changes the queue.
func TestPlainGoroutine(t *testing.T) {
	q := queue.NewFIFO[int](4)
	check := func(c *aio.Ctx) {
		if err := q.Put(c, 1); !errors.Is(err, aio.ErrNotInTask) {
			t.Errorf("Put = %v, want ErrNotInTask", err)
		}
		if _, err := q.Get(c); !errors.Is(err, aio.ErrNotInTask) {
			t.Errorf("Get = %v, want ErrNotInTask", err)
		}
		if err := q.Join(c); !errors.Is(err, aio.ErrNotInTask) {
			t.Errorf("Join = %v, want ErrNotInTask", err)
		}
		if err := q.TryPut(1); !errors.Is(err, aio.ErrNotOnLoop) {
			t.Errorf("TryPut = %v, want ErrNotOnLoop", err)
		}
		if _, err := q.TryGet(); !errors.Is(err, aio.ErrNotOnLoop) {
			t.Errorf("TryGet = %v, want ErrNotOnLoop", err)
		}
		if err := q.TaskDone(); !errors.Is(err, aio.ErrNotOnLoop) {
			t.Errorf("TaskDone = %v, want ErrNotOnLoop", err)
		}
		for name, f := range map[string]func(){
			"Len": func() { q.Len() }, "Empty": func() { q.Empty() },
			"Full": func() { q.Full() }, "Shutdown": func() { q.Shutdown(true) },
		} {
			if err := panicErr(f); !errors.Is(err, aio.ErrNotOnLoop) {
				t.Errorf("%s: panic %v, want ErrNotOnLoop", name, err)
			}
		}
		if q.Cap() != 4 {
			t.Errorf("Cap = %d", q.Cap())
		}
	}
	check(nil) // no loop at all
	run(t, func(c *aio.Ctx) error {
		q.TryPut(7) // binds q to this loop
		done := make(chan struct{})
		go func() { // blocks the loop until it is done; fine in a test
			defer close(done)
			check(c)
		}()
		<-done
		if v, err := q.TryGet(); v != 7 || err != nil {
			t.Errorf("the queue changed: TryGet = %d, %v", v, err)
		}
		return nil
	})
}

// A queue belongs to the loop of its first use: from another loop every
// method with an error result returns one matching ErrNotOnLoop (Put, Get
// and Join also ErrInvalidState, as WaitQueue.Park does), and the others
// panic with one.
func TestAnotherLoop(t *testing.T) {
	q := queue.NewFIFO[int](0)
	run(t, func(c *aio.Ctx) error { return q.TryPut(1) })
	run(t, func(c *aio.Ctx) error {
		for name, err := range map[string]error{
			"Put":      q.Put(c, 1),
			"Get":      second(q.Get(c)),
			"Join":     q.Join(c),
			"TryPut":   q.TryPut(1),
			"TryGet":   second(q.TryGet()),
			"TaskDone": q.TaskDone(),
		} {
			if !errors.Is(err, aio.ErrNotOnLoop) {
				t.Errorf("%s from another loop = %v, want ErrNotOnLoop", name, err)
			}
			if (name == "Put" || name == "Get" || name == "Join") && !errors.Is(err, aio.ErrInvalidState) {
				t.Errorf("%s from another loop = %v, want ErrInvalidState too", name, err)
			}
		}
		if err := panicErr(func() { q.Len() }); !errors.Is(err, aio.ErrNotOnLoop) {
			t.Errorf("Len: panic %v, want ErrNotOnLoop", err)
		}
		return nil
	})
}

func second[T any](_ T, err error) error { return err }

// From a callback of the loop (not a task), the methods that do not wait
// work, and Put, Get and Join, which may wait, return ErrNotInTask.
func TestFromCallback(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](0)
		var putErr, getErr, tryErr error
		h, _ := c.Loop().CallSoon(func() {
			tryErr = q.TryPut(1)
			putErr = q.Put(c, 2)
			_, getErr = q.Get(c)
		})
		_ = h
		settle(c)
		if tryErr != nil || !errors.Is(putErr, aio.ErrNotInTask) || !errors.Is(getErr, aio.ErrNotInTask) {
			t.Errorf("TryPut %v, Put %v, Get %v", tryErr, putErr, getErr)
		}
		if q.Len() != 1 {
			t.Errorf("Len = %d, want 1", q.Len())
		}
		return nil
	})
}
