package locks

import (
	"fmt"

	"github.com/aiogo/aio/aio"
)

// A Barrier makes a fixed number of tasks, its parties, wait for each other
// (asyncio's Barrier): each calls Wait, and the Wait of the last one to
// arrive releases them all. A Barrier is cyclic: once released, it is ready
// for the next round of parties at once.
//
// A Barrier can break: Abort breaks it; so does a task that is cancelled
// while it waits (the parties it waited with would otherwise wait for a
// party that will not come); a Reset breaks the round under way and starts
// an unbroken one. Every task waiting in the broken round, and every later
// Wait until a Reset, gets ErrBrokenBarrier.
//
// Make one with NewBarrier; the zero Barrier has no parties, and Wait on it
// returns an error matching aio.ErrInvalidState. A Barrier belongs to the
// loop of its first use. Its methods must be called on that loop's
// goroutine or in one of its tasks, and Wait in a task: Wait returns an
// error elsewhere, the others panic with an error matching aio.ErrNotOnLoop.
// A Barrier must not be copied after first use.
type Barrier struct {
	parties int
	n       int    // tasks waiting in the current round
	broken  bool   // Abort, or a cancelled waiter, broke it; Reset mends it
	round   *round // the round being filled; nil until its first waiter
	q       aio.WaitQueue
}

// A round is one filling of the barrier. The tasks waiting in it keep a
// pointer to it and find out how it ended when they resume, after the
// barrier may have moved on to later rounds: all that is kept of a round.
type round struct {
	broken bool // it ended broken, not released
}

// NewBarrier returns a Barrier for parties tasks. It returns an error
// matching ErrInvalidCount if parties is less than one. Any goroutine.
func NewBarrier(parties int) (*Barrier, error) {
	if parties < 1 {
		return nil, invalidCount("NewBarrier: parties must be at least 1, not", parties)
	}
	return &Barrier{parties: parties}, nil
}

// Wait suspends the calling task until Parties tasks wait on b, and returns
// the task's index among them: 0 for the first to arrive, Parties()-1 for
// the last, which returns at once, without suspending, and releases the
// others.
//
// If b is broken, Wait returns ErrBrokenBarrier at once; if it breaks while
// the task waits (Abort, Reset, another waiter cancelled), ErrBrokenBarrier
// then. If the task is cancelled while it waits, Wait returns the
// cancellation (a *aio.CanceledError) and b is broken, for the other parties
// and later Waits, unless the round it waited in was released before the
// task ran again (the last party arrived in between), which stands. On an
// error the index is 0. The misuse errors are those of aio.WaitQueue.Park,
// and one matching aio.ErrInvalidState for the zero Barrier.
func (b *Barrier) Wait(c *aio.Ctx) (int, error) {
	if err := b.q.CheckTask(c); err != nil {
		return 0, err
	}
	if b.parties == 0 {
		return 0, fmt.Errorf("%w: Wait on a zero Barrier (make one with NewBarrier)", aio.ErrInvalidState)
	}
	if b.broken {
		return 0, ErrBrokenBarrier
	}
	i := b.n
	if i+1 == b.parties {
		// The last party: release the round.
		b.n, b.round = 0, nil
		b.q.WakeAll()
		return i, nil
	}
	if b.round == nil {
		b.round = new(round)
	}
	r := b.round
	b.n++
	// The end of the round wakes its waiters: a release, a Reset, or a
	// break, each of which starts a new round (b.round). So does a wake
	// that a cancelled party of an earlier round passes on (see
	// aio.WaitQueue): while r is still the round being filled, it was such
	// a wake, and the task waits on.
	for r == b.round {
		b.q.Describe(&barrierWait)
		if err := b.q.Park(c); err != nil {
			if r == b.round {
				b.breakRound() // this party will not come: the others must not wait for it
				b.broken = true
			}
			return 0, err
		}
	}
	if r.broken {
		return 0, ErrBrokenBarrier
	}
	return i, nil
}

// Reset returns b to its initial state, empty and not broken. Tasks waiting
// in the round under way get ErrBrokenBarrier.
func (b *Barrier) Reset() {
	b.q.Check("Barrier.Reset")
	b.breakRound()
	b.broken = false
}

// Abort breaks b: tasks waiting on it get ErrBrokenBarrier, and so does
// every later Wait until a Reset.
func (b *Barrier) Abort() {
	b.q.Check("Barrier.Abort")
	b.breakRound()
	b.broken = true
}

// Broken reports whether b is broken.
func (b *Barrier) Broken() bool {
	b.q.Check("Barrier.Broken")
	return b.broken
}

// Parties returns the number of tasks that release b by waiting on it.
func (b *Barrier) Parties() int {
	b.q.Check("Barrier.Parties")
	return b.parties
}

// NWaiting returns the number of tasks waiting in the round under way.
func (b *Barrier) NWaiting() int {
	b.q.Check("Barrier.NWaiting")
	return b.n
}

// breakRound ends the round under way, if it has waiters, as broken, and
// wakes them.
func (b *Barrier) breakRound() {
	if b.round != nil {
		b.round.broken = true
	}
	b.n, b.round = 0, nil
	b.q.WakeAll()
}

var barrierWait = aio.WaitLabel{Kind: "barrier", What: "locks.Barrier.Wait"} // for the task dump (aio.Loop.Dump)
