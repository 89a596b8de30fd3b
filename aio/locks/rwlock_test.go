package locks_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
)

// The zero RWLock is unlocked; readers share it, a writer has it alone;
// TryRLock and TryLock take what is free; RUnlock and Unlock of what is not
// held return ErrNotLocked and change nothing.
func TestRWLockBasics(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var rw locks.RWLock
		if err := rw.RUnlock(); !errors.Is(err, locks.ErrNotLocked) {
			t.Errorf("RUnlock of an unlocked RWLock = %v", err)
		}
		if err := rw.Unlock(); !errors.Is(err, locks.ErrNotLocked) {
			t.Errorf("Unlock of an unlocked RWLock = %v", err)
		}
		if err := rw.RLock(c); err != nil || !rw.TryRLock() || rw.Readers() != 2 {
			t.Fatalf("two readers: %v, Readers %d", err, rw.Readers())
		}
		if rw.TryLock() || rw.WriteLocked() {
			t.Error("TryLock succeeded with readers in")
		}
		if err := rw.Unlock(); !errors.Is(err, locks.ErrNotLocked) {
			t.Errorf("Unlock with only readers in = %v", err)
		}
		rw.RUnlock()
		rw.RUnlock()
		if err := rw.Lock(c); err != nil || !rw.WriteLocked() || rw.Readers() != 0 {
			t.Fatalf("Lock: %v, WriteLocked %v", err, rw.WriteLocked())
		}
		if rw.TryRLock() || rw.TryLock() {
			t.Error("TryRLock or TryLock succeeded with a writer in")
		}
		if err := rw.RUnlock(); !errors.Is(err, locks.ErrNotLocked) {
			t.Errorf("RUnlock with a writer in = %v", err)
		}
		if err := rw.Unlock(); err != nil || rw.WriteLocked() {
			t.Errorf("Unlock = %v", err)
		}
		if !rw.TryLock() {
			t.Error("TryLock of a free RWLock failed")
		}
		return rw.Unlock()
	})
}

// rwTask starts a task that takes the lock (a read lock if name starts with
// "r"), records name in got, holds the lock until hold is closed (or at
// once, if hold is nil), and gives it back.
func rwTask(c *aio.Ctx, rw *locks.RWLock, name string, got *[]string, hold *locks.Event) *aio.Task[struct{}] {
	reader := name[0] == 'r'
	return spawn(c, func(c *aio.Ctx) error {
		var err error
		if reader {
			err = rw.RLock(c)
		} else {
			err = rw.Lock(c)
		}
		if err != nil {
			return err
		}
		*got = append(*got, name)
		if hold != nil {
			if err := hold.Wait(c); err != nil {
				return err
			}
		}
		if reader {
			return rw.RUnlock()
		}
		return rw.Unlock()
	})
}

// Once a writer waits, readers that come after it wait behind it, even
// while readers hold the lock (no writer starvation); the readers that were
// in leave, the writer goes in, then the readers behind it, together.
func TestRWLockWriterPreference(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var rw locks.RWLock
		var got []string
		var first, writer locks.Event
		r1 := rwTask(c, &rw, "r1", &got, &first)
		settle(c)
		w := rwTask(c, &rw, "w", &got, &writer)
		settle(c)
		r2 := rwTask(c, &rw, "r2", &got, nil)
		r3 := rwTask(c, &rw, "r3", &got, nil)
		settle(c)
		if !slices.Equal(got, []string{"r1"}) || rw.TryRLock() {
			t.Fatalf("with a writer waiting: %v in; TryRLock must fail", got)
		}
		first.Set()
		settle(c)
		if !slices.Equal(got, []string{"r1", "w"}) {
			t.Fatalf("after the reader left: %v, want the writer in", got)
		}
		writer.Set()
		if _, err := aio.Gather(c, r1, w, r2, r3); err != nil {
			return err
		}
		if !slices.Equal(got, []string{"r1", "w", "r2", "r3"}) {
			t.Errorf("order %v", got)
		}
		return nil
	})
}

// A stream of readers that overlap each other does not keep a writer out:
// the writer gets the lock as soon as the readers that were in when it
// came have left.
func TestRWLockNoWriterStarvation(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var rw locks.RWLock
		writerIn := -1
		readers := 0
		stop := false
		var tasks []*aio.Task[struct{}]
		// Readers arrive every millisecond and hold the lock for 3.
		tasks = append(tasks, spawn(c, func(c *aio.Ctx) error {
			for i := 0; !stop && i < 100; i++ {
				tasks = append(tasks, spawn(c, func(c *aio.Ctx) error {
					if err := rw.RLock(c); err != nil {
						return err
					}
					readers++
					aio.Sleep(c, 3*time.Millisecond)
					return rw.RUnlock()
				}))
				aio.Sleep(c, time.Millisecond)
			}
			return nil
		}))
		aio.Sleep(c, 5*time.Millisecond)
		before := readers
		if err := rw.Lock(c); err != nil {
			return err
		}
		writerIn = readers
		stop = true
		rw.Unlock()
		for len(tasks) > 0 {
			t := tasks[0]
			tasks = tasks[1:]
			if _, err := aio.Await(c, t); err != nil {
				return err
			}
		}
		if writerIn > before+3 {
			t.Errorf("the writer came when %d readers had been in, and got in after %d", before, writerIn)
		}
		return nil
	})
}

