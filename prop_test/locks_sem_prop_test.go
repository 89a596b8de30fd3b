package prop_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
	"pgregory.net/rapid"
)

// lkSem is what the Semaphore machine uses of Semaphore and
// BoundedSemaphore.
type lkSem interface {
	Acquire(c *aio.Ctx) error
	TryAcquire() bool
	Release() error
	Available() int
}

// TestPropSemaphoreModel runs random sequences of Acquire (by tasks, plainly
// or under a zero aio.WithTimeout), TryAcquire and Release (by the main
// task, one or several at once), and cancellations of waiting tasks, alone,
// right after Releases woke the first waiters and before they ran, or
// several at once, on a locks.Semaphore or a locks.BoundedSemaphore of 0 to
// 3 permits, and checks after each step, once the tasks are quiet, that it
// matches a model: a count of available permits and a FIFO line of waiters,
// where a Release adds a permit and hands it to the first waiter that is not
// cancelled, a cancelled waiter leaves the line and gets the cancellation,
// and a newcomer gets a permit at once only if one is available and nobody
// waits. A BoundedSemaphore's Release with every permit back returns
// ErrReleasedTooOften and changes nothing. Every task ends as the model
// says, the tasks get permits in the model's order (FIFO), no cancelled task
// holds one, nobody waits while a permit is available, and no permit is
// lost or made up: Available() == initial + releases - acquisitions.
func TestPropSemaphoreModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		initial := rapid.IntRange(0, 3).Draw(rt, "permits")
		bounded := rapid.Bool().Draw(rt, "bounded")
		lkRun(rt, func(c *aio.Ctx) error {
			var s lkSem
			if bounded {
				b, err := locks.NewBoundedSemaphore(initial)
				if err != nil {
					return err
				}
				s = b
			} else {
				p, err := locks.NewSemaphore(initial)
				if err != nil {
					return err
				}
				s = p
			}
			w := &lkWorld{c: c}
			avail := initial // the model: permits not held (nor handed to a waiter)
			var line []int   // the model: waiting tasks, in order
			var order, wantOrder []int
			acquired, released := 0, 0 // the real thing's counts
			grant := func() {
				for avail > 0 && len(line) > 0 {
					k := line[0]
					line = line[1:]
					avail--
					w.want[k] = "got"
					wantOrder = append(wantOrder, k)
				}
			}
			acquire := func(timeout bool) {
				k := w.spawn(func(c *aio.Ctx, tk *lkTask) {
					if timeout {
						tk.err = aio.WithTimeout(c, 0, s.Acquire)
					} else {
						tk.err = s.Acquire(c)
					}
					if tk.got = tk.err == nil; tk.got {
						order = append(order, tk.k)
						acquired++
					}
				})
				switch {
				case avail > 0 && len(line) == 0:
					avail--
					w.want[k] = "got"
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
			// release is one Release; it does not hand the permit on (the
			// model's grant does, when the step's cancellations are done).
			release := func() {
				err := s.Release()
				if bounded && avail >= initial {
					if !errors.Is(err, locks.ErrReleasedTooOften) {
						rt.Fatalf("Release with every permit back = %v", err)
					}
					return
				}
				if err != nil {
					rt.Fatalf("Release = %v", err)
				}
				released++
				avail++
			}
			releases := func(rt *rapid.T) {
				for range rapid.IntRange(1, 3).Draw(rt, "releases") {
					release()
				}
			}
			rt.Repeat(map[string]func(*rapid.T){
				"Acquire":            func(rt *rapid.T) { acquire(false); w.settle(rt) },
				"AcquireZeroTimeout": func(rt *rapid.T) { acquire(true); w.settle(rt) },
				"TryAcquire": func(rt *rapid.T) {
					free := avail > 0 && len(line) == 0
					if got := s.TryAcquire(); got != free {
						rt.Fatalf("TryAcquire = %v, the model says free %v", got, free)
					}
					if free {
						avail--
						acquired++
					}
				},
				"Release": func(rt *rapid.T) {
					releases(rt)
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
					if len(line) == 0 {
						rt.Skip("nobody to wake")
					}
					releases(rt)                             // wakes the first waiters ...
					cancel(lkDrawSubset(rt, line, "cancel")) // ... cancelled, with others, before they run
					if rapid.Bool().Draw(rt, "try") {
						// A newcomer while permits are on their way to woken
						// waiters: it must not take theirs. (It may find none
						// free while a cancelled waiter's wake has not been
						// passed on yet: that permit is free once it runs.)
						free := avail > len(line)
						got := s.TryAcquire()
						if got && !free {
							rt.Fatalf("TryAcquire with wakes in flight took a permit promised to a waiter")
						}
						if got {
							avail--
							acquired++
						}
					}
					grant()
					w.settle(rt)
				},
				"CancelThenRelease": func(rt *rapid.T) {
					if len(line) == 0 {
						rt.Skip("nobody waits")
					}
					cancel(lkDrawSubset(rt, line, "cancel"))
					releases(rt)
					grant()
					w.settle(rt)
				},
				"": func(rt *rapid.T) {
					if s.Available() != avail {
						rt.Fatalf("Available %d, the model says %d", s.Available(), avail)
					}
					if avail > 0 && len(line) > 0 {
						rt.Fatalf("the model has %d permits and waiters %v", avail, line)
					}
					w.check(rt, nil)
					if !slices.Equal(order, wantOrder) {
						rt.Fatalf("acquired in order %v, the model says %v", order, wantOrder)
					}
					if s.Available() != initial+released-acquired {
						rt.Fatalf("Available %d, with %d permits, %d releases, %d acquisitions", s.Available(), initial, released, acquired)
					}
				},
			})
			return w.finish(rt)
		})
	})
}
