package aio

import (
	"errors"
	"fmt"
	"iter"
	"time"
)

// The combinators beyond Gather: WaitFor, Wait, AsCompleted, Shield and
// GatherOrCancel. They are built on the waker contract (their nodes are
// Waiters) and on cancel scopes, like everything else.

// WaitFor waits, in the calling task, for a with a timeout d (asyncio's
// wait_for): it returns a's outcome if a is done first. If d passes first,
// WaitFor cancels a if a is a task (a future is left alone; wrap a in Shield
// to keep a task running), waits for that cancellation to finish, and
// returns ErrTimeout, unless a completed with a result meanwhile: a result is
// never lost to the timeout (CPython's bpo-37658). If the calling task is
// cancelled from outside, the cancellation wins and propagates (the
// gh-86296 class of bug): a is cancelled as on a timeout and waited for.
// A zero or negative d times out at once unless a is done already. Errors
// for misuse are those of Await.
func WaitFor[T any](c *Ctx, a Awaitable[T], d time.Duration) (T, error) {
	var zero T
	if err := c.check("WaitFor"); err != nil {
		return zero, err
	}
	var v T
	var aerr error
	got := false
	err := WithTimeout(c, d, func(c *Ctx) error {
		v, aerr = Await(c, a)
		if aerr == nil || !c.interruptedBy(aerr) {
			got = true // a's own outcome, whatever it is
			return nil
		}
		return aerr
	})
	if got {
		return v, aerr
	}
	// The timeout or an outside cancellation interrupted the wait. Stop a,
	// if it is a task, and wait for it, whatever else comes.
	f, _ := futureOf(a)
	if f == nil {
		return zero, err
	}
	if f.owner != nil && !f.isDone() {
		f.owner.impl.Cancel(errDeadline)
		Shielded(c, func(c *Ctx) error {
			_, werr := Await(c, Awaitable[T](f))
			return werr
		})
	}
	if err == ErrTimeout && f.isDone() && !f.cancelled {
		// a finished before it took the cancellation: its outcome is the
		// caller's, not lost to the timeout.
		return f.Result()
	}
	return zero, err
}

// interruptedBy reports whether err, returned by a wait of c, is c's own
// cancellation (of the task, or of one of its scopes) rather than the
// outcome of what c waited for.
func (c *Ctx) interruptedBy(err error) bool {
	ce := asCanceled(err)
	if ce == nil {
		return false
	}
	if ce.scope != nil {
		return ce.scope.c == c
	}
	return c.x != nil && c.x.cancelErr == ce
}

// WaitMode is what Wait waits for.
type WaitMode int

const (
	// AllCompleted waits until every awaitable is done.
	AllCompleted WaitMode = iota
	// FirstCompleted waits until one is done.
	FirstCompleted
	// FirstError waits until one fails, or all are done.
	FirstError
)

// Wait waits, in the calling task, for the awaitables in aws as mode says,
// for at most timeout (a negative timeout means no limit; zero does not
// wait), and returns those that are done and those that are not, each in
// argument order (asyncio's wait). It cancels nothing: what is pending goes
// on. The error is the calling task's cancellation, or misuse as for Await;
// a timeout is not an error (the pending set says what is left). Wait of
// nothing returns at once.
func Wait[A Awaitable[T], T any](c *Ctx, aws []A, mode WaitMode, timeout time.Duration) (done, pending []A, err error) {
	if err := c.check("Wait"); err != nil {
		return nil, nil, err
	}
	w := &waitSet[A, T]{c: c, aws: aws, mode: mode}
	if err := w.start(); err != nil {
		w.stop()
		return nil, nil, err
	}
	if timeout < 0 {
		err = w.wait()
	} else {
		terr := WithTimeout(c, timeout, func(*Ctx) error { return w.wait() })
		if terr != nil && terr != ErrTimeout {
			err = terr
		}
	}
	w.stop()
	if err != nil {
		return nil, nil, err
	}
	for i, a := range aws {
		if w.ready[i] {
			done = append(done, a)
		} else {
			pending = append(pending, a)
		}
	}
	return done, pending, nil
}

// waitSet watches several awaitables for Wait and AsCompleted: one node per
// awaitable, in its future's waiters or its own queue, and the indexes of
// those that became ready, in completion order.
type waitSet[A Awaitable[T], T any] struct {
	c       *Ctx
	aws     []A
	mode    WaitMode
	nodes   []waitNode
	ready   []bool
	results []T
	errs    []error
	order   []int // indexes in the order they completed
	fired   []int // nodes woken, to poll again
	n       int   // ready so far
	failed  bool
	waiting bool // the task is suspended on the set (not elsewhere, between AsCompleted's steps)
}

type waitNode struct {
	Waiter
	c   *Ctx
	idx int
	set interface{ fire(i int) bool }
}

func (n *waitNode) wake(l *Loop) {
	if n.set.fire(n.idx) {
		n.c.wake(l)
	}
}

func (n *waitNode) loopOf() *Loop { return n.c.loop() }

// fire records that node i was woken, and reports whether the task waits on
// the set now and must be woken too.
func (w *waitSet[A, T]) fire(i int) bool {
	w.fired = append(w.fired, i)
	return w.waiting
}

// suspend suspends the task on the set until a node fires, or a
// cancellation.
func (w *waitSet[A, T]) suspend() error {
	w.waiting = true
	err := w.c.suspend()
	w.waiting = false
	return err
}