// Writers get the lock in the order they asked; readers and writers wait in
// one line, and readers next to each other in it share the lock.
func TestRWLockFIFO(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var rw locks.RWLock
		var got []string
		var w0 locks.Event
		holds := map[string]*locks.Event{}
		tasks := []*aio.Task[struct{}]{rwTask(c, &rw, "w0", &got, &w0)}
		settle(c)
		for _, name := range []string{"r1", "r2", "w1", "r3", "w2", "w3", "r4", "r5"} {
			holds[name] = new(locks.Event)
			tasks = append(tasks, rwTask(c, &rw, name, &got, holds[name]))
			aio.Yield(c)
		}
		step := func(release []string, want ...string) {
			t.Helper()
			for _, name := range release {
				if name == "w0" {
					w0.Set()
				} else {
					holds[name].Set()
				}
			}
			settle(c)
			if !slices.Equal(got, want) {
				t.Fatalf("after releasing %v: %v, want %v", release, got, want)
			}
		}
		step([]string{"w0"}, "w0", "r1", "r2")
		step([]string{"r1"}, "w0", "r1", "r2")
		step([]string{"r2"}, "w0", "r1", "r2", "w1")
		step([]string{"w1"}, "w0", "r1", "r2", "w1", "r3")
		step([]string{"r3"}, "w0", "r1", "r2", "w1", "r3", "w2")
		step([]string{"w2"}, "w0", "r1", "r2", "w1", "r3", "w2", "w3")
		step([]string{"w3"}, "w0", "r1", "r2", "w1", "r3", "w2", "w3", "r4", "r5")
		step([]string{"r4", "r5"}, "w0", "r1", "r2", "w1", "r3", "w2", "w3", "r4", "r5")
		_, err := aio.Gather(c, tasks...)
		return err
	})
}

// A waiter cancelled while it waits never holds the lock, and the tasks
// behind it are not stranded: a reader behind a cancelled writer joins the
// readers in at once, whether the writer still waited in line or was
// first in line, waiting for the readers to leave.
func TestRWLockCancelledWriterDoesNotStrand(t *testing.T) {
	for _, firstInLine := range []bool{false, true} {
		run(t, func(c *aio.Ctx) error {
			var rw locks.RWLock
			var got []string
			var hold, w0 locks.Event
			var tasks []*aio.Task[struct{}]
			if firstInLine {
				// w0 holds; r1, w, r2 wait; when w0 leaves, r1 goes in
				// and w becomes first in line, waiting for r1.
				tasks = append(tasks, rwTask(c, &rw, "w0", &got, &w0))
				settle(c)
			}
			tasks = append(tasks, rwTask(c, &rw, "r1", &got, &hold))
			settle(c)
			var werr error
			w := spawn(c, func(c *aio.Ctx) error {
				werr = rw.Lock(c)
				if werr == nil {
					got = append(got, "w")
					rw.Unlock()
				}
				return nil
			})
			settle(c)
			tasks = append(tasks, rwTask(c, &rw, "r2", &got, &hold))
			settle(c)
			w0.Set()
			settle(c)
			if !slices.Equal(got, []string{"r1"}) && !slices.Equal(got, []string{"w0", "r1"}) {
				t.Fatalf("first in line %v: before the cancel: %v", firstInLine, got)
			}
			w.Cancel(nil)
			settle(c)
			if !errors.Is(werr, context.Canceled) || !slices.Contains(got, "r2") || rw.Readers() != 2 {
				t.Errorf("first in line %v: writer %v; in: %v, Readers %d; want r2 in beside r1",
					firstInLine, werr, got, rw.Readers())
			}
			hold.Set()
			_, err := aio.Gather(c, tasks...)
			if rw.Readers() != 0 || rw.WriteLocked() || !rw.TryLock() {
				t.Errorf("first in line %v: not free at the end", firstInLine)
			}
			return err
		})
	}
}

