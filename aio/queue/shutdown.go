package queue

// Shutdown shuts the queue down (asyncio 3.13's shutdown) and returns the
// items it dropped, if any, in the order Get would have returned them.
//
// From then on Put and TryPut return ErrShutdown at once, and every task
// waiting in Put is woken and returns ErrShutdown; its item was not put.
//
// A graceful shutdown (immediate false) keeps the items that are in the
// queue: Get and TryGet go on returning them, and once the queue is empty
// they return ErrShutdown, as does every task waiting in Get at that point.
// Join still waits for the items to be marked done. Shutdown then returns
// nil.
//
// An immediate shutdown (immediate true) takes every item out of the queue
// and returns them, so that nothing is lost without the caller knowing;
// the count of unfinished items goes down by as many (but not below zero,
// as in asyncio), which releases Join if it reaches zero, and every task
// waiting in Get is woken and returns ErrShutdown.
//
// Shutdown may be called more than once: again with immediate true, it
// drops and returns what a graceful shutdown left; otherwise it does
// nothing more. A shut-down queue stays so: every later Put or TryPut, and
// every Get or TryGet once it is empty, returns ErrShutdown; nothing waits
// on it for ever. Shutdown panics with an error matching aio.ErrNotOnLoop
// if called off the queue's loop (see Queue).
func (q *Queue[T]) Shutdown(immediate bool) []T {
	q.getters.Check("queue.Shutdown")
	q.shut = true
	var dropped []T
	if immediate && q.size() > 0 {
		dropped = make([]T, 0, q.size())
		for q.size() > 0 {
			dropped = append(dropped, q.pop())
		}
		q.unfinished = max(q.unfinished-len(dropped), 0)
		if q.unfinished == 0 {
			q.finish()
		}
	}
	q.putters.WakeAll()
	if q.size() == 0 {
		q.getters.WakeAll()
	}
	return dropped
}
