package queue

import "github.com/aiogo/aio/aio"

// TaskDone marks one item got from the queue as processed (asyncio's
// task_done): every Put and TryPut counts an unfinished item, every
// TaskDone counts one down, and when the count reaches zero every task
// waiting in Join is woken. A consumer calls it once per item it got, after
// processing it. Called more times than items were put, TaskDone returns
// ErrTooManyDone and changes nothing. It works on a shut-down queue too.
// It may be called from a callback as well as from a task; see Queue for
// misuse.
func (q *Queue[T]) TaskDone() error {
	if err := q.getters.CheckLoop("queue.TaskDone"); err != nil {
		return err
	}
	if q.unfinished == 0 {
		return ErrTooManyDone
	}
	q.unfinished--
	if q.unfinished == 0 {
		q.finish()
	}
	return nil
}

// Join waits, in the calling task, until every item put in the queue has
// been marked done with TaskDone (or dropped by an immediate Shutdown), and
// returns nil; if that is so already, it returns at once without
// suspending. A task woken because the count reached zero returns nil even
// if another item was put before it ran, as in asyncio: the queue was
// finished while it waited. If the task is cancelled while it waits, Join
// returns the cancellation (a *aio.CanceledError). A graceful Shutdown does
// not release Join: the items left in the queue must still be got and
// marked done. Misuse errors are described at Queue.
func (q *Queue[T]) Join(c *aio.Ctx) error {
	if err := q.enterTask(c, "Join"); err != nil {
		return err
	}
	for {
		if q.unfinished == 0 {
			return nil
		}
		// A wake from TaskDone or Shutdown means the count reached zero
		// while we waited: return even if it has risen again since. A wake
		// passed on by a cancelled joiner does not: look again.
		gen := q.finishes
		q.joiners.Describe(&joinWait)
		if err := q.joiners.Park(c); err != nil {
			return err
		}
		if q.finishes != gen {
			return nil
		}
	}
}

// finish records that the count of unfinished items reached zero and
// releases every task waiting in Join.
func (q *Queue[T]) finish() {
	q.finishes++
	q.joiners.WakeAll()
}

var joinWait = aio.WaitLabel{Kind: "queue", What: "queue.Queue.Join"} // for the task dump (aio.Loop.Dump)
