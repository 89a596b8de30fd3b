package prop_test

import (
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
	"pgregory.net/rapid"
)

// TestPropEventModel runs random sequences of Wait (by tasks, plainly or
// under a zero aio.WithTimeout), Set, Clear and cancellations of waiting
// tasks on a locks.Event, including a Set followed at once by a Clear and
// cancellations of some of the tasks it woke, before they run, and a task
// that starts waiting just then, and checks after each step, once the tasks
// are quiet, that the Event matches a model: a flag and the set of waiting
// tasks. A Wait on a set Event returns nil at once; a Set wakes every task
// waiting at that moment, and each of them that is not cancelled before it
// runs returns nil even if a Clear follows before it runs (event.go: the Set
// happened while it waited); a cancelled waiter returns the cancellation and
// nothing else; a task that was not waiting at a Set is not woken by it (not
// even by a wake passed on from a cancelled waiter of that Set) and waits
// for the next; IsSet is the flag.
func TestPropEventModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		lkRun(rt, func(c *aio.Ctx) error {
			var e locks.Event
			w := &lkWorld{c: c}
			set := false   // the model: the flag
			var line []int // the model: waiting tasks, in order
			spawnWait := func(timeout bool) int {
				return w.spawn(func(c *aio.Ctx, tk *lkTask) {
					if timeout {
						tk.err = aio.WithTimeout(c, 0, e.Wait)
					} else {
						tk.err = e.Wait(c)
					}
					tk.got = tk.err == nil
				})
			}
			// arrive is the model of task k's Wait, when it runs.
			arrive := func(k int, timeout bool) {
				switch {
				case set:
					w.want[k] = "got"
				case timeout:
					w.want[k] = "timeout"
				default:
					line = append(line, k)
				}
			}
			doSet := func() {
				e.Set()
				if !set {
					set = true
					for _, k := range line {
						w.want[k] = "got"
					}
					line = nil
				}
			}
			cancel := func(ks []int) {
				for _, k := range ks {
					w.cancel(k)
					w.want[k] = "canceled"
					line = lkRemove(line, k)
				}
			}
			rt.Repeat(map[string]func(*rapid.T){
				"Wait": func(rt *rapid.T) {
					arrive(spawnWait(false), false)
					w.settle(rt)
				},
				"WaitZeroTimeout": func(rt *rapid.T) {
					arrive(spawnWait(true), true)
					w.settle(rt)
				},
				"Set":   func(rt *rapid.T) { doSet(); w.settle(rt) },
				"Clear": func(rt *rapid.T) { e.Clear(); set = false; w.settle(rt) },
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
					w.settle(rt)
				},
				// A Set that wakes the waiters, a Clear before they run, and
				// cancellations of some of them (their wakes are passed on);
				// a task spawned just before the Set starts waiting only
				// after it (its first step comes before the woken ones'),
				// and must wait for the next Set.
				"SetClearCancelWoken": func(rt *rapid.T) {
					if len(line) == 0 {
						rt.Skip("nobody waits")
					}
					late, hasLate := -1, rapid.Bool().Draw(rt, "late waiter")
					if hasLate {
						late = spawnWait(false)
					}
					woken := append([]int(nil), line...)
					doSet()
					clear := rapid.Bool().Draw(rt, "clear")
					if clear {
						e.Clear()
						set = false
					}
					if rapid.Bool().Draw(rt, "cancel some") {
						for _, k := range lkDrawSubset(rt, woken, "cancel") {
							w.cancel(k)
							w.want[k] = "canceled"
						}
					}
					if hasLate {
						arrive(late, false)
					}
					w.settle(rt)
				},
				"": func(rt *rapid.T) {
					if e.IsSet() != set {
						rt.Fatalf("IsSet %v, the model says %v", e.IsSet(), set)
					}
					w.check(rt, nil)
				},
			})
			return w.finish(rt)
		})
	})
}
