package locks

import (
	"errors"
	"fmt"
)

// ErrNotLocked is returned by Lock.Release, RWLock.Unlock and RWLock.RUnlock
// when there is nothing to release, and by the methods of Condition that
// need the condition's lock (Wait, WaitFor, Notify, NotifyAll) when it is
// not locked. Test for it with errors.Is.
var ErrNotLocked = errors.New("locks: not locked")

// ErrReleasedTooOften is returned by BoundedSemaphore.Release when a release
// would raise the number of permits above the bound the semaphore was made
// with (asyncio's ValueError from BoundedSemaphore.release).
var ErrReleasedTooOften = errors.New("locks: semaphore released too often")

// ErrBrokenBarrier is returned by Barrier.Wait when the barrier is broken:
// by Abort, by a Reset while tasks wait, or by a waiting task that was
// cancelled. It is asyncio's BrokenBarrierError.
var ErrBrokenBarrier = errors.New("locks: barrier is broken")

// ErrInvalidCount is returned (wrapped, with the value) by the constructors
// given a count they cannot use: NewSemaphore and NewBoundedSemaphore a
// negative number of permits, NewBarrier fewer than one party. It is
// asyncio's ValueError there.
var ErrInvalidCount = errors.New("locks: invalid count")

// invalidCount returns the error of a constructor given n.
func invalidCount(what string, n int) error {
	return fmt.Errorf("%w: %s %d", ErrInvalidCount, what, n)
}
