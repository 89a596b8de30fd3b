package prop_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
	"pgregory.net/rapid"
)

// cvTask is the Condition model's view of a task: where it waits and what
// it carries through its Wait.
type cvTask struct {
	waitFor  bool // WaitFor(counter >= target), not Wait
	target   int
	phase    string // "start", "cv" (in the wait for a notification), "lock" (re-acquiring), "done"
	notified bool   // its wait for a notification ended by one
	canceled bool   // its Wait returns the cancellation
	pending  bool   // a cancellation not delivered yet
}

// cvModel is a model of a Condition over its own Lock and of the tasks
// that wait on it: FIFO queues of the tasks waiting for a notification and
// for the lock, the tasks a wake picked that have not run yet (in the
// order they run), and the rules that Condition and Lock document: a
// notification or a lock handed to a task that is cancelled before it runs
// passes to the next waiter; a Wait re-acquires the lock, in turn, even when
// cancelled, and a notified Wait cancelled then passes its notification on.
type cvModel struct {
	w        *lkWorld
	tasks    []*cvTask
	counter  int
	locked   bool
	lockQ    []int // waiting for the lock
	lockWake int   // picked for the lock, not run yet; -1 if none
	cvQ      []int // waiting for a notification
	cvPicked map[int]bool
	ready    []int
	order    []int // the order in which Waits return
}

func (m *cvModel) wake(k int) {
	if !slices.Contains(m.ready, k) {
		m.ready = append(m.ready, k)
	}
}

// notifyOne picks the first waiter for a notification.
func (m *cvModel) notifyOne() bool {
	if len(m.cvQ) == 0 {
		return false
	}
	k := m.cvQ[0]
	m.cvQ = m.cvQ[1:]
	m.cvPicked[k] = true
	m.wake(k)
	return true
}

// release unlocks the lock and hands it to the first waiter, unless a wake
// for it is in flight already.
func (m *cvModel) release() {
	m.locked = false
	if m.lockWake < 0 && len(m.lockQ) > 0 {
		m.lockWake, m.lockQ = m.lockQ[0], m.lockQ[1:]
		m.wake(m.lockWake)
	}
}

func (m *cvModel) cancel(k int) {
	t := m.tasks[k]
	if t.phase == "done" {
		return
	}
	t.pending = true
	m.cvQ = lkRemove(m.cvQ, k)
	m.lockQ = lkRemove(m.lockQ, k)
	m.wake(k)
}

// acquire is task k's Lock.Acquire inside Wait (or at its start).
func (m *cvModel) acquire(k int) {
	t := m.tasks[k]
	if !m.locked && len(m.lockQ) == 0 && m.lockWake < 0 {
		m.locked = true
		m.holds(k)
		return
	}
	if t.pending { // Park delivers it at once; Wait goes on re-acquiring
		t.pending, t.canceled = false, true
	}
	t.phase = "lock"
	m.lockQ = append(m.lockQ, k)
}

// holds is what task k does once it holds the lock.
func (m *cvModel) holds(k int) {
	t := m.tasks[k]
	if t.phase != "start" { // a Wait returns
		if t.canceled && t.notified {
			m.notifyOne() // a notification it will not act on
		}
		if t.canceled || !t.waitFor {
			m.end(k)
			return
		}
	}
	if t.waitFor && m.counter >= t.target {
		m.end(k) // WaitFor returns, without a Wait or after one
		return
	}
	// A Wait: it releases the lock and waits for a notification.
	m.release()
	t.phase, t.notified = "cv", false
	m.cvQ = append(m.cvQ, k)
}

func (m *cvModel) end(k int) {
	t := m.tasks[k]
	t.phase = "done"
	m.order = append(m.order, k)
	if t.canceled {
		m.w.want[k] = "canceled"
	} else {
		m.w.want[k] = "got"
	}
	m.release()
}

// run resumes the tasks that are ready, and those they wake, until none is.
func (m *cvModel) run() {
	for len(m.ready) > 0 {
		k := m.ready[0]
		m.ready = m.ready[1:]
		t := m.tasks[k]
		switch t.phase {
		case "start":
			if t.pending { // cancelled before it ran: the body never runs
				t.phase = "done"
				m.w.want[k] = "canceled"
				continue
			}
			m.acquire(k)
		case "cv":
			picked := m.cvPicked[k]
			delete(m.cvPicked, k)
			if t.pending {
				t.pending, t.canceled = false, true
				if picked {
					m.notifyOne() // the notification passes on
				}
			} else {
				t.notified = true
			}
			m.acquire(k)
		case "lock":
			picked := m.lockWake == k
			if picked {
				m.lockWake = -1
			}
			if t.pending {
				t.pending, t.canceled = false, true
				if picked && len(m.lockQ) > 0 { // the lock passes on
					m.lockWake, m.lockQ = m.lockQ[0], m.lockQ[1:]
					m.wake(m.lockWake)
				}
				m.acquire(k)
				continue
			}
			m.locked = true
			m.holds(k)
		}
	}
}

