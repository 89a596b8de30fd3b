package locks_test

import (
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
)

// A misuseOp is one method of a primitive, called for the misuse table.
type misuseOp struct {
	name   string
	err    func(c *aio.Ctx) error // a method with an error result
	panics func()                 // a method without one
	waits  bool                   // err takes the task's Ctx: it is a wait
}

// A primitive under test: make returns a new one and its methods; bind uses
// it on the calling task's loop, so that it belongs there.
type misusePrim struct {
	name string
	make func() (bind func(c *aio.Ctx), ops []misuseOp)
}

func misusePrims() []misusePrim {
	return []misusePrim{
		{"Lock", func() (func(*aio.Ctx), []misuseOp) {
			l := new(locks.Lock)
			return func(c *aio.Ctx) { l.Acquire(c); l.Release() }, []misuseOp{
				{name: "Acquire", err: l.Acquire, waits: true},
				{name: "Release", err: func(*aio.Ctx) error { return l.Release() }},
				{name: "TryAcquire", panics: func() { l.TryAcquire() }},
				{name: "Locked", panics: func() { l.Locked() }},
			}
		}},
		{"Semaphore", func() (func(*aio.Ctx), []misuseOp) {
			s := new(locks.Semaphore)
			return func(c *aio.Ctx) { s.Available() }, []misuseOp{
				{name: "Acquire", err: s.Acquire, waits: true},
				{name: "Release", err: func(*aio.Ctx) error { return s.Release() }},
				{name: "TryAcquire", panics: func() { s.TryAcquire() }},
				{name: "Available", panics: func() { s.Available() }},
			}
		}},
		{"BoundedSemaphore", func() (func(*aio.Ctx), []misuseOp) {
			s, _ := locks.NewBoundedSemaphore(1)
			return func(c *aio.Ctx) { s.Available() }, []misuseOp{
				{name: "Acquire", err: s.Acquire, waits: true},
				{name: "Release", err: func(*aio.Ctx) error { return s.Release() }},
				{name: "TryAcquire", panics: func() { s.TryAcquire() }},
				{name: "Available", panics: func() { s.Available() }},
			}
		}},
		{"Condition", func() (func(*aio.Ctx), []misuseOp) {
			cv := new(locks.Condition)
			return func(c *aio.Ctx) { cv.Acquire(c); cv.NotifyAll(); cv.Release() }, []misuseOp{
				{name: "Acquire", err: cv.Acquire, waits: true},
				{name: "Wait", err: cv.Wait, waits: true},
				{name: "WaitFor", err: func(c *aio.Ctx) error { return cv.WaitFor(c, func() bool { return false }) }, waits: true},
				{name: "Release", err: func(*aio.Ctx) error { return cv.Release() }},
				{name: "Notify", err: func(*aio.Ctx) error { return cv.Notify(1) }},
				{name: "NotifyAll", err: func(*aio.Ctx) error { return cv.NotifyAll() }},
				{name: "Locked", panics: func() { cv.Locked() }},
			}
		}},
		{"Barrier", func() (func(*aio.Ctx), []misuseOp) {
			b, _ := locks.NewBarrier(2)
			return func(c *aio.Ctx) { b.Parties() }, []misuseOp{
				{name: "Wait", err: func(c *aio.Ctx) error { _, err := b.Wait(c); return err }, waits: true},
				{name: "Reset", panics: b.Reset},
				{name: "Abort", panics: b.Abort},
				{name: "Broken", panics: func() { b.Broken() }},
				{name: "Parties", panics: func() { b.Parties() }},
				{name: "NWaiting", panics: func() { b.NWaiting() }},
			}
		}},
		{"RWLock", func() (func(*aio.Ctx), []misuseOp) {
			rw := new(locks.RWLock)
			return func(c *aio.Ctx) { rw.Lock(c); rw.Unlock() }, []misuseOp{
				{name: "RLock", err: rw.RLock, waits: true},
				{name: "Lock", err: rw.Lock, waits: true},
				{name: "RUnlock", err: func(*aio.Ctx) error { return rw.RUnlock() }},
				{name: "Unlock", err: func(*aio.Ctx) error { return rw.Unlock() }},
				{name: "TryRLock", panics: func() { rw.TryRLock() }},
				{name: "TryLock", panics: func() { rw.TryLock() }},
				{name: "Readers", panics: func() { rw.Readers() }},
				{name: "WriteLocked", panics: func() { rw.WriteLocked() }},
			}
		}},
		{"Event", func() (func(*aio.Ctx), []misuseOp) {
			e := new(locks.Event)
			return func(c *aio.Ctx) { e.IsSet() }, []misuseOp{
				{name: "Wait", err: e.Wait, waits: true},
				{name: "Set", panics: e.Set},
				{name: "Clear", panics: e.Clear},
				{name: "IsSet", panics: func() { e.IsSet() }},
			}
		}},
	}
}