// start checks the awaitables and subscribes to those not ready yet.
func (w *waitSet[A, T]) start() error {
	n := len(w.aws)
	w.nodes = make([]waitNode, n)
	w.ready = make([]bool, n)
	w.results = make([]T, n)
	w.errs = make([]error, n)
	for i, a := range w.aws {
		f, isNil := futureOf[T](a)
		switch {
		case isNil:
			return fmt.Errorf("%w: a nil awaitable (argument %d)", ErrInvalidState, i)
		case f != nil && f.loop != w.c.loop():
			return fmt.Errorf("%w: a future of another loop (argument %d)", ErrInvalidState, i)
		case f != nil && f.owner == w.c:
			return fmt.Errorf("%w: task %s waits for itself", ErrInvalidState, w.c.String())
		}
		nd := &w.nodes[i]
		nd.c, nd.idx, nd.set, nd.w = w.c, i, w, nd
		w.poll(i)
	}
	return nil
}

// poll asks awaitable i again; a ready one is recorded, one not ready has
// its node back in a queue.
func (w *waitSet[A, T]) poll(i int) {
	nd := &w.nodes[i]
	if w.ready[i] || nd.queued() {
		return
	}
	nd.used()
	v, ok, err := w.aws[i].Poll(&nd.Waiter)
	if !ok {
		return
	}
	nd.used()
	w.ready[i], w.results[i], w.errs[i] = true, v, err
	w.order = append(w.order, i)
	w.n++
	if err != nil {
		w.failed = true
	}
}

func (w *waitSet[A, T]) satisfied() bool {
	switch {
	case w.n == len(w.aws):
		return true
	case w.mode == FirstCompleted:
		return w.n > 0
	case w.mode == FirstError:
		return w.failed
	}
	return false
}

// wait suspends until the set is satisfied, polling what fired.
func (w *waitSet[A, T]) wait() error {
	for !w.satisfied() {
		if err := w.suspend(); err != nil {
			return err
		}
		w.pollFired()
	}
	return nil
}

func (w *waitSet[A, T]) pollFired() {
	fired := w.fired
	w.fired = w.fired[:0]
	for _, i := range fired {
		w.poll(i)
	}
}

// stop takes the nodes of what is still pending off their queues (a wake
// picked for one passes on).
func (w *waitSet[A, T]) stop() {
	l := w.c.loop()
	for i := range w.nodes {
		if !w.ready[i] {
			w.nodes[i].drop(l)
		}
	}
}

// AsCompleted returns an iterator over the outcomes of aws in the order they
// complete (asyncio's as_completed): each step waits, in the calling task,
// for the next awaitable to be done and yields its result and error. If the
// calling task is cancelled while it waits, the iterator yields the zero T
// and the cancellation, and stops. Leaving the loop early (break) leaves
// nothing behind: the iterator takes its waiters off what is still pending,
// which goes on. Misuse (not in the task of c, a nil awaitable) is yielded
// as the error of a single step.
//
//	for v, err := range aio.AsCompleted(c, tasks...) { ... }
func AsCompleted[A Awaitable[T], T any](c *Ctx, aws ...A) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if err := c.check("AsCompleted"); err != nil {
			yield(zero, err)
			return
		}
		w := &waitSet[A, T]{c: c, aws: aws, mode: FirstCompleted}
		if err := w.start(); err != nil {
			w.stop()
			yield(zero, err)
			return
		}
		defer w.stop()
		next := 0
		for next < len(aws) {
			w.pollFired() // what fired while the caller's loop body ran
			for next == len(w.order) {
				if err := w.suspend(); err != nil {
					yield(zero, err)
					return
				}
				w.pollFired()
			}
			i := w.order[next]
			next++
			if f, _ := futureOf[T](aws[i]); f != nil {
				f.markRetrieved()
			}
			if !yield(w.results[i], w.errs[i]) {
				return
			}
		}
	}
}

// shielded is the awaitable Shield returns: it forwards a's outcome and is
// not a task, so nothing that cancels what it awaits reaches a.
type shielded[T any] struct{ a Awaitable[T] }

func (s shielded[T]) Poll(w *Waiter) (T, bool, error) { return s.a.Poll(w) }

// Shield returns an awaitable with a's outcome that protects a from the
// cancellations aimed at whoever awaits it (asyncio's shield): WaitFor,
// GatherOrCancel and the others cancel the tasks they await when they give
// up, and a shielded task is not one of them. Awaiting a in a task that is
// cancelled returns the cancellation and leaves a running in any case (see
// Task.Cancel); a's result stays retrievable from a itself.
func Shield[T any](a Awaitable[T]) Awaitable[T] { return shielded[T]{a} }

// GatherOrCancel is Gather in its structured form (trap 3 of asyncio's
// gather): it waits for every awaitable in aws and returns their results in
// order, and on the first failure, or if the calling task is cancelled, it
// cancels the tasks among aws that are not done, waits for them to finish,
// and returns that first error (or the cancellation). Futures are not
// cancelled; wrap a task in Shield to keep it out. Errors for misuse are
// those of Await.
func GatherOrCancel[A Awaitable[T], T any](c *Ctx, aws ...A) ([]T, error) {
	results, errs, first, err := gather(c, aws, true)
	if err == nil && first < 0 {
		return results, nil
	}
	if err == nil {
		err = errs[first]
	}
	var tasks []Awaitable[T]
	for _, a := range aws {
		if f, _ := futureOf[T](a); f != nil && f.owner != nil && !f.isDone() {
			f.owner.impl.Cancel(errGatherCancel)
			tasks = append(tasks, Awaitable[T](a))
		}
	}
	if len(tasks) > 0 {
		Shielded(c, func(c *Ctx) error {
			_, _, werr := GatherAll(c, tasks...)
			return werr
		})
	}
	return results, err
}

// errGatherCancel is the cause of GatherOrCancel's cancellations.
var errGatherCancel = errors.New("aio: GatherOrCancel: another awaitable failed")
