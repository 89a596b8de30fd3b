package aio

import "fmt"

// Gather waits, in the calling task, for every awaitable in aws and returns
// their results in order. It returns as soon as one of them fails, with that
// error (the first to fail in time, not in order) and the results as they
// stand; the others keep running, as in asyncio (a task group is the
// structured form that cancels them). If the calling task is cancelled,
// Gather returns the cancellation and leaves aws running.
//
// aws may be a slice of tasks (Gather(c, tasks...)), of futures, or of
// Awaitable[T] to mix both. All must belong to c's loop. Gather of nothing
// returns at once. Errors for misuse are those of Await.
func Gather[A Awaitable[T], T any](c *Ctx, aws ...A) ([]T, error) {
	results, errs, err := gather(c, aws, true)
	if err != nil {
		return results, err
	}
	for _, e := range errs {
		if e != nil {
			return results, e
		}
	}
	return results, nil
}

// GatherAll waits, in the calling task, until every awaitable in aws is done,
// and returns each one's result and error, in order (asyncio's gather with
// return_exceptions=True). The error result is the calling task's
// cancellation, or misuse as for Await; the errors of aws are in errs.
func GatherAll[A Awaitable[T], T any](c *Ctx, aws ...A) (results []T, errs []error, err error) {
	return gather(c, aws, false)
}

func gather[A Awaitable[T], T any](c *Ctx, aws []A, stopOnErr bool) ([]T, []error, error) {
	if err := c.check("Gather"); err != nil {
		return nil, nil, err
	}
	bases := make([]*futureBase, len(aws))
	for i, a := range aws {
		f := future(a)
		switch {
		case f == nil:
			return nil, nil, fmt.Errorf("%w: Gather of a nil future (argument %d)", ErrInvalidState, i)
		case f.loop != c.fut.loop:
			return nil, nil, fmt.Errorf("%w: Gather of a future that belongs to another loop (argument %d)", ErrInvalidState, i)
		case f.owner == c:
			return nil, nil, fmt.Errorf("%w: task %s gathers itself", ErrInvalidState, c.String())
		}
		bases[i] = &f.futureBase
	}
	if err := waitAll(c, bases, stopOnErr); err != nil {
		return nil, nil, err
	}
	results := make([]T, len(aws))
	errs := make([]error, len(aws))
	for i, a := range aws {
		if f := future(a); f.isDone() {
			results[i], errs[i] = f.Result()
		}
	}
	return results, errs, nil
}

// future returns a's future, or nil for a nil *Future, a nil *Task or a nil
// Awaitable interface (which has no method to call).
func future[A Awaitable[T], T any](a A) *Future[T] {
	if any(a) == nil {
		return nil
	}
	return a.future()
}

// waitCounter is shared by the waiters of one waitAll: n futures cost one
// allocation, and O(n) however they complete.
type waitCounter struct {
	c         *Ctx
	pending   int
	failed    bool
	stopOnErr bool
}

func (w *waitCounter) ready() bool { return w.pending == 0 || w.stopOnErr && w.failed }

// done counts one completed future; it runs at the moment of completion.
func (w *waitCounter) done(f *futureBase) {
	w.pending--
	if f.err != nil {
		w.failed = true
	}
	if w.ready() {
		w.c.wake()
	}
}

// waitAll suspends c until every future is done, or (with stopOnErr) until
// one fails.
func waitAll(c *Ctx, fs []*futureBase, stopOnErr bool) error {
	if err := c.takeCancel(); err != nil {
		return err
	}
	w := &waitCounter{c: c, stopOnErr: stopOnErr}
	for _, f := range fs {
		if !f.isDone() {
			w.pending++
		} else if f.err != nil {
			w.failed = true
		}
	}
	if w.ready() {
		return nil
	}
	for _, f := range fs {
		if !f.isDone() {
			f.push(waiter{count: w})
		}
	}
	var err error
	for err == nil && !w.ready() {
		err = c.suspend()
	}
	if w.pending > 0 {
		// Returning early (a failure, or a cancellation): take the counter
		// off the futures still pending. It is found by identity, so no
		// ids need keeping.
		for _, f := range fs {
			if !f.isDone() {
				f.removeCounter(w)
			}
		}
	}
	return err
}
