package aio

import "fmt"

// Gather waits, in the calling task, for every awaitable in aws and returns
// their results in order. It returns as soon as one of them fails, with that
// error and the results as they stand: the first to fail in time, or, among
// those that had failed already when Gather was called, the first in
// argument order. The others keep running, as in asyncio (a task group is
// the structured form that cancels them). Gather retrieves every outcome it
// was given, as asyncio's gather does: a task that fails after Gather has
// returned another's error is not reported as never retrieved. If the
// calling task is canceled, Gather returns the cancellation and leaves aws
// running, their outcomes unread.
//
// aws may be a slice of tasks (Gather(c, tasks...)), of futures, or of
// awaitables of the program's own, all of one type. To mix types (a task and
// a future), name the type parameter: Gather[aio.Awaitable[int]](c, t, f):
// Go infers one type for all the arguments of a variadic type parameter. All
// must belong to c's loop. Gather of nothing returns at once. Errors for
// misuse are those of Await.
func Gather[A Awaitable[T], T any](c *Ctx, aws ...A) ([]T, error) {
	results, errs, first, err := gather(c, aws, true)
	if err != nil {
		return results, err
	}
	if first >= 0 {
		return results, errs[first]
	}
	return results, nil
}

// GatherAll waits, in the calling task, until every awaitable in aws is done,
// and returns each one's result and error, in order (asyncio's gather with
// return_exceptions=True). The error result is the calling task's
// cancellation, or misuse as for Await; the errors of aws are in errs, all
// retrieved.
func GatherAll[A Awaitable[T], T any](c *Ctx, aws ...A) (results []T, errs []error, err error) {
	results, errs, _, err = gather(c, aws, false)
	return results, errs, err
}

// gatherer is the state of one Gather: one allocation, plus one node per
// awaitable, however they complete.
type gatherer struct {
	c         *Ctx
	pending   int
	first     int   // index of the first to fail while Gather waited, or -1
	fired     []int // nodes of awaitables of the program's own to Poll again
	stopOnErr bool
}

func (g *gatherer) done() bool { return g.pending == 0 || g.stopOnErr && g.first >= 0 }

// gatherNode is the waiter of one awaitable of a Gather. For a future (or a
// task) it counts the completion at the moment it happens; for an awaitable
// of the program's own, it has the task Poll it again.
type gatherNode struct {
	Waiter
	g   *gatherer
	f   *futureBase // the future, or nil for an awaitable polled
	idx int
}

func (n *gatherNode) wake(l *Loop) {
	g := n.g
	if n.f != nil {
		g.pending--
		if n.f.err != nil && g.first < 0 {
			g.first = n.idx
		}
		if g.done() {
			g.c.wake(l)
		}
		return
	}
	g.fired = append(g.fired, n.idx)
	g.c.wake(l)
}

func (n *gatherNode) loopOf() *Loop { return n.g.c.loop() }

// futureOf returns a's future if a is a future or a task, and whether a is
// nil.
func futureOf[T any](a Awaitable[T]) (f *Future[T], isNil bool) {
	switch a := a.(type) {
	case nil:
		return nil, true
	case *Future[T]:
		return a, a == nil
	case *Task[T]:
		if a == nil {
			return nil, true
		}
		return &a.fut, false
	}
	return nil, false
}

// gather waits for aws (with stopOnErr, until one fails) and returns the
// outcomes of those that are done, and the index of the first to fail, or -1.
func gather[A Awaitable[T], T any](c *Ctx, aws []A, stopOnErr bool) ([]T, []error, int, error) {
	if err := c.check("Gather"); err != nil {
		return nil, nil, -1, err
	}
	futs := make([]*Future[T], len(aws))
	for i, a := range aws {
		f, isNil := futureOf[T](a)
		switch {
		case isNil:
			return nil, nil, -1, fmt.Errorf("%w: Gather of a nil awaitable (argument %d)", ErrInvalidState, i)
		case f == nil:
		case f.loop != c.fut.loop:
			return nil, nil, -1, fmt.Errorf("%w: Gather of a future that belongs to another loop (argument %d)", ErrInvalidState, i)
		case f.owner == c:
			return nil, nil, -1, fmt.Errorf("%w: task %s gathers itself", ErrInvalidState, c.String())
		}
		futs[i] = f
	}
	if err := c.takeCancel(); err != nil {
		return nil, nil, -1, err
	}
	results := make([]T, len(aws))
	errs := make([]error, len(aws))
	ready := make([]bool, len(aws))
	g := &gatherer{c: c, first: -1, stopOnErr: stopOnErr}
	failedBefore := -1
	var nodes []gatherNode
	node := func(i int) *gatherNode {
		if nodes == nil {
			nodes = make([]gatherNode, len(aws))
		}
		n := &nodes[i]
		n.g, n.idx, n.w = g, i, n
		return n
	}
	for i, a := range aws {
		if f := futs[i]; f != nil {
			if f.isDone() {
				ready[i] = true
				if f.err != nil && failedBefore < 0 {
					failedBefore = i
				}
				continue
			}
			n := node(i)
			n.f = &f.futureBase
			f.waiters.push(&n.Waiter)
			g.pending++
			continue
		}
		n := node(i)
		v, ok, err := a.Poll(&n.Waiter)
		if ok {
			n.used()
			ready[i], results[i], errs[i] = true, v, err
			if err != nil && failedBefore < 0 {
				failedBefore = i
			}
			continue
		}
		g.pending++
	}
	var err error
	if !(stopOnErr && failedBefore >= 0) {
		for err == nil && !g.done() {
			if err = c.suspend(); err != nil {
				break
			}
			fired := g.fired
			g.fired = g.fired[:0]
			for _, i := range fired {
				n := &nodes[i]
				if n.queued() {
					continue // woken by another event than its queue's
				}
				n.used()
				v, ok, perr := aws[i].Poll(&n.Waiter)
				if !ok {
					continue
				}
				n.used()
				ready[i], results[i], errs[i] = true, v, perr
				g.pending--
				if perr != nil && g.first < 0 {
					g.first = i
				}
			}
		}
	}
	// Take the nodes off what they wait in: the early return of a failure
	// or a cancellation leaves some queued (or picked, whose wakes pass on).
	for i := range nodes {
		if nodes[i].g != nil && !ready[i] {
			nodes[i].drop(c.loop())
		}
	}
	if err != nil {
		return nil, nil, -1, err
	}
	first := g.first
	if first < 0 {
		first = failedBefore
	}
	for i, f := range futs {
		if f == nil {
			continue
		}
		if !f.isDone() {
			// Gather returns before this one is done: its error, if it
			// fails, is Gather's to have retrieved (asyncio marks it so).
			if o := f.owner; o != nil {
				o.errClaimed = true
			}
			continue
		}
		results[i], errs[i] = f.Result()
	}
	return results, errs, first, nil
}
