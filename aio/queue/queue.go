package queue

import (
	"errors"
	"fmt"

	"github.com/aiogo/aio/aio"
)

// ErrEmpty is returned by TryGet when the queue has no item to give: it is
// empty, or every item in it is promised to a getter that a Put woke and
// that has not run yet. It is asyncio's QueueEmpty.
var ErrEmpty = errors.New("queue: empty")

// ErrFull is returned by TryPut when a bounded queue has no free slot: it
// is full, or every free slot is promised to a putter that a Get woke and
// that has not run yet. It is asyncio's QueueFull.
var ErrFull = errors.New("queue: full")

// ErrShutdown is returned by Put and TryPut on a queue that has been shut
// down, and by Get and TryGet once such a queue is also empty (see
// Shutdown). It is asyncio's QueueShutDown. It is not aio.ErrShutdown, the
// cause with which a shutting-down loop cancels its tasks.
var ErrShutdown = errors.New("queue: shut down")

// ErrNilCmp is returned by NewPriority when it is given no comparison
// function.
var ErrNilCmp = errors.New("queue: nil comparison function")

// ErrTooManyDone is returned by TaskDone when it is called more times than
// items were put: asyncio's "task_done() called too many times". The call
// changes nothing.
var ErrTooManyDone = errors.New("queue: TaskDone called more times than items were put")

// order is the order in which a Queue gives its items out.
type order uint8

const (
	fifo     order = iota // first in, first out: asyncio's Queue
	lifo                  // last in, first out: asyncio's LifoQueue
	priority              // least first by cmp, FIFO among equals: asyncio's PriorityQueue
)

// A Queue is a queue of items of type T for the tasks of one aio loop
// (asyncio's Queue, LifoQueue and PriorityQueue in one type): Put adds an
// item, waiting while a bounded queue is full; Get takes one out, waiting
// while the queue is empty; TaskDone and Join count the items that have
// been processed; Shutdown ends the queue's use.
//
// The order is fixed when the queue is made: NewFIFO, NewLIFO or
// NewPriority. The zero value is an unbounded FIFO queue, ready to use.
// A Queue must not be copied after first use.
//
// Waiting is fair and loses nothing. Getters are served in the order they
// came, and so are putters; an item is taken out of the queue only by the
// Get (or TryGet) that returns it, in the step in which it returns, so an
// item is never handed to a getter that was cancelled meanwhile: it stays
// in the queue for the next one. A newcomer, waiting or not, takes an item
// only if the queue holds more items than there are getters that a Put
// woke and that have not run yet, so it never leaves a woken getter without
// one; likewise for the free slots of a bounded queue and woken putters.
// A woken getter takes the item that comes next when it runs.
//
// A Queue belongs to the loop of its first use. Its methods must be called
// on that loop's goroutine or in one of its tasks, Cap excepted. Put, Get
// and Join return the errors of aio.WaitQueue.Park for misuse (an error
// matching aio.ErrNotInTask for a *aio.Ctx that is not the running task's;
// from another loop, one that matches both aio.ErrNotOnLoop and
// aio.ErrInvalidState); TryPut, TryGet and TaskDone return an error
// matching aio.ErrNotOnLoop when called from a plain goroutine or another
// loop; Len, Empty, Full and Shutdown, which have no error result, panic
// with such an error.
type Queue[T any] struct {
	order order
	max   int // the bound; 0 for none
	ring  ring[T]
	heap  prioHeap[T]

	unfinished int    // items put and not yet marked done by TaskDone
	finishes   uint64 // times unfinished reached zero and released Join
	shut       bool   // Shutdown was called

	// getting and putting count the tasks inside getters.Park and
	// putters.Park: waiting, or woken and not yet run. While one is zero,
	// its wait queue is empty and has no wake in flight, and the fast
	// paths need not ask it.
	getting, putting int

	getters aio.WaitQueue // tasks waiting in Get
	putters aio.WaitQueue // tasks waiting in Put
	joiners aio.WaitQueue // tasks waiting in Join
}

// NewFIFO returns an empty first-in, first-out queue (asyncio's Queue) that
// holds at most max items; max 0 or less means no bound, as asyncio's
// maxsize does. It may be called from any goroutine; the queue belongs to
// the loop of its first use.
func NewFIFO[T any](max int) *Queue[T] {
	return &Queue[T]{order: fifo, max: bound(max)}
}

