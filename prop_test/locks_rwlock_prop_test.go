package prop_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
	"pgregory.net/rapid"
)

// TestPropRWLockModel runs random sequences of RLock and Lock (by tasks,
// plainly or under a zero aio.WithTimeout), TryRLock, TryLock, RUnlock and
// Unlock (by the main task), and cancellations of waiting readers and
// writers, alone, right after an unlock woke the first in line and before it
// ran, or several at once, on a locks.RWLock, and checks after each step,
// once the tasks are quiet, that it matches the model rwlock.go documents:
// a number of read locks, a writer flag, and one FIFO line of waiting
// readers and writers. The first in line gets in as soon as the lock allows
// (a reader when no writer holds it, a writer when nobody does), and the
// readers right behind a reader that gets in come in with it; a writer at
// the head of the line keeps everyone behind it out, even while readers
// hold the lock, so a newcomer gets in at once only if the lock allows and
// nobody waits (writer preference: readers do not overtake a waiting
// writer). A cancelled waiter leaves the line, gets the cancellation and
// holds nothing, and whoever it kept out gets in. Every task ends as the
// model says, they get in in the model's order (so FIFO among writers),
// never does a writer hold the lock with anyone else, and nobody waits
// whom the lock would let in (nothing stranded).
func TestPropRWLockModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		lkRun(rt, func(c *aio.Ctx) error {
			var rw locks.RWLock
			w := &lkWorld{c: c}
			type waiter struct {
				k     int
				write bool
			}
			readers, writer := 0, false // the model: locks held
			var line []waiter           // the model: waiting tasks, in order
			var order, wantOrder []int
			overlap := false // a task got in to find a writer with readers
			inLine := func(k int) bool {
				return slices.ContainsFunc(line, func(x waiter) bool { return x.k == k })
			}
			lets := func(write bool) bool { return !writer && (!write || readers == 0) }
			grant := func() {
				for len(line) > 0 && lets(line[0].write) {
					h := line[0]
					line = line[1:]
					if h.write {
						writer = true
					} else {
						readers++
					}
					w.want[h.k] = "got"
					wantOrder = append(wantOrder, h.k)
				}
			}
			lock := func(write, timeout bool) {
				k := w.spawn(func(c *aio.Ctx, tk *lkTask) {
					get := rw.RLock
					if write {
						get = rw.Lock
					}
					if timeout {
						tk.err = aio.WithTimeout(c, 0, get)
					} else {
						tk.err = get(c)
					}
					if tk.got = tk.err == nil; tk.got {
						order = append(order, tk.k)
						if rw.WriteLocked() && rw.Readers() > 0 {
							overlap = true
						}
					}
				})
				switch {
				case len(line) == 0 && lets(write):
					line = append(line, waiter{k, write})
					grant()
				case timeout:
					w.want[k] = "timeout"
				default:
					line = append(line, waiter{k, write})
				}
			}
			cancel := func(ks []int) {
				for _, k := range ks {
					w.cancel(k)
					w.want[k] = "canceled"
					line = slices.DeleteFunc(line, func(x waiter) bool { return x.k == k })
				}
			}
			lineKs := func() []int {
				var ks []int
				for _, x := range line {
					ks = append(ks, x.k)
				}
				return ks
			}
			rUnlock := func() {
				err := rw.RUnlock()
				if readers == 0 {
					if !errors.Is(err, locks.ErrNotLocked) {
						rt.Fatalf("RUnlock without readers = %v", err)
					}
					return
				}
				if err != nil {
					rt.Fatalf("RUnlock = %v", err)
				}
				readers--
			}
			unlock := func() {
				err := rw.Unlock()
				if !writer {
					if !errors.Is(err, locks.ErrNotLocked) {
						rt.Fatalf("Unlock without a writer = %v", err)
					}
					return
				}
				if err != nil {
					rt.Fatalf("Unlock = %v", err)
				}
				writer = false
			}
			// unlockAll gives back every lock held, waking the first in line.
			unlockAll := func() {
				if writer {
					unlock()
				}
				for readers > 0 {
					rUnlock()
				}
			}
			try := func(rt *rapid.T, write bool) {
				var got bool
				if write {
					got = rw.TryLock()
				} else {
					got = rw.TryRLock()
				}
				free := len(line) == 0 && lets(write)
				if got != free {
					rt.Fatalf("Try (write %v) = %v, the model says free %v", write, got, free)
				}
				if got && write {
					writer = true
				} else if got {
					readers++
				}
			}
			rt.Repeat(map[string]func(*rapid.T){
				"RLock":            func(rt *rapid.T) { lock(false, false); w.settle(rt) },
				"Lock":             func(rt *rapid.T) { lock(true, false); w.settle(rt) },
				"RLockZeroTimeout": func(rt *rapid.T) { lock(false, true); w.settle(rt) },
				"LockZeroTimeout":  func(rt *rapid.T) { lock(true, true); w.settle(rt) },
				"TryRLock":         func(rt *rapid.T) { try(rt, false) },
				"TryLock":          func(rt *rapid.T) { try(rt, true) },
				"RUnlock":          func(rt *rapid.T) { rUnlock(); grant(); w.settle(rt) },
				"Unlock":           func(rt *rapid.T) { unlock(); grant(); w.settle(rt) },
				"Cancel": func(rt *rapid.T) {
					if len(w.tasks) == 0 {
						rt.Skip("no task")
					}
					k := rapid.IntRange(0, len(w.tasks)-1).Draw(rt, "task")
					if inLine(k) {
						cancel([]int{k})
					} else {
						w.cancel(k) // ended, or will: nothing changes
					}
					grant()
					w.settle(rt)
				},
				"CancelSeveral": func(rt *rapid.T) {
					if len(line) == 0 {
						rt.Skip("nobody waits")
					}
					cancel(lkDrawSubset(rt, lineKs(), "cancel"))
					grant()
					w.settle(rt)
				},
				"UnlockThenCancelWoken": func(rt *rapid.T) {
					if len(line) == 0 || !writer && readers == 0 {
						rt.Skip("nobody to wake")
					}
					unlockAll()                                  // wakes the first in line ...
					cancel(lkDrawSubset(rt, lineKs(), "cancel")) // ... cancelled, with others, before it runs
					if rapid.Bool().Draw(rt, "try") {
						// A newcomer while the turn is on its way to a woken
						// waiter: it must not get in before those in line. (It
						// may be kept out while a cancelled waiter's turn has
						// not been passed on yet.)
						write := rapid.Bool().Draw(rt, "write")
						var got bool
						if write {
							got = rw.TryLock()
						} else {
							got = rw.TryRLock()
						}
						if got && (len(line) > 0 || !lets(write)) {
							rt.Fatalf("Try (write %v) got in ahead of %v", write, line)
						}
						if got && write {
							writer = true
						} else if got {
							readers++
						}
					}
					grant()
					w.settle(rt)
				},
				"": func(rt *rapid.T) {
					if rw.Readers() != readers || rw.WriteLocked() != writer {
						rt.Fatalf("Readers %d, WriteLocked %v; the model says %d, %v", rw.Readers(), rw.WriteLocked(), readers, writer)
					}
					if overlap || rw.WriteLocked() && rw.Readers() > 0 {
						rt.Fatalf("a writer held the lock with readers")
					}
					if writer && readers > 0 {
						rt.Fatalf("the model has a writer and %d readers", readers)
					}
					if len(line) > 0 && lets(line[0].write) {
						rt.Fatalf("the model strands %v", line)
					}
					w.check(rt, nil)
					if !slices.Equal(order, wantOrder) {
						rt.Fatalf("got in in order %v, the model says %v", order, wantOrder)
					}
				},
			})
			unlockAll()
			return w.finish(rt)
		})
	})
}
