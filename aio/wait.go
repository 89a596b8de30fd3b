package aio

import "fmt"

// The waker contract and the wait-queue seam.
//
// Everything in the loop that waits for an event is a waker: a task parked
// in Await, Sleep or WaitQueue.Park, a Gather counting completions, a done
// callback, a timer's callback, and work another goroutine sent through the
// door. The code where the event happens (a future completing, a timer
// falling due, the loop taking an item out of its door, a WaitQueue's wake)
// calls wake at that moment, on the loop. wake must not run user code: it
// marks, counts or queues work for the ready queue. That keeps wake-ups
// exact (a task is stepped once per suspension, see Ctx.wake) and the loop's
// phases free of user code, and it is the one thing futures, timers, the
// door and wait queues know about what waits on them.
type waker interface {
	wake(l *Loop)
}

// A Waiter is one party waiting in a WaitQueue (or on a future): the node
// that wait lists link. A task has one of its own, which Await, Park and the
// other waits use; combinators such as Gather make their own. Code that
// builds an awaitable of its own (see Awaitable) receives a *Waiter in Poll
// and adds it to its WaitQueue with Add; it never looks inside.
//
// A Waiter is in at most one queue at a time. Its zero value is not usable:
// only the package makes Waiters.
type Waiter struct {
	prev, next *Waiter
	list       *waitList // the list it is in, or was picked from; nil if free
	w          waker     // whom to tell
}

// picked marks, in Waiter.next, a waiter that a WakeOne or WakeAll took off
// its queue and woke, and that has not used the wake yet: if it is dropped
// instead (its task was cancelled first), the wake passes to the next waiter.
var picked = new(Waiter)

// queued reports whether w is linked in a list.
func (w *Waiter) queued() bool { return w.list != nil && w.next != picked }

// wasPicked reports whether a wake picked w and w has not used it yet.
func (w *Waiter) wasPicked() bool { return w.list != nil && w.next == picked }

// used records that w's wake, if any, has been acted on: w is free again.
func (w *Waiter) used() {
	if w.next == picked && w.list != nil {
		w.list.waking--
	}
	w.list, w.next, w.prev = nil, nil, nil
}

// drop takes w out of whatever it waits in because its waiting ended
// otherwise (a cancellation, a Select that took another case). A waiter
// still queued leaves its queue; one that a wake picked passes the wake on
// to the next waiter of that queue, so that no wake is lost to a waiter
// that will not act on it.
func (w *Waiter) drop(l *Loop) {
	switch {
	case w.queued():
		w.list.remove(w)
	case w.wasPicked():
		q := w.list
		w.used()
		q.wakeOne(l)
	}
}

// waitList is an intrusive FIFO list of waiters: the waiters of a future,
// of a WaitQueue. Loop goroutine only.
type waitList struct {
	head, tail *Waiter
	n          int32 // waiters linked
	waking     int32 // waiters picked by a wake that have not used it yet
}

func (q *waitList) push(w *Waiter) {
	w.list, w.prev, w.next = q, q.tail, nil
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
	q.n++
}

// remove unlinks w, which must be queued in q.
func (q *waitList) remove(w *Waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.used()
	q.n--
}

// pop unlinks and returns the first waiter, or nil.
func (q *waitList) pop() *Waiter {
	w := q.head
	if w == nil {
		return nil
	}
	q.head = w.next
	if q.head != nil {
		q.head.prev = nil
	} else {
		q.tail = nil
	}
	q.n--
	w.prev, w.next = nil, nil
	return w
}

// wakeOne picks the first waiter: it leaves the list marked picked (see
// drop) and is woken. It reports whether there was one.
func (q *waitList) wakeOne(l *Loop) bool {
	w := q.pop()
	if w == nil {
		return false
	}
	w.list, w.next = q, picked
	q.waking++
	w.w.wake(l)
	return true
}

// wakeAll picks every waiter, in order, and returns how many.
func (q *waitList) wakeAll(l *Loop) int {
	n := 0
	for q.wakeOne(l) {
		n++
	}
	return n
}

// release unlinks every waiter and wakes it unmarked: the event is over for
// good (a future completed), and there is nothing to pass on.
func (q *waitList) release(l *Loop) {
	for w := q.pop(); w != nil; w = q.pop() {
		w.used()
		w.w.wake(l)
	}
}

// A WaitQueue is a FIFO queue of tasks (and other waiters) parked until an
// event: the seam on which synchronisation primitives, queues and events of
// the program's own are built, as the Go runtime's semaphores are under
// package sync. A task parks with Park; the code that makes the event happen
// wakes the first waiter with WakeOne or every waiter with WakeAll; a woken
// task looks at the state it waits for again and parks again if it must.
//
// Cancellation is delivered as in Await: a task cancelled while parked
// leaves the queue at once and Park returns the cancellation. A wake is never
// lost to a cancellation: if WakeOne picked a task and the task is cancelled
// before it resumes, Park returns the cancellation and the wake passes to the
// next waiter, so a primitive built on WakeOne never strands the waiters
// behind a cancelled one.
//
// The zero value is an empty queue, bound to the loop of its first use; a
// WaitQueue belongs to that loop. Every method must be called on the loop
// goroutine or in one of its tasks: Park returns an error elsewhere, as Await
// does; Add, WakeOne, WakeAll, Len and Check, which have no error result,
// panic with an error matching ErrNotOnLoop.
type WaitQueue struct {
	list  waitList
	loop  *Loop
	label *WaitLabel // what it is, for the task dump (Describe, dump.go)
}

