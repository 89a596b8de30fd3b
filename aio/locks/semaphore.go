package locks

import "github.com/aiogo/aio/aio"

// A Semaphore holds a number of permits (asyncio's Semaphore): Acquire takes
// one, waiting while there is none; Release gives one back. It bounds how
// many tasks do something at once: make it with as many permits as may run
// together, and have each task Acquire before and Release after.
//
// The zero value is a Semaphore with no permits, ready to use: Acquire waits
// until something Releases one (it serves as a counting signal). Use
// NewSemaphore for a Semaphore with permits.
//
// Acquiring is fair: tasks get permits in the order they started waiting,
// and a task that comes along while permits are being handed to woken
// waiters that have not run yet does not take theirs. A waiter cancelled
// while it waits (by Task.Cancel, or an aio.WithTimeout around Acquire) never
// takes a permit: Acquire returns the cancellation, and a permit released
// for it goes to the next waiter or stays available, so no permit is lost
// and nobody behind it is stranded (the failures of CPython gh-90155 and
// python/asyncio#270).
//
// Permits are not owned: Release may be called by any code of the loop,
// also more often than Acquire (a Semaphore has no upper bound; see
// BoundedSemaphore for one).
//
// A Semaphore belongs to the loop of its first use. Its methods must be
// called on that loop's goroutine or in one of its tasks, and Acquire in a
// task: Acquire and Release return an error elsewhere, TryAcquire and
// Available panic with an error matching aio.ErrNotOnLoop. A Semaphore must
// not be copied after first use.
type Semaphore struct {
	n int           // permits not held by anyone, including those promised to woken waiters
	q aio.WaitQueue // tasks waiting for a permit, in order
	// waiters counts the tasks inside q.Park, as Lock.waiters does: while
	// it is zero the fast paths need not ask q.
	waiters int
}

// NewSemaphore returns a Semaphore with n permits. It returns an error
// matching ErrInvalidCount if n is negative. Any goroutine.
func NewSemaphore(n int) (*Semaphore, error) {
	if n < 0 {
		return nil, invalidCount("NewSemaphore: negative number of permits", n)
	}
	return &Semaphore{n: n}, nil
}

// Acquire takes a permit from s, suspending the calling task until one is
// available if there is none, and returns nil; if one is available and
// nobody waits, Acquire returns at once, without suspending (and without
// looking for a pending cancellation, as asyncio's does). If the task is
// cancelled while it waits, Acquire returns the cancellation (a
// *aio.CanceledError) and the task holds no permit. The misuse errors are
// those of aio.WaitQueue.Park.
func (s *Semaphore) Acquire(c *aio.Ctx) error {
	if err := s.q.CheckTask(c); err != nil {
		return err
	}
	if s.free() {
		s.n--
		return nil
	}
	// Wake and re-check, as in Lock.Acquire: Release wakes one waiter per
	// permit that is not promised yet (s.n > Waking), and the woken task
	// takes its permit when it runs. Waking counts the others still on
	// their way, whose permits are not this task's to take.
	for {
		s.waiters++
		s.q.Describe(&semaphoreWait)
		err := s.q.Park(c)
		s.waiters--
		if err != nil {
			return err
		}
		if s.n > s.q.Waking() {
			s.n--
			return nil
		}
	}
}

// TryAcquire takes a permit if it can do so without waiting (one is
// available, nobody waits, and it is not promised to a woken waiter), and
// reports whether it did.
func (s *Semaphore) TryAcquire() bool {
	s.q.Check("Semaphore.TryAcquire")
	if s.free() {
		s.n--
		return true
	}
	return false
}

// Release gives a permit back to s and, if tasks wait, hands it to the
// first of them. It returns nil, or an error matching aio.ErrNotOnLoop if it
// is called off s's loop.
func (s *Semaphore) Release() error {
	if err := s.q.CheckLoop("Semaphore.Release"); err != nil {
		return err
	}
	s.release()
	return nil
}

// Available returns the number of permits that no task holds. Permits just
// released to woken waiters that have not run yet count until those take
// them; while they are promised so, TryAcquire does not take them.
func (s *Semaphore) Available() int {
	s.q.Check("Semaphore.Available")
	return s.n
}

// free reports whether a newcomer may take a permit now: nobody waits, and
// there are more permits than wakes in flight.
func (s *Semaphore) free() bool {
	if s.waiters == 0 {
		return s.n > 0
	}
	return s.q.Len() == 0 && s.n > s.q.Waking()
}

// release adds a permit and, if it is not promised to a woken waiter on its
// way already, wakes the first waiter to take it.
func (s *Semaphore) release() {
	s.n++
	if s.waiters > 0 && s.n > s.q.Waking() {
		s.q.WakeOne()
	}
}

// A BoundedSemaphore is a Semaphore that refuses to be released above the
// number of permits it was made with (asyncio's BoundedSemaphore): a Release
// without a matching Acquire is a bug that it reports, with
// ErrReleasedTooOften, instead of letting one task too many in later.
//
// Make one with NewBoundedSemaphore. The zero value has no permits and a
// bound of zero: every Release fails and Acquire waits for ever. Fairness,
// cancellation and the goroutines it may be used from are as for Semaphore.
type BoundedSemaphore struct {
	s     Semaphore
	bound int
}

// NewBoundedSemaphore returns a BoundedSemaphore with n permits and a bound
// of n. It returns an error matching ErrInvalidCount if n is negative. Any
// goroutine.
func NewBoundedSemaphore(n int) (*BoundedSemaphore, error) {
	if n < 0 {
		return nil, invalidCount("NewBoundedSemaphore: negative number of permits", n)
	}
	return &BoundedSemaphore{s: Semaphore{n: n}, bound: n}, nil
}

// Acquire takes a permit, as Semaphore.Acquire does.
func (b *BoundedSemaphore) Acquire(c *aio.Ctx) error { return b.s.Acquire(c) }

// TryAcquire takes a permit if it can without waiting, as
// Semaphore.TryAcquire does, and reports whether it did.
func (b *BoundedSemaphore) TryAcquire() bool {
	b.s.q.Check("BoundedSemaphore.TryAcquire")
	if b.s.free() {
		b.s.n--
		return true
	}
	return false
}

// Release gives a permit back and hands it to the first waiter, as
// Semaphore.Release does. It returns ErrReleasedTooOften, and changes
// nothing, if every permit is back already (the release would exceed the
// bound), and an error matching aio.ErrNotOnLoop off the semaphore's loop.
func (b *BoundedSemaphore) Release() error {
	if err := b.s.q.CheckLoop("BoundedSemaphore.Release"); err != nil {
		return err
	}
	if b.s.n >= b.bound {
		return ErrReleasedTooOften
	}
	b.s.release()
	return nil
}

// Available returns the number of permits that no task holds, as
// Semaphore.Available does.
func (b *BoundedSemaphore) Available() int {
	b.s.q.Check("BoundedSemaphore.Available")
	return b.s.n
}

var semaphoreWait = aio.WaitLabel{Kind: "semaphore", What: "locks.Semaphore.Acquire"} // for the task dump (aio.Loop.Dump)