// checkMisuse calls op with c and checks the outcome: a method with an
// error result returns an error matching wantWait (a wait) or wantOther (the
// others) and does not panic; a method without one panics with an error
// matching aio.ErrNotOnLoop.
func checkMisuse(t *testing.T, where, prim string, op misuseOp, c *aio.Ctx, wantWait, wantOther error) {
	t.Helper()
	if op.err == nil {
		if err := panicErr(op.panics); !errIs(err, aio.ErrNotOnLoop) {
			t.Errorf("%s: %s.%s panics with %v, want ErrNotOnLoop", where, prim, op.name, err)
		}
		return
	}
	want := wantOther
	if op.waits {
		want = wantWait
	}
	var err error
	if p := panicErr(func() { err = op.err(c) }); p != nil {
		t.Errorf("%s: %s.%s panics with %v; it has an error result", where, prim, op.name, p)
		return
	}
	if !errIs(err, want) {
		t.Errorf("%s: %s.%s = %v, want %v", where, prim, op.name, err, want)
	}
}

// Every primitive refuses to be used off its loop, as the seam does: from a
// plain goroutine, before and after its first use, the waits return
// ErrNotInTask (the task's Ctx is not the caller's), the other methods with
// an error result return ErrNotOnLoop and those without one panic with it;
// from a task of another loop, the waits return ErrInvalidState and the
// others ErrNotOnLoop. A nil Ctx is ErrNotInTask.
func TestMisuse(t *testing.T) {
	for _, p := range misusePrims() {
		run(t, func(c *aio.Ctx) error {
			// Not yet bound to a loop.
			_, ops := p.make()
			onPlainGoroutine(func() {
				for _, op := range ops {
					checkMisuse(t, "plain goroutine, unbound", p.name, op, c, aio.ErrNotInTask, aio.ErrNotOnLoop)
				}
			})
			for _, op := range ops {
				if op.waits {
					checkMisuse(t, "nil Ctx", p.name, op, nil, aio.ErrNotInTask, nil)
				}
			}
			// Bound to c's loop.
			bind, ops := p.make()
			bind(c)
			onPlainGoroutine(func() {
				for _, op := range ops {
					checkMisuse(t, "plain goroutine", p.name, op, c, aio.ErrNotInTask, aio.ErrNotOnLoop)
				}
			})
			return onOtherLoop(c, func(c2 *aio.Ctx) {
				for _, op := range ops {
					checkMisuse(t, "another loop", p.name, op, c2, aio.ErrInvalidState, aio.ErrNotOnLoop)
				}
			})
		})
	}
}

// The methods that do not wait may be called from a callback of the loop,
// outside any task: a timer releases a Lock and a Semaphore, notifies a
// Condition, breaks a Barrier; the waits there return ErrNotInTask.
func TestUseFromCallback(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var l locks.Lock
		var s locks.Semaphore
		var cv locks.Condition
		b, _ := locks.NewBarrier(2)
		l.Acquire(c)
		var errs []error
		c.Loop().CallLater(time.Millisecond, func() {
			errs = append(errs, l.Release(), s.Release())
			b.Abort()
		})
		if err := s.Acquire(c); err != nil {
			return err
		}
		if l.Locked() || !b.Broken() {
			t.Errorf("callback: Locked %v, Broken %v", l.Locked(), b.Broken())
		}
		for _, err := range errs {
			if err != nil {
				t.Errorf("from a callback: %v", err)
			}
		}
		var aerr error
		c.Loop().CallSoon(func() { aerr = cv.Acquire(c) })
		aio.Yield(c)
		if !errIs(aerr, aio.ErrNotInTask) || cv.Locked() {
			t.Errorf("Condition.Acquire from a callback = %v, Locked %v", aerr, cv.Locked())
		}
		cv.Acquire(c)
		c.Loop().CallSoon(func() { errs = append(errs[:0], cv.Notify(1)) })
		aio.Yield(c)
		cv.Release()
		if errs[0] != nil {
			t.Errorf("Condition.Notify from a callback = %v", errs[0])
		}
		return nil
	})
}
