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
// calling task is cancelled, Gather returns the cancellation and leaves aws
// running, their outcomes unread.
//
// aws may be a slice of tasks (Gather(c, tasks...)), of futures, or of
// Awaitable[T] to mix both. All must belong to c's loop. Gather of nothing
// returns at once. Errors for misuse are those of Await.
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

// gather waits for aws (with stopOnErr, until one fails) and returns the
// outcomes of those that are done, and the index of the first to fail, or -1.
func gather[A Awaitable[T], T any](c *Ctx, aws []A, stopOnErr bool) ([]T, []error, int, error) {
	if err := c.check("Gather"); err != nil {
		return nil, nil, -1, err
	}
	bases := make([]*futureBase, len(aws))
	for i, a := range aws {
		f := future(a)
		switch {
		case f == nil:
			return nil, nil, -1, fmt.Errorf("%w: Gather of a nil future (argument %d)", ErrInvalidState, i)
		case f.loop != c.fut.loop:
			return nil, nil, -1, fmt.Errorf("%w: Gather of a future that belongs to another loop (argument %d)", ErrInvalidState, i)
		case f.owner == c:
			return nil, nil, -1, fmt.Errorf("%w: task %s gathers itself", ErrInvalidState, c.String())
		}
		bases[i] = &f.futureBase
	}
	firstFailed, err := waitAll(c, bases, stopOnErr)
	if err != nil {
		return nil, nil, -1, err
	}
	results := make([]T, len(aws))
	errs := make([]error, len(aws))
	first := -1
	for i, a := range aws {
		f := future(a)
		if !f.isDone() {
			// Gather returns before this one is done: its error, if it
			// fails, is Gather's to have retrieved (asyncio marks it so).
			if o := f.owner; o != nil {
				o.errClaimed = true
			}
			continue
		}
		results[i], errs[i] = f.Result()
		if &f.futureBase == firstFailed || first < 0 && firstFailed == nil && errs[i] != nil {
			first = i
		}
	}
	return results, errs, first, nil
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
	failed    *futureBase // the first that failed while the counter waited
	stopOnErr bool
}

func (w *waitCounter) ready() bool { return w.pending == 0 || w.stopOnErr && w.failed != nil }

// done counts one completed future; it runs at the moment of completion.
func (w *waitCounter) done(f *futureBase) {
	w.pending--
	if f.err != nil && w.failed == nil {
		w.failed = f
	}
	if w.ready() {
		w.c.wake()
	}
}

// waitAll suspends c until every future is done, or (with stopOnErr) until
// one fails. It returns the first future that failed while it waited (nil
// if none did, or if one had failed before the call).
func waitAll(c *Ctx, fs []*futureBase, stopOnErr bool) (*futureBase, error) {
	if err := c.takeCancel(); err != nil {
		return nil, err
	}
	w := &waitCounter{c: c, stopOnErr: stopOnErr}
	failedBefore := false
	for _, f := range fs {
		if !f.isDone() {
			w.pending++
		} else if f.err != nil {
			failedBefore = true
		}
	}
	if w.pending == 0 || stopOnErr && failedBefore {
		return nil, nil
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
	return w.failed, err
}