// The lock handed to a waiter that is cancelled in the same iteration,
// after the wake and before it runs, goes to the next in line: a writer
// woken by Unlock, a reader woken by Unlock, and a writer woken, first in
// line, by the last reader's RUnlock.
func TestRWLockHandedToCancelledWaiter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		holder  string // what the holder has: "w" or "r"
		waiters []string
		want    []string // who is in at the end, in order
	}{
		{"writer woken by Unlock", "w", []string{"w1", "w2", "r3"}, []string{"w2", "r3"}},
		{"reader woken by Unlock", "w", []string{"r1", "r2", "w3"}, []string{"r2", "w3"}},
		{"writer woken by RUnlock", "r", []string{"w1", "r2", "w3"}, []string{"r2", "w3"}},
	} {
		run(t, func(c *aio.Ctx) error {
			var rw locks.RWLock
			if tc.holder == "w" {
				rw.TryLock()
			} else {
				rw.TryRLock()
			}
			var got []string
			var tasks []*aio.Task[struct{}]
			for _, name := range tc.waiters {
				tasks = append(tasks, rwTask(c, &rw, name, &got, nil))
				aio.Yield(c)
			}
			if tc.holder == "w" {
				rw.Unlock()
			} else {
				rw.RUnlock()
			}
			tasks[0].Cancel(nil) // woken, not yet run
			aio.GatherAll(c, tasks...)
			if !errors.Is(tasks[0].Err(), context.Canceled) || !slices.Equal(got, tc.want) {
				t.Errorf("%s: first waiter %v; in: %v, want %v", tc.name, tasks[0].Err(), got, tc.want)
			}
			if rw.Readers() != 0 || rw.WriteLocked() || !rw.TryLock() {
				t.Errorf("%s: not free at the end", tc.name)
			}
			return nil
		})
	}
}

// The writer first in line, waiting for the readers to leave, woken by the
// last RUnlock and cancelled before it runs: the lock goes on to the next in
// line, and the writer behind gets its turn after.
func TestRWLockFirstInLineWriterCancelledAfterWake(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var rw locks.RWLock
		var got []string
		var w0, r0 locks.Event
		tasks := []*aio.Task[struct{}]{rwTask(c, &rw, "w0", &got, &w0)}
		settle(c)
		for _, name := range []string{"r0", "w1", "r2", "w3"} {
			hold := (*locks.Event)(nil)
			if name == "r0" {
				hold = &r0
			}
			tasks = append(tasks, rwTask(c, &rw, name, &got, hold))
			aio.Yield(c)
		}
		w0.Set()
		settle(c) // r0 is in; w1 waits, first in line, for r0 to leave
		if !slices.Equal(got, []string{"w0", "r0"}) || rw.Readers() != 1 {
			t.Fatalf("before: %v", got)
		}
		r0.Set()
		aio.Yield(c) // r0 runs its RUnlock, which wakes w1 ...
		if rw.Readers() != 0 || rw.WriteLocked() {
			t.Fatalf("r0 has not left, or w1 ran: Readers %d, WriteLocked %v", rw.Readers(), rw.WriteLocked())
		}
		tasks[2].Cancel(nil) // ... cancelled before it runs
		aio.GatherAll(c, tasks...)
		if !errors.Is(tasks[2].Err(), context.Canceled) || !slices.Equal(got, []string{"w0", "r0", "r2", "w3"}) {
			t.Errorf("w1: %v; in: %v", tasks[2].Err(), got)
		}
		if rw.Readers() != 0 || rw.WriteLocked() || !rw.TryLock() {
			t.Error("not free at the end")
		}
		return nil
	})
}

// aio.WithTimeout around RLock and Lock: the timed-out waiter gets
// ErrTimeout and holds nothing, and the waiters behind it get in.
func TestRWLockWithTimeout(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var rw locks.RWLock
		rw.TryRLock()
		if err := aio.WithTimeout(c, time.Millisecond, rw.Lock); !errors.Is(err, aio.ErrTimeout) || rw.WriteLocked() {
			t.Errorf("Lock under a timeout = %v", err)
		}
		if err := aio.WithTimeout(c, 0, rw.RLock); err != nil || rw.Readers() != 2 {
			t.Errorf("RLock under a zero timeout, free = %v, Readers %d", err, rw.Readers())
		}
		rw.RUnlock()
		var got []string
		var errs [2]error
		a := spawn(c, func(c *aio.Ctx) error { errs[0] = aio.WithTimeout(c, time.Millisecond, rw.Lock); return nil })
		settle(c)
		b := spawn(c, func(c *aio.Ctx) error { errs[1] = aio.WithTimeout(c, time.Millisecond, rw.RLock); return nil })
		w := rwTask(c, &rw, "w", &got, nil)
		r := rwTask(c, &rw, "r", &got, nil)
		aio.Gather(c, a, b)
		rw.RUnlock()
		if _, err := aio.Gather(c, w, r); err != nil {
			return err
		}
		if !errors.Is(errs[0], aio.ErrTimeout) || !errors.Is(errs[1], aio.ErrTimeout) || !slices.Equal(got, []string{"w", "r"}) {
			t.Errorf("timed out: %v; then in: %v", errs, got)
		}
		return nil
	})
}
