// Package queue provides asyncio's queues for the tasks of an aio loop: one
// type, Queue[T], in first-in first-out order (NewFIFO, or the zero value;
// asyncio's Queue), last-in first-out order (NewLIFO; LifoQueue) or
// priority order (NewPriority with a comparison function; PriorityQueue),
// bounded or not.
//
// Put adds an item and waits while a bounded queue is full; Get takes one
// and waits while the queue is empty; TryPut and TryGet do the same without
// waiting and return ErrFull or ErrEmpty instead. TaskDone and Join count
// the items processed, so that a producer can wait until its consumers have
// handled everything it put (asyncio's task_done and join). Shutdown ends
// the queue's use, gracefully (getters drain what is left) or at once (the
// items are dropped and returned to the caller); afterwards every Put, and
// every Get once the queue is empty, returns ErrShutdown.
//
// A Queue is built on aio's wait-queue seam (aio.WaitQueue) alone, as a
// program can build its own primitives, and it keeps the seam's promise:
// no value is lost to a cancellation. An item leaves the queue only in the
// step in which a Get returns it, so a getter cancelled in the same loop
// iteration in which an item arrives for it (by Task.Cancel, a timeout of
// aio.WithTimeout, aio.WaitFor) leaves the item in the queue for the next
// getter, and no waiter behind a cancelled one is stranded (the bug of
// python/asyncio#343). Waiters are served in the order they came.
//
// A Queue differs from aio.Chan, the loop-native channel of package aio:
// a Queue has task accounting (TaskDone and Join), priority and LIFO
// orders and shutdown modes, while a Chan has Go's channel semantics and
// works in Select.
//
// Like everything of a loop, a Queue is for the loop's own tasks: it belongs
// to the loop of its first use, and its methods must be called on that
// loop's goroutine or in one of its tasks (Put, Get and Join in a task,
// since they may wait). Misuse returns an error matching aio.ErrNotOnLoop
// (or aio.ErrNotInTask, for a *aio.Ctx that is not the running task's), or
// panics with one from the methods without an error result; see Queue.
// Goroutines outside the loop hand items to it through the loop's own
// means, such as Loop.CallSoon with a TryPut, or aio.Spawn of a task that
// Puts.
//
// A producer and a consumer:
//
//	aio.Run(func(c *aio.Ctx) (struct{}, error) {
//		q := queue.NewFIFO[string](8)
//		consumer, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
//			n := 0
//			for {
//				s, err := q.Get(c)
//				if errors.Is(err, queue.ErrShutdown) {
//					return n, nil // drained
//				} else if err != nil {
//					return n, err
//				}
//				fmt.Println(s)
//				n++
//			}
//		})
//		for _, s := range []string{"a", "b", "c"} {
//			if err := q.Put(c, s); err != nil {
//				return struct{}{}, err
//			}
//		}
//		q.Shutdown(false) // no more items; the consumer drains the rest
//		_, err := aio.Await(c, consumer)
//		return struct{}{}, err
//	})
package queue