// TestPropConditionModel runs random sequences of Wait and WaitFor (by
// tasks; WaitFor's predicate is a model counter reaching a target), Notify(n)
// and NotifyAll (by the main task holding the lock, which it may keep while
// the woken tasks run, so that they wait to re-acquire it), changes of the
// counter, and cancellations of tasks: waiting for a notification, picked
// by one and not yet run, waiting to re-acquire the lock, or several of
// these at once, on a locks.Condition, and checks after each step, once the
// tasks are quiet, that every task and the order in which their Waits return
// match a model (cvModel) of FIFO queues for notifications and for the lock:
// Notify wakes the longest waiting first; a notification picked by a task
// that is cancelled before it acts on it passes to the next waiter, never
// lost; a cancelled Wait returns the cancellation with the lock held (the
// task then releases it); WaitFor returns once its predicate holds, waiting
// again otherwise. The lock is never held by two (the tasks and the main
// task check it as they take and leave it), and Locked agrees with the
// model.
func TestPropConditionModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		lkRun(rt, func(c *aio.Ctx) error {
			var cv locks.Condition
			w := &lkWorld{c: c}
			m := &cvModel{w: w, lockWake: -1, cvPicked: map[int]bool{}}
			const none, main = -2, -1
			holder := none // who holds the lock, as the tasks say
			var violation string
			var order []int // the order in which Waits return
			counter := 0
			take := func(who int) {
				switch {
				case holder != none:
					violation = fmt.Sprintf("%d takes the lock held by %d", who, holder)
				case !cv.Locked():
					violation = fmt.Sprintf("%d holds the lock, which is not locked", who)
				}
				holder = who
			}
			leave := func() { holder = none }
			spawnWait := func(waitFor bool, target int) {
				m.tasks = append(m.tasks, &cvTask{waitFor: waitFor, target: target, phase: "start"})
				k := w.spawn(func(c *aio.Ctx, tk *lkTask) {
					if tk.err = cv.Acquire(c); tk.err != nil {
						violation = fmt.Sprintf("task %d: Acquire = %v", tk.k, tk.err)
						return
					}
					w.events++
					take(tk.k)
					leave() // Wait releases it, and WaitFor's pred takes it
					if waitFor {
						tk.err = cv.WaitFor(c, func() bool {
							w.events++
							take(tk.k)
							leave()
							return counter >= target
						})
					} else {
						tk.err = cv.Wait(c)
					}
					if errors.Is(tk.err, aio.ErrClosed) {
						return // the loop unwinds the task after a failure: no lock
					}
					w.events++
					take(tk.k) // with the lock held, also when cancelled
					tk.got = tk.err == nil
					order = append(order, tk.k)
					leave()
					if err := cv.Release(); err != nil {
						violation = fmt.Sprintf("task %d: Release after Wait = %v", tk.k, err)
					}
				})
				m.wake(k)
			}
			settle := func(rt *rapid.T) { m.run(); w.settle(rt) }
			defer func() {
				// After a failure, the main task may hold the lock: the tasks
				// that re-acquire it would wait for ever (a cancelled Wait
				// re-acquires the lock) and hold up the loop's shutdown.
				if holder == main {
					cv.Release()
				}
			}()
			cancelSome := func(rt *rapid.T, label string) {
				var live []int
				for k, t := range m.tasks {
					if t.phase != "done" {
						live = append(live, k)
					}
				}
				if len(live) == 0 || !rapid.Bool().Draw(rt, label) {
					return
				}
				for _, k := range lkDrawSubset(rt, live, label) {
					w.cancel(k)
					m.cancel(k)
				}
			}
			rt.Repeat(map[string]func(*rapid.T){
				"Wait": func(rt *rapid.T) { spawnWait(false, 0); settle(rt) },
				"WaitFor": func(rt *rapid.T) {
					spawnWait(true, counter+rapid.IntRange(0, 2).Draw(rt, "ahead"))
					settle(rt)
				},
				"Bump": func(rt *rapid.T) { counter++; m.counter++ },
				"Notify": func(rt *rapid.T) {
					if err := cv.Acquire(c); err != nil { // free: nobody holds it between steps
						rt.Fatalf("Acquire = %v", err)
					}
					take(main)
					m.locked = true
					if rapid.Bool().Draw(rt, "bump") {
						counter++
						m.counter++
					}
					if rapid.Bool().Draw(rt, "all") {
						if err := cv.NotifyAll(); err != nil {
							rt.Fatalf("NotifyAll = %v", err)
						}
						for m.notifyOne() {
						}
					} else {
						n := rapid.IntRange(0, 3).Draw(rt, "n")
						if err := cv.Notify(n); err != nil {
							rt.Fatalf("Notify = %v", err)
						}
						for i := 0; i < n && m.notifyOne(); i++ {
						}
					}
					cancelSome(rt, "cancel before they run")
					if rapid.Bool().Draw(rt, "hold") {
						settle(rt) // the woken wait for the lock
						cancelSome(rt, "cancel while they re-acquire")
					}
					leave()
					if err := cv.Release(); err != nil {
						rt.Fatalf("Release = %v", err)
					}
					m.release()
					cancelSome(rt, "cancel after the release")
					settle(rt)
				},
				"NotifyUnlocked": func(rt *rapid.T) {
					if err := cv.Notify(1); !errors.Is(err, locks.ErrNotLocked) {
						rt.Fatalf("Notify without the lock = %v", err)
					}
					if err := cv.NotifyAll(); !errors.Is(err, locks.ErrNotLocked) {
						rt.Fatalf("NotifyAll without the lock = %v", err)
					}
				},
				"Cancel": func(rt *rapid.T) {
					if len(w.tasks) == 0 {
						rt.Skip("no task")
					}
					k := rapid.IntRange(0, len(w.tasks)-1).Draw(rt, "task")
					w.cancel(k)
					m.cancel(k)
					settle(rt)
				},
				"": func(rt *rapid.T) {
					if violation != "" {
						rt.Fatal(violation)
					}
					if cv.Locked() != m.locked || holder != none {
						rt.Fatalf("Locked %v, holder %d; the model says locked %v", cv.Locked(), holder, m.locked)
					}
					w.check(rt, nil)
					if !slices.Equal(order, m.order) {
						rt.Fatalf("Waits returned in order %v, the model says %v", order, m.order)
					}
				},
			})
			return w.finish(rt)
		})
	})
}
