package locks

import "github.com/aiogo/aio/aio"

// An RWLock is a reader/writer lock for the tasks of a loop (tokio's
// RwLock; asyncio has none): any number of readers may hold it together
// (RLock), or one writer alone (Lock). The zero value is an unlocked
// RWLock, ready to use.
//
// Tasks that wait are served in the order they came, readers and writers in
// one line; readers next to each other in it share the lock. So once a
// writer waits, readers that come after it wait behind it, even while other
// readers hold the lock: a stream of readers cannot starve a writer, and
// writers get the lock in the order they asked for it. A task that comes
// along while the lock is being handed to woken waiters that have not run
// yet waits its turn too.
//
// A waiter cancelled while it waits (Task.Cancel, an aio.WithTimeout around
// RLock or Lock) never holds the lock: the call returns the cancellation,
// and what was handed to it goes to the next in line, so nobody behind it is
// stranded.
//
// Like Lock, an RWLock is not reentrant (a reader that asks for a second
// read lock while a writer waits waits behind the writer, which waits for
// the reader: a deadlock) and not owned by a task. It belongs to the loop of
// its first use. Its methods must be called on that loop's goroutine or in
// one of its tasks, and RLock and Lock in a task: those with an error result
// return an error elsewhere, the others panic with an error matching
// aio.ErrNotOnLoop. An RWLock must not be copied after first use.
type RWLock struct {
	readers int  // read locks held
	writer  bool // a writer holds the lock

	// q is the line of waiting tasks, readers and writers. The turn goes
	// to its first task by a wake (WakeOne, one at a time: the seam does
	// not say which kind of task it wakes); a woken reader takes a read
	// lock and passes the turn on, so that the readers at the head of the
	// line come in one after the other; a woken writer takes the lock if
	// it is free, or waits in next, first in line, for the readers to
	// leave, and keeps the turn.
	q aio.WaitQueue
	// next holds at most one writer: the one whose turn it is, waiting
	// for the readers that hold the lock to leave. While it is there,
	// nobody else gets in.
	next aio.WaitQueue
	// waiters counts the tasks inside q.Park or next.Park, as
	// Lock.waiters does: while it is zero, nobody waits and no turn is in
	// flight, and the fast paths need not ask the queues.
	waiters int
}

// RLock takes a read lock, suspending the calling task while a writer holds
// the lock or waits for it (or anyone waits), and returns nil; if it can
// take one at once, RLock returns without suspending. If the task is
// cancelled while it waits, RLock returns the cancellation (a
// *aio.CanceledError) and the task holds no lock. The misuse errors are
// those of aio.WaitQueue.Park.
func (rw *RWLock) RLock(c *aio.Ctx) error {
	if err := rw.checkTask(c); err != nil {
		return err
	}
	if !rw.writer && rw.idle() {
		rw.readers++
		return nil
	}
	for {
		if err := rw.park(c, &rw.q); err != nil {
			rw.dispatch()
			return err
		}
		// Our turn: nobody can have taken the lock meanwhile (the
		// newcomers' test counts our wake), so the re-check holds.
		if !rw.writer && !rw.nextBusy() {
			rw.readers++
			rw.dispatch() // the next in line may be a reader too
			return nil
		}
	}
}

// Lock takes the write lock, suspending the calling task while anyone holds
// the lock or waits for it, and returns nil; if the lock is free and nobody
// waits, Lock returns without suspending. If the task is cancelled while it
// waits, Lock returns the cancellation (a *aio.CanceledError) and the task
// does not hold the lock. The misuse errors are those of
// aio.WaitQueue.Park.
func (rw *RWLock) Lock(c *aio.Ctx) error {
	if err := rw.checkTask(c); err != nil {
		return err
	}
	if !rw.writer && rw.readers == 0 && rw.idle() {
		rw.writer = true
		return nil
	}
	for {
		if err := rw.park(c, &rw.q); err != nil {
			rw.dispatch()
			return err
		}
		if rw.writer {
			continue // cannot happen (see RLock); wait in line again
		}
		// Our turn. Readers may hold the lock: wait, first in line, for
		// the last of them to leave.
		for rw.readers > 0 {
			if err := rw.park(c, &rw.next); err != nil {
				rw.dispatch() // the turn passes on
				return err
			}
		}
		rw.writer = true
		return nil
	}
}

