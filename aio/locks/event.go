package locks

import "github.com/aiogo/aio/aio"

// An Event is a flag that tasks can wait for (asyncio's Event): Set raises
// it and wakes every waiting task, Clear lowers it, Wait returns once it is
// raised. The zero value is a cleared Event, ready to use.
type Event struct {
	set bool
	// sets counts the Sets that raised the flag: a woken waiter that sees
	// it unchanged was not woken by a Set, but by a wake that a cancelled
	// waiter of an earlier Set passed on (see aio.WaitQueue), and waits on.
	sets uint64
	q    aio.WaitQueue
}

// Set raises the flag and wakes every task waiting for it. Setting a set
// Event does nothing.
func (e *Event) Set() {
	e.q.Check("Event.Set")
	if e.set {
		return
	}
	e.set = true
	e.sets++
	e.q.WakeAll()
}

// Clear lowers the flag: later calls of Wait wait until the next Set.
func (e *Event) Clear() {
	e.q.Check("Event.Clear")
	e.set = false
}

// IsSet reports whether the flag is raised.
func (e *Event) IsSet() bool {
	e.q.Check("Event.IsSet")
	return e.set
}

// Wait suspends the calling task until the flag is raised, and returns nil;
// if it is raised already, Wait returns at once, without suspending (as
// asyncio's does). If the task is cancelled while it waits, Wait returns the
// cancellation (a *aio.CanceledError). A task woken by a Set returns even if
// the flag was cleared again before it ran, as in asyncio: the Set happened
// while it waited. The misuse errors are those of aio.WaitQueue.Park.
func (e *Event) Wait(c *aio.Ctx) error {
	if err := e.q.CheckTask(c); err != nil {
		return err
	}
	if e.set {
		return nil
	}
	sets := e.sets
	for {
		e.q.Describe(&eventWait)
		if err := e.q.Park(c); err != nil {
			return err
		}
		if e.sets != sets {
			return nil
		}
	}
}

// Poll makes an Event an aio.Awaitable: aio.Await(c, e), or an
// aio.AwaitCase of a Select, waits until the flag is raised. It differs from
// Wait in one case: an Awaitable keeps no state between its polls, so a
// task woken by a Set polls again when it runs, and if a Clear came in
// between, it waits on for the next Set. Use Wait where a Set must not be
// missed however soon it is cleared.
func (e *Event) Poll(w *aio.Waiter) (struct{}, bool, error) {
	if e.set {
		return struct{}{}, true, nil
	}
	e.q.Add(w)
	return struct{}{}, false, nil
}

var eventWait = aio.WaitLabel{Kind: "event", What: "locks.Event.Wait"} // for the task dump (aio.Loop.Dump)
