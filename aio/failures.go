package aio

import (
	"runtime"
	"sync/atomic"
	"weak"
)

// Failures nobody retrieved.
//
// A task that ends with an error that is not a cancellation gets a failure
// record. Reading the task's outcome (Await, Result, Err, Wait, the
// combinators) marks it retrieved. A failure is reported through the error
// handler, once, when it can no longer be retrieved: when the garbage
// collector finds the task unreachable with the error unread (a cleanup
// attached to the task; this is when asyncio reports, and it is exact), and
// at the latest when the loop shuts down or closes, for the failed tasks
// still reachable and unread. Nothing is reported early on a guess, so
// GatherAll over a thousand failing tasks reports nothing.
//
// The loop holds the records, not the tasks: a record is small (the error
// and the task's name) and the list drops records that are retrieved or
// reported as it grows, so its length stays within twice the number of
// failed, unread tasks that the program itself still holds.

// failure is the record of one failed task.
type failure struct {
	err       error
	name      string // the task's String(), for a report after it is gone
	id        uint64 // the task's ID and creation site (debug mode), likewise
	site      *site
	task      weak.Pointer[Ctx] // the task, while it is reachable
	retrieved atomic.Bool       // someone read the outcome
	reported  atomic.Bool       // reported, or retrieved at the report's moment
}

// failures is the loop's list of failure records. Loop goroutine only.
type failures struct {
	recs    []*failure
	compact int // length at which the list is next compacted
}

// noteFailed makes c's failure record and keeps it until it is retrieved
// or reported.
func (l *Loop) noteFailed(c *Ctx) {
	f := &failure{err: c.fut.err, name: c.String(), id: c.id, site: c.debugSite(), task: weak.Make(c)}
	c.extra().fail = f
	runtime.AddCleanup(c, l.failureCollected, f)
	fs := &l.failed
	if len(fs.recs) >= fs.compact {
		kept := fs.recs[:0]
		for _, r := range fs.recs {
			if !r.retrieved.Load() && !r.reported.Load() {
				kept = append(kept, r)
			}
		}
		clear(fs.recs[len(kept):])
		fs.recs = kept
		fs.compact = max(2*len(kept), 64)
	}
	fs.recs = append(fs.recs, f)
}

// failureCollected runs on a goroutine of the runtime when a failed task
// has become unreachable. If nobody read its error, that is now certain
// for ever: the loop reports it.
func (l *Loop) failureCollected(f *failure) {
	if f.retrieved.Load() || f.reported.Load() {
		return
	}
	l.post(func() { l.reportFailure(f) }) // ErrClosed: reported at the close
}

// reportFailure reports f unless it was retrieved or reported already.
// Loop goroutine only.
func (l *Loop) reportFailure(f *failure) {
	if f.retrieved.Load() || !f.reported.CompareAndSwap(false, true) {
		return
	}
	ec := ErrorContext{Message: "aio: task error was never retrieved", Err: f.err, TaskID: f.id, TaskName: nameOf(f.name, f.id), Site: f.site.String()}
	if c := f.task.Value(); c != nil {
		ec.Task = c.impl
	} else {
		ec.Message += " (task " + f.name + ", garbage collected)"
	}
	l.reportNow(ec)
}

// reportFailed reports every failure that nobody retrieved: it runs when
// the loop shuts down or closes, the last moment anyone could have.
func (l *Loop) reportFailed() {
	recs := l.failed.recs
	l.failed = failures{}
	for _, f := range recs {
		l.reportFailure(f)
	}
}

// markRetrieved records that the outcome of the task whose future is f has
// been read. Any goroutine, once f is done.
func (f *futureBase) markRetrieved() {
	if o := f.owner; o != nil && o.x != nil && o.x.fail != nil {
		o.x.fail.retrieved.Store(true)
	}
}