// NewLIFO returns an empty last-in, first-out queue (asyncio's LifoQueue):
// Get takes the item put last. max is as for NewFIFO.
func NewLIFO[T any](max int) *Queue[T] {
	return &Queue[T]{order: lifo, max: bound(max)}
}

// NewPriority returns an empty priority queue (asyncio's PriorityQueue):
// Get takes the least item by cmp, which returns a negative number when a
// comes before b, a positive one when b comes before a, and zero when they
// are equal, as cmp.Compare does; equal items come out in the order they
// were put. cmp is called on the loop goroutine inside Put, TryPut, Get,
// TryGet and Shutdown; it must not suspend, and a panic in it propagates to
// their caller. max is as for NewFIFO. A nil cmp returns ErrNilCmp.
func NewPriority[T any](max int, cmp func(a, b T) int) (*Queue[T], error) {
	if cmp == nil {
		return nil, ErrNilCmp
	}
	q := &Queue[T]{order: priority, max: bound(max)}
	q.heap.cmp = cmp
	return q, nil
}

// bound normalises a bound: 0 or less means none, 0.
func bound(n int) int { return max(n, 0) }

// Put adds v to the queue, first waiting, in the calling task, while a
// bounded queue is full, and returns nil once v is in. Putters waiting on a
// full queue are let in in the order they came. Put returns ErrShutdown,
// without adding v, if the queue is shut down, also while it waits. If the
// task is cancelled while it waits, Put returns the cancellation (a
// *aio.CanceledError) and v is not in the queue. Misuse errors are described
// at Queue.
func (q *Queue[T]) Put(c *aio.Ctx, v T) error {
	if err := q.enterTask(c, "Put"); err != nil {
		return err
	}
	for {
		if q.shut {
			return ErrShutdown
		}
		if q.hasRoom() {
			q.add(v)
			return nil
		}
		q.putting++
		q.putters.Describe(&putWait)
		err := q.putters.Park(c)
		q.putting--
		if err != nil {
			return err
		}
	}
}

// TryPut adds v to the queue without waiting and returns nil, or returns
// ErrShutdown if the queue is shut down, or ErrFull if it is bounded and
// has no free slot for a newcomer (see ErrFull). It is asyncio's
// put_nowait. It may be called from a callback as well as from a task; see
// Queue for misuse.
func (q *Queue[T]) TryPut(v T) error {
	if err := q.getters.CheckLoop("queue.TryPut"); err != nil {
		return err
	}
	if q.shut {
		return ErrShutdown
	}
	if !q.hasRoom() {
		return ErrFull
	}
	q.add(v)
	return nil
}

// Get takes the next item out of the queue and returns it, first waiting,
// in the calling task, while the queue is empty. Getters waiting on an
// empty queue are served in the order they came. On a queue that has been
// shut down, Get goes on returning what is left (unless the shutdown was
// immediate) and then returns ErrShutdown, also to a task already waiting.
// If the task is cancelled while it waits, Get returns the cancellation (a
// *aio.CanceledError) and the queue keeps every item: an item that arrived
// meanwhile goes to the next getter. Misuse errors are described at Queue.
func (q *Queue[T]) Get(c *aio.Ctx) (T, error) {
	if err := q.enterTask(c, "Get"); err != nil {
		var zero T
		return zero, err
	}
	for {
		if q.available() {
			return q.take(), nil
		}
		if q.shut && q.size() == 0 {
			var zero T
			return zero, ErrShutdown
		}
		q.getting++
		q.getters.Describe(&getWait)
		err := q.getters.Park(c)
		q.getting--
		if err != nil {
			var zero T
			return zero, err
		}
	}
}

// TryGet takes the next item out of the queue without waiting and returns
// it, or returns ErrShutdown if the queue is shut down and empty, or
// ErrEmpty if it has no item for a newcomer (see ErrEmpty). It is asyncio's
// get_nowait. It may be called from a callback as well as from a task; see
// Queue for misuse.
func (q *Queue[T]) TryGet() (T, error) {
	var zero T
	if err := q.getters.CheckLoop("queue.TryGet"); err != nil {
		return zero, err
	}
	if q.available() {
		return q.take(), nil
	}
	if q.shut && q.size() == 0 {
		return zero, ErrShutdown
	}
	return zero, ErrEmpty
}

// Len returns the number of items in the queue (asyncio's qsize), counting
// those promised to woken getters that have not run yet.
func (q *Queue[T]) Len() int {
	q.getters.Check("queue.Len")
	return q.size()
}

