package prop_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// TestPropTaskSetModel runs random sequences of TaskSet operations (Spawn
// of tasks that sleep for distinct times, JoinNext, CancelAll, a Cancel of
// one task, the passing of time) on a virtual clock and checks the set
// against a model after each: a list of running tasks with their deadlines
// and a FIFO of done, unjoined ones. JoinNext returns tasks in completion
// order (deadline order, a cancelled task when it has taken its
// cancellation), each once, with its own outcome; Len counts running and
// unjoined; Close leaves nothing running.
func TestPropTaskSetModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		l, err := aio.NewLoop()
		if err != nil {
			rt.Fatal(err)
		}
		defer l.Close()
		if err := l.SetVirtualClock(); err != nil {
			rt.Fatal(err)
		}
		ms := time.Millisecond

		type mtask struct {
			id       int
			deadline int // ms on the virtual clock
			task     *aio.Task[int]
			canceled bool
		}
		now := 0
		var running []*mtask // in spawn order
		var done []*mtask    // completion order, not joined
		all := map[*aio.Task[int]]*mtask{}
		taken := map[int]bool{}
		// complete moves the running tasks due by t to done, in deadline
		// order.
		complete := func(t int) {
			slices.SortStableFunc(running, func(a, b *mtask) int { return a.deadline - b.deadline })
			for len(running) > 0 && running[0].deadline <= t {
				done = append(done, running[0])
				running = running[1:]
			}
			slices.SortStableFunc(running, func(a, b *mtask) int { return a.id - b.id })
		}
		cancel := func(m *mtask) {
			i := slices.Index(running, m)
			running = slices.Delete(running, i, i+1)
			m.canceled = true
			done = append(done, m)
		}

		driver, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			set, err := aio.NewTaskSet[int](c)
			if err != nil {
				return 0, err
			}
			settle := func() {
				for range 3 {
					aio.Yield(c)
				}
			}
			check := func(rt *rapid.T) {
				if set.Len() != len(running)+len(done) {
					rt.Fatalf("Len = %d, the model has %d running and %d done", set.Len(), len(running), len(done))
				}
			}
			rt.Repeat(map[string]func(*rapid.T){
				"Spawn": func(rt *rapid.T) {
					d := rapid.IntRange(1, 50).Draw(rt, "ms")
					for taken[now+d] {
						d++
					}
					taken[now+d] = true
					m := &mtask{id: len(all), deadline: now + d}
					task, err := set.Spawn(func(c *aio.Ctx) (int, error) {
						return m.id, aio.Sleep(c, time.Duration(d)*ms)
					})
					if err != nil {
						rt.Fatal(err)
					}
					m.task, all[task] = task, m
					running = append(running, m)
					settle()
					check(rt)
				},
				"Advance": func(rt *rapid.T) {
					d := rapid.IntRange(1, 30).Draw(rt, "ms")
					if err := aio.Sleep(c, time.Duration(d)*ms); err != nil {
						rt.Fatal(err)
					}
					now += d
					complete(now)
					settle()
					check(rt)
				},
				"JoinNext": func(rt *rapid.T) {
					if len(done) == 0 && len(running) > 0 {
						next := slices.MinFunc(running, func(a, b *mtask) int { return a.deadline - b.deadline })
						now = next.deadline
						complete(now)
					}
					task, err := set.JoinNext(c)
					if err != nil {
						rt.Fatal(err)
					}
					if len(done) == 0 {
						if task != nil {
							rt.Fatalf("JoinNext of an empty set = %v", task)
						}
						return
					}
					want := done[0]
					done = done[1:]
					if task != want.task {
						rt.Fatalf("JoinNext = task %d, the model says %d", all[task].id, want.id)
					}
					v, err := task.Result()
					if want.canceled != task.Canceled() || (!want.canceled && (v != want.id || err != nil)) {
						rt.Fatalf("task %d ended %d, %v (cancelled %v), the model says cancelled %v", want.id, v, err, task.Canceled(), want.canceled)
					}
					check(rt)
				},
				"CancelOne": func(rt *rapid.T) {
					if len(running) == 0 {
						rt.Skip("nothing running")
					}
					m := rapid.SampledFrom(running).Draw(rt, "task")
					m.task.Cancel(nil)
					cancel(m)
					settle()
					check(rt)
				},
				"CancelAll": func(rt *rapid.T) {
					set.CancelAll(errors.New("all"))
					for len(running) > 0 {
						cancel(running[0])
					}
					settle()
					check(rt)
				},
			})
			if err := set.Close(c); err != nil {
				return 0, err
			}
			if set.Len() != 0 {
				rt.Fatalf("Len after Close = %d", set.Len())
			}
			for task := range all {
				if !task.IsDone() {
					rt.Fatalf("task %d still running after Close", all[task].id)
				}
			}
			return 0, nil
		})
		vcRunUntil(rt, l, driver.IsDone)
		if _, err := driver.Result(); err != nil {
			rt.Fatal(err)
		}
	})
}