// TryRLock takes a read lock if it can do so without waiting (no writer
// holds the lock, nobody waits, nothing is being handed to a woken waiter),
// and reports whether it did.
func (rw *RWLock) TryRLock() bool {
	rw.q.Check("RWLock.TryRLock")
	if !rw.writer && rw.idle() {
		rw.readers++
		return true
	}
	return false
}

// TryLock takes the write lock if it can do so without waiting (nobody
// holds it, nobody waits, nothing is being handed to a woken waiter), and
// reports whether it did.
func (rw *RWLock) TryLock() bool {
	rw.q.Check("RWLock.TryLock")
	if !rw.writer && rw.readers == 0 && rw.idle() {
		rw.writer = true
		return true
	}
	return false
}

// RUnlock gives back a read lock; the last reader to leave hands the lock
// to the next in line. It returns ErrNotLocked if no read lock is held, and
// an error matching aio.ErrNotOnLoop off the lock's loop.
func (rw *RWLock) RUnlock() error {
	if err := rw.q.CheckLoop("RWLock.RUnlock"); err != nil {
		return err
	}
	if rw.readers == 0 {
		return ErrNotLocked
	}
	rw.readers--
	if rw.readers == 0 {
		rw.dispatch()
	}
	return nil
}

// Unlock gives back the write lock and hands the lock to the next in line.
// It returns ErrNotLocked if the write lock is not held, and an error
// matching aio.ErrNotOnLoop off the lock's loop.
func (rw *RWLock) Unlock() error {
	if err := rw.q.CheckLoop("RWLock.Unlock"); err != nil {
		return err
	}
	if !rw.writer {
		return ErrNotLocked
	}
	rw.writer = false
	rw.dispatch()
	return nil
}

// Readers returns the number of read locks held.
func (rw *RWLock) Readers() int {
	rw.q.Check("RWLock.Readers")
	return rw.readers
}

// WriteLocked reports whether a writer holds the lock.
func (rw *RWLock) WriteLocked() bool {
	rw.q.Check("RWLock.WriteLocked")
	return rw.writer
}

// idle reports whether nobody waits and no turn is in flight: a newcomer
// may take what the lock's state allows.
func (rw *RWLock) idle() bool {
	return rw.waiters == 0 || rw.q.Len() == 0 && rw.q.Waking() == 0 && !rw.nextBusy()
}

// park parks the calling task in q, one of rw's queues, counting it in
// rw.waiters.
func (rw *RWLock) park(c *aio.Ctx, q *aio.WaitQueue) error {
	rw.waiters++
	q.Describe(&rwlockWait)
	err := q.Park(c)
	rw.waiters--
	return err
}

// nextBusy reports whether a writer waits, first in line, for the readers
// to leave (or has been woken to take the lock).
func (rw *RWLock) nextBusy() bool {
	return rw.next.Len() != 0 || rw.next.Waking() != 0
}

// dispatch gives the turn to whoever is first in line, if the lock's state
// may let it in and the turn is not given already: the writer in next once
// the readers are gone, or else the first task of q. It is called wherever
// the state or the line changed: an unlock, a reader let in, a waiter gone.
// A wake that the seam passes on from a cancelled waiter is a turn given
// already, so dispatch never gives two.
func (rw *RWLock) dispatch() {
	switch {
	case rw.writer, rw.waiters == 0:
	case rw.nextBusy():
		if rw.readers == 0 && rw.next.Waking() == 0 {
			rw.next.WakeOne()
		}
	case rw.q.Waking() == 0:
		rw.q.WakeOne()
	}
}

// checkTask returns the misuse error of a wait by c, if any. It checks q
// only: next is used only after q has been, by the same task, and so binds
// to q's loop.
func (rw *RWLock) checkTask(c *aio.Ctx) error {
	return rw.q.CheckTask(c)
}

var rwlockWait = aio.WaitLabel{Kind: "lock", What: "locks.RWLock"} // for the task dump (aio.Loop.Dump)