// Cap returns the queue's bound, the most items it holds (asyncio's
// maxsize), or 0 if it has none. It never changes, and Cap may be called
// from any goroutine.
func (q *Queue[T]) Cap() int { return q.max }

// Empty reports whether the queue holds no item: Len() == 0.
func (q *Queue[T]) Empty() bool {
	q.getters.Check("queue.Empty")
	return q.size() == 0
}

// Full reports whether the queue is bounded and holds as many items as its
// bound; an unbounded queue is never full.
func (q *Queue[T]) Full() bool {
	q.getters.Check("queue.Full")
	return q.max > 0 && q.size() >= q.max
}

// The protocol between Put and Get: wake and re-check.
//
// The queue's contents are the truth. A Put that adds an item wakes the
// first waiting getter if there is an item that no woken getter has yet
// been woken for; the getter, when it runs, looks at the queue again and
// takes an item if one is there for it. Nothing is handed over in the wake
// itself, so a getter cancelled between its wake and its run takes
// nothing, and the seam passes its wake to the next waiting getter (or, if
// there is none, the item is simply there for whoever comes next).
//
// Fairness comes from counting claims: getters.Waking() getters have been
// woken and not run, and each will take one item; an item is available to
// anyone else only beyond those. So the invariant, between steps, is that
// waiting getters exist only if size() <= getters.Waking(). Putters and
// free slots work the same way with putters.Waking(). A woken waiter that
// finds nothing for it (which the invariant excludes but for a Shutdown)
// parks again.

// available reports whether there is an item for the caller: one that no
// woken getter is about to take. A woken getter, once it runs, no longer
// counts in Waking.
func (q *Queue[T]) available() bool {
	n := q.size()
	return n > 0 && (q.getting == 0 || n > q.getters.Waking())
}

// hasRoom reports whether the caller may add an item: the queue is
// unbounded, or it has a free slot that no woken putter is about to take.
func (q *Queue[T]) hasRoom() bool {
	if q.max == 0 {
		return true
	}
	free := q.max - q.size()
	return free > 0 && (q.putting == 0 || free > q.putters.Waking())
}

// add puts v in the queue, counts it as unfinished and wakes a getter for
// it if one waits.
func (q *Queue[T]) add(v T) {
	switch q.order {
	case priority:
		q.heap.push(v)
	default:
		q.ring.push(v, q.max)
	}
	q.unfinished++
	if q.getting > 0 && q.getters.Len() > 0 && q.available() {
		q.getters.WakeOne()
	}
}

// take removes the next item and returns it; wakes a putter for the slot
// it frees, and, on a shut-down queue that it leaves empty, every waiting
// getter, which then returns ErrShutdown.
func (q *Queue[T]) take() T {
	v := q.pop()
	if q.putting > 0 && q.putters.Len() > 0 && q.hasRoom() {
		q.putters.WakeOne()
	}
	if q.shut && q.getting > 0 && q.size() == 0 {
		q.getters.WakeAll()
	}
	return v
}

// pop removes and returns the next item in the queue's order; the queue
// must not be empty.
func (q *Queue[T]) pop() T {
	switch q.order {
	case fifo:
		return q.ring.popFront()
	case lifo:
		return q.ring.popBack()
	default:
		return q.heap.pop()
	}
}

// size returns the number of items in the queue.
func (q *Queue[T]) size() int {
	if q.order == priority {
		return len(q.heap.s)
	}
	return q.ring.n
}

// enterTask checks that c is the running task's own Ctx and that q belongs
// to its loop, binding q to it on first use. The getters' wait queue holds
// q's binding: every method checks it first (the methods without a Ctx
// with getters.CheckLoop or getters.Check), so the other two are bound to
// the same loop when they are first used.
func (q *Queue[T]) enterTask(c *aio.Ctx, method string) error {
	if err := q.getters.CheckTask(c); err != nil {
		if errors.Is(err, aio.ErrInvalidState) {
			// The one misuse Park reports so: q belongs to another loop.
			return fmt.Errorf("%w: queue.%s: %w", aio.ErrNotOnLoop, method, err)
		}
		return fmt.Errorf("queue.%s: %w", method, err)
	}
	return nil
}

var putWait = aio.WaitLabel{Kind: "queue", What: "queue.Queue.Put"} // for the task dump (aio.Loop.Dump)

var getWait = aio.WaitLabel{Kind: "queue", What: "queue.Queue.Get"} // for the task dump (aio.Loop.Dump)