// Park suspends the calling task on q until WakeOne or WakeAll wakes it, and
// returns nil then. If the task is cancelled while it waits (or was before
// the call), Park returns a *CanceledError and the task is no longer on q.
// It returns the errors of Await for misuse (ErrNotInTask for a *Ctx that is
// not the running task's) and one matching ErrInvalidState if q belongs to
// another loop.
func (q *WaitQueue) Park(c *Ctx) error {
	if err := q.CheckTask(c); err != nil {
		return err
	}
	if err := c.takeCancel(); err != nil {
		return err
	}
	w := &c.waiter
	q.list.push(w)
	c.coro.waitOn = q // for the task dump (dump.go)
	for {
		if err := c.suspend(); err != nil {
			w.drop(c.loop())
			return err
		}
		if w.wasPicked() {
			w.used()
			return nil
		}
		if !w.queued() {
			// A cancellation that was withdrawn (Uncancel) took us off
			// the queue: wait again, at its end.
			q.list.push(w)
		}
	}
}

// Add puts w at the end of q, for an Awaitable's Poll (see Awaitable): a
// WakeOne or WakeAll of q then wakes whoever waits through w, which Polls
// again. w must come from Poll and not be in a queue already.
func (q *WaitQueue) Add(w *Waiter) {
	if w == nil || w.w == nil || w.list != nil {
		panic(fmt.Errorf("%w: WaitQueue.Add of a Waiter that is not a free one from Poll", ErrInvalidState))
	}
	l := w.loop()
	if err := q.bind(l); err != nil {
		panic(err)
	}
	l.mustBeOnLoop("WaitQueue.Add")
	q.list.push(w)
}

// CheckTask returns the error that Park would return for misuse (c is not
// the running task's own Ctx, or q belongs to another loop, or the loop is
// closed) without parking, and binds q to c's loop if q is not bound yet.
// Primitives call it in methods with an error result that may return
// without parking.
func (q *WaitQueue) CheckTask(c *Ctx) error {
	if err := c.check("WaitQueue.Park"); err != nil {
		return err
	}
	return q.bind(c.loop())
}

// Check binds q to the loop the caller runs on if q is not bound yet, and
// panics with an error matching ErrNotOnLoop if the caller is not on q's
// loop, or on no loop. Primitives built on q call it at the top of their
// methods without an error result, so that misuse from a plain goroutine or
// another loop is caught even before anyone has parked.
func (q *WaitQueue) Check(method string) {
	if err := q.CheckLoop(method); err != nil {
		panic(err)
	}
}

// CheckLoop is Check for the methods with an error result: it returns the
// error (one matching ErrNotOnLoop, or ErrNoLoop if q's loop is gone)
// instead of panicking, and binds q as Check does.
func (q *WaitQueue) CheckLoop(method string) error {
	if q.loop == nil {
		l := RunningLoop()
		if l == nil {
			if unwinding(curg()) {
				return nil // see below; an unbound queue has no waiters
			}
			return notOnLoop(method)
		}
		q.loop = l
		return nil
	}
	if err := q.loop.checkOnLoop(method); err != nil {
		// A body that Close unwinds does not pass for the loop (what it
		// schedules fails with ErrClosed), but its deferred clean-up must
		// still close what it holds: a socket's Close, a primitive's
		// release. The queue's waiters are being unwound too; a wake only
		// queues steps that the close drops.
		if q.loop.thread.unwindG.Load() == curg() {
			return nil
		}
		return err
	}
	return nil
}

// WakeOne wakes the first waiter of q, which leaves the queue, and reports
// whether there was one. The woken task runs later, at its turn; if it is
// cancelled before then, the wake passes to the next waiter.
func (q *WaitQueue) WakeOne() bool {
	q.Check("WaitQueue.WakeOne")
	return q.list.wakeOne(q.loop)
}

// WakeAll wakes every waiter of q, in order, empties it, and returns how many
// there were.
func (q *WaitQueue) WakeAll() int {
	q.Check("WaitQueue.WakeAll")
	return q.list.wakeAll(q.loop)
}

// Len returns the number of waiters in q.
func (q *WaitQueue) Len() int {
	q.Check("WaitQueue.Len")
	return int(q.list.n)
}

// Waking returns the number of waiters that WakeOne or WakeAll picked and
// that have not resumed yet: wakes in flight. A fair primitive counts them
// as claimants of what it has to give, so that a newcomer does not take
// what a woken waiter is about to take (a lock released to the first
// waiter is not free for a task that comes along before that waiter
// runs). A picked waiter that is cancelled before it resumes passes its
// wake to the next waiter, or, if there is none, the count drops: what it
// would have taken is free again.
func (q *WaitQueue) Waking() int {
	q.Check("WaitQueue.Waking")
	return int(q.list.waking)
}

// bind ties q to l on first use and refuses another loop's waiters.
func (q *WaitQueue) bind(l *Loop) error {
	if q.loop == nil {
		q.loop = l
		return nil
	}
	if q.loop != l {
		return fmt.Errorf("%w: a WaitQueue of one loop used from another", ErrInvalidState)
	}
	return nil
}

// loopOwner is implemented by the wakers that Waiters of an Awaitable's Poll
// can carry: they know their loop.
type loopOwner interface{ loopOf() *Loop }

// loop returns the loop of the party that waits through w.
func (w *Waiter) loop() *Loop {
	if lw, ok := w.w.(loopOwner); ok {
		return lw.loopOf()
	}
	return nil
}
