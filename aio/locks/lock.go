package locks

import "github.com/aiogo/aio/aio"

// A Lock is a mutual exclusion lock for the tasks of a loop (asyncio's
// Lock): Acquire locks it, waiting while another task holds it; Release
// unlocks it. The zero value is an unlocked Lock, ready to use.
//
// A task needs a Lock only to keep others out across its suspension points
// (an Await, a Sleep between reading and writing shared state): code that
// does not suspend runs alone anyway.
//
// Acquiring is fair: tasks get the lock in the order they started waiting
// for it, and a task that comes along while the lock is being handed to a
// waiter that has not run yet waits its turn too. A waiter cancelled while it
// waits (by Task.Cancel, or an aio.WithTimeout around Acquire) never gets the
// lock: Acquire returns the cancellation, and a Release meant for it goes to
// the next waiter, so nothing is lost and nobody behind it is stranded.
//
// A Lock is not reentrant (a task that acquires a Lock it holds waits for
// ever) and is not owned by a task: any code of its loop may release it, as
// with asyncio's Lock and sync.Mutex.
//
// A Lock belongs to the loop of its first use. Its methods must be called
// on that loop's goroutine or in one of its tasks, and Acquire in a task:
// Acquire and Release return an error elsewhere (see Acquire), TryAcquire and
// Locked panic with an error matching aio.ErrNotOnLoop. A Lock must not be
// copied after first use.
type Lock struct {
	locked bool
	q      aio.WaitQueue // tasks waiting for the lock, in order
	// waiters counts the tasks inside q.Park: queued, woken and not yet
	// resumed, or cancelled and not yet resumed. While it is zero, q is
	// empty and no wake is in flight, and the fast paths need not ask q
	// (each of q's methods checks the calling goroutine, which is most of
	// the cost of an uncontended Acquire and Release).
	waiters int
}

// Acquire locks l, suspending the calling task until l is free if another
// task holds it, and returns nil; if l is free and nobody waits, Acquire
// returns at once, without suspending (and without looking for a pending
// cancellation, as asyncio's does). If the task is cancelled while it waits,
// Acquire returns the cancellation (a *aio.CanceledError) and the task does
// not hold l. The misuse errors are those of aio.WaitQueue.Park: one matching
// aio.ErrNotInTask if c is not the running task's, aio.ErrInvalidState if l
// belongs to another loop.
func (l *Lock) Acquire(c *aio.Ctx) error {
	if err := l.q.CheckTask(c); err != nil {
		return err
	}
	if l.free() {
		l.locked = true
		return nil
	}
	// Wake and re-check: Release wakes the first waiter and leaves l
	// unlocked; the woken task takes it when it runs. Nobody else can take
	// it meanwhile (free counts the wake in flight), so the re-check always
	// finds l unlocked; the loop is for safety, not for use.
	for {
		if err := l.park(c); err != nil {
			return err
		}
		if !l.locked {
			l.locked = true
			return nil
		}
	}
}

// TryAcquire locks l if it can do so without waiting (l is unlocked, nobody
// waits for it and it is not being handed to a woken waiter), and reports
// whether it did.
func (l *Lock) TryAcquire() bool {
	l.q.Check("Lock.TryAcquire")
	if l.free() {
		l.locked = true
		return true
	}
	return false
}

// Release unlocks l and, if tasks wait for it, hands it to the first of
// them. It returns ErrNotLocked if l is not locked, and an error matching
// aio.ErrNotOnLoop if it is called off l's loop.
func (l *Lock) Release() error {
	if err := l.q.CheckLoop("Lock.Release"); err != nil {
		return err
	}
	if !l.locked {
		return ErrNotLocked
	}
	l.release()
	return nil
}

// Locked reports whether l is locked. A lock just released to a waiter that
// has not run yet is unlocked, but not free for TryAcquire.
func (l *Lock) Locked() bool {
	l.q.Check("Lock.Locked")
	return l.locked
}

// free reports whether a newcomer may take l now: it is unlocked and
// nothing is promised to a waiter (none waits, no wake is in flight).
func (l *Lock) free() bool {
	return !l.locked && (l.waiters == 0 || l.q.Len()+l.q.Waking() == 0)
}

// park parks the calling task in l's queue, counting it in l.waiters.
func (l *Lock) park(c *aio.Ctx) error {
	l.waiters++
	l.q.Describe(&lockWait)
	err := l.q.Park(c)
	l.waiters--
	return err
}

// release unlocks the locked l and wakes the first waiter, unless a woken
// waiter is on its way already (its wake stands for this release).
func (l *Lock) release() {
	l.locked = false
	if l.waiters > 0 && l.q.Waking() == 0 {
		l.q.WakeOne()
	}
}

var lockWait = aio.WaitLabel{Kind: "lock", What: "locks.Lock.Acquire"} // for the task dump (aio.Loop.Dump)
