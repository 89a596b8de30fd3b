package prop_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
	"pgregory.net/rapid"
)

// TestPropLockModel runs random sequences of Acquire (by tasks, plainly or
// under a zero aio.WithTimeout), TryAcquire and Release (by the main task),
// and cancellations of waiting tasks, alone, right after a Release woke the
// first waiter and before it ran, or several at once, on a locks.Lock, and
// checks after each step, once the tasks are quiet, that the Lock matches a
// model: a holder and a FIFO line of waiters, where a Release hands the lock
// to the first waiter that is not cancelled, a cancelled waiter leaves the
// line and gets the cancellation, and a newcomer gets the lock at once only
// if it is free and nobody waits. Every task ends as the model says, the
// tasks acquire in the model's order, no cancelled task holds the lock, and
// acquisitions - releases == 1 if locked, 0 if not.
func TestPropLockModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		lkRun(rt, func(c *aio.Ctx) error {
			var l locks.Lock
			w := &lkWorld{c: c}
			const none, main = -2, -1
			holder := none // the model: who holds the lock
			var line []int // the model: waiting tasks, in order
			var order, wantOrder []int
			acquired, released := 0, 0 // the real thing's counts
			grant := func() {
				if holder == none && len(line) > 0 {
					holder, line = line[0], line[1:]
					w.want[holder] = "got"
					wantOrder = append(wantOrder, holder)
				}
			}
			acquire := func(timeout bool) {
				k := w.spawn(func(c *aio.Ctx, tk *lkTask) {
					if timeout {
						tk.err = aio.WithTimeout(c, 0, l.Acquire)
					} else {
						tk.err = l.Acquire(c)
					}
					if tk.got = tk.err == nil; tk.got {
						order = append(order, tk.k)
						acquired++
					}
				})
				switch {
				case holder == none && len(line) == 0:
					holder, w.want[k] = k, "got"
					wantOrder = append(wantOrder, k)
				case timeout:
					w.want[k] = "timeout"
				default:
					line = append(line, k)
				}
			}
			cancel := func(ks []int) {
				for _, k := range ks {
					w.cancel(k)
					w.want[k] = "canceled"
					line = lkRemove(line, k)
				}
			}
			release := func() {
				err := l.Release()
				if holder == none {
					if !errors.Is(err, locks.ErrNotLocked) {
						rt.Fatalf("Release of an unlocked Lock = %v", err)
					}
					return
				}
				if err != nil {
					rt.Fatalf("Release = %v", err)
				}
				released++
				holder = none
			}
			rt.Repeat(map[string]func(*rapid.T){
				"Acquire":            func(rt *rapid.T) { acquire(false); w.settle(rt) },
				"AcquireZeroTimeout": func(rt *rapid.T) { acquire(true); w.settle(rt) },
				"TryAcquire": func(rt *rapid.T) {
					free := holder == none && len(line) == 0
					if got := l.TryAcquire(); got != free {
						rt.Fatalf("TryAcquire = %v, the model says free %v", got, free)
					}
					if free {
						holder = main
						acquired++
					}
				},
				"Release": func(rt *rapid.T) {
					release()
					grant()
					w.settle(rt)
				},
				"Cancel": func(rt *rapid.T) {
					if len(w.tasks) == 0 {
						rt.Skip("no task")
					}
					k := rapid.IntRange(0, len(w.tasks)-1).Draw(rt, "task")
					if w.want[k] == "" {
						cancel([]int{k})
					} else {
						w.cancel(k) // ended, or will: nothing changes
					}
					grant()
					w.settle(rt)
				},
				"ReleaseThenCancelWoken": func(rt *rapid.T) {
					if holder == none || len(line) == 0 {
						rt.Skip("nobody to wake")
					}
					release()                                // wakes line[0] ...
					cancel(lkDrawSubset(rt, line, "cancel")) // ... cancelled, with others, before it runs
					grant()
					w.settle(rt)
				},
				"CancelThenRelease": func(rt *rapid.T) {
					if holder == none || len(line) == 0 {
						rt.Skip("nobody waits")
					}
					cancel(lkDrawSubset(rt, line, "cancel"))
					release()
					grant()
					w.settle(rt)
				},
				"": func(rt *rapid.T) {
					if l.Locked() != (holder != none) {
						rt.Fatalf("Locked %v, the model's holder %d", l.Locked(), holder)
					}
					w.check(rt, nil)
					if !slices.Equal(order, wantOrder) {
						rt.Fatalf("acquired in order %v, the model says %v", order, wantOrder)
					}
					locked := 0
					if l.Locked() {
						locked = 1
					}
					if acquired-released != locked {
						rt.Fatalf("%d acquisitions, %d releases, Locked %v", acquired, released, l.Locked())
					}
				},
			})
			if holder != none {
				l.Release()
			}
			return w.finish(rt)
		})
	})
}
