// Package locks provides synchronisation primitives for the tasks of an aio
// loop: Event here, and the locks, semaphores and conditions of asyncio to
// come. They are built on aio's wait-queue seam (aio.WaitQueue) alone, as a
// program can build its own.
//
// Tasks of one loop never run at the same time, so code that does not
// suspend needs no lock at all; these primitives are for coordinating tasks
// across their suspension points. Each belongs to the loop of its first use
// and must be used from that loop's goroutine and tasks only: a method
// without an error result panics with an error matching aio.ErrNotOnLoop
// elsewhere, one with an error result returns it.
package locks
