package aio_test

import (
	"fmt"

	"github.com/aiogo/aio/aio"
)

// Latch is an awaitable event of the program's own: tasks await it until it
// has been counted down to zero. It is built on aio.WaitQueue, the seam the
// package's own futures and primitives use.
type Latch struct {
	count int
	q     aio.WaitQueue
}

// CountDown counts one down; at zero it wakes every waiting task.
func (l *Latch) CountDown() {
	if l.count > 0 {
		if l.count--; l.count == 0 {
			l.q.WakeAll()
		}
	}
}

// Poll makes a Latch an aio.Awaitable[int]: ready (with the count, 0) once
// the count is zero; until then it adds the waiter to the latch's queue,
// and a wake makes Await (or Gather) poll again.
func (l *Latch) Poll(w *aio.Waiter) (int, bool, error) {
	if l.count == 0 {
		return 0, true, nil
	}
	l.q.Add(w)
	return l.count, false, nil
}

// A countdown latch, awaited like a future: the main task waits for three
// workers to count it down.
func ExampleAwaitable() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		latch := &Latch{count: 3}
		for i := range 3 {
			aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
				fmt.Println("worker", i, "done")
				latch.CountDown()
				return struct{}{}, nil
			})
		}
		_, err := aio.Await[int](c, latch)
		fmt.Println("all workers done:", err)
		return struct{}{}, err
	})
	// Output:
	// worker 0 done
	// worker 1 done
	// worker 2 done
	// all workers done: <nil>
}
