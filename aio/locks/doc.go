// Package locks provides synchronisation primitives for the tasks of an aio
// loop, those of asyncio and a reader/writer lock:
//
//   - Lock, a mutual exclusion lock;
//   - Event, a flag that tasks wait for;
//   - Condition, a condition variable over a Lock;
//   - Semaphore and BoundedSemaphore, counted permits;
//   - Barrier, which makes a number of tasks wait for each other;
//   - RWLock, a reader/writer lock (tokio's RwLock; asyncio has none).
//
// Tasks of one loop never run at the same time, so code that does not
// suspend needs no lock at all; these primitives are for coordinating tasks
// across their suspension points: a Lock held across an Await, a Semaphore
// bounding how many tasks do something at once.
//
// They are built on aio's wait-queue seam (aio.WaitQueue) alone, as a
// program can build its own, and share its rules. Waiting is fair: tasks are
// served in the order they started waiting, and a task that comes along
// while something is being handed to a woken waiter does not take it. A
// waiter that is cancelled (Task.Cancel, or an aio.WithTimeout around the
// wait) gets the cancellation and nothing else: a lock or permit released
// for it goes to the next waiter or stays free, and a notification passes to
// the next waiter, so nothing is lost and nobody waiting behind it is
// stranded (the failures of CPython gh-90155 and python/asyncio#270).
//
// Each primitive is ready to use as its zero value, or made by one
// constructor (NewSemaphore, NewBoundedSemaphore, NewBarrier, NewCondition),
// and belongs to the loop of its first use. It must be used from that
// loop's goroutine and tasks only, and the methods that wait from a task: a
// method without an error result panics with an error matching
// aio.ErrNotOnLoop elsewhere, one with an error result returns it (and one
// matching aio.ErrInvalidState for a task of another loop, as
// aio.WaitQueue.Park does). Errors the caller can cause are the sentinels
// ErrNotLocked, ErrReleasedTooOften, ErrBrokenBarrier and ErrInvalidCount.
package locks
