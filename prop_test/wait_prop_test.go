package prop_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// TestPropWaitQueueModel runs random sequences of Park, WakeOne, WakeAll and
// cancellations (of parked tasks, and of tasks a WakeOne picked before they
// resumed) on a WaitQueue, and checks after each step, once the loop has run
// what was ready, that the queue matches a model: a FIFO of parked tasks,
// where a wake goes to the first, a cancelled task leaves, and a wake whose
// task was cancelled before it ran passes to the next. No wake is lost and
// none is invented: every task ends exactly as the model says.
func TestPropWaitQueueModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		_, err := aio.Run(func(c *aio.Ctx) (int, error) {
			var q aio.WaitQueue
			type task struct {
				t   *aio.Task[int]
				err error
				end bool
			}
			var tasks []*task
			var model []int          // parked, in order
			want := map[int]string{} // the outcome the model expects: "woken" or "canceled"
			settle := func() {
				for range 3 {
					aio.Yield(c)
				}
			}
			rt.Repeat(map[string]func(*rapid.T){
				"Park": func(rt *rapid.T) {
					k := len(tasks)
					tk := &task{}
					tk.t, _ = aio.Spawn(c, func(c *aio.Ctx) (int, error) {
						tk.err = q.Park(c)
						tk.end = true
						return 0, nil
					})
					tasks = append(tasks, tk)
					model = append(model, k)
					settle()
				},
				"WakeOne": func(rt *rapid.T) {
					got := q.WakeOne()
					if got != (len(model) > 0) {
						rt.Fatalf("WakeOne = %v with %d parked", got, len(model))
					}
					if len(model) > 0 {
						want[model[0]] = "woken"
						model = model[1:]
					}
					settle()
				},
				"WakeAll": func(rt *rapid.T) {
					if n := q.WakeAll(); n != len(model) {
						rt.Fatalf("WakeAll = %d with %d parked", n, len(model))
					}
					for _, k := range model {
						want[k] = "woken"
					}
					model = nil
					settle()
				},
				"CancelParked": func(rt *rapid.T) {
					if len(model) == 0 {
						rt.Skip("nobody parked")
					}
					i := rapid.IntRange(0, len(model)-1).Draw(rt, "i")
					k := model[i]
					tasks[k].t.Cancel(nil)
					want[k] = "canceled"
					model = slices.Delete(model, i, i+1)
					settle()
				},
				"WakeOneThenCancelIt": func(rt *rapid.T) {
					if len(model) == 0 {
						rt.Skip("nobody parked")
					}
					q.WakeOne()
					k := model[0]
					tasks[k].t.Cancel(nil) // before it resumes
					want[k] = "canceled"
					model = model[1:]
					if len(model) > 0 { // the wake passes on
						want[model[0]] = "woken"
						model = model[1:]
					}
					settle()
				},
				"": func(rt *rapid.T) {
					if n := q.Len(); n != len(model) {
						rt.Fatalf("Len = %d, model has %d parked", n, len(model))
					}
					for k, tk := range tasks {
						w, decided := want[k]
						switch {
						case !decided && tk.end:
							rt.Fatalf("task %d ended (%v) while the model has it parked", k, tk.err)
						case decided && !tk.end:
							rt.Fatalf("task %d still parked; the model says %s", k, w)
						case w == "woken" && tk.err != nil:
							rt.Fatalf("task %d: Park = %v, the model says woken", k, tk.err)
						case w == "canceled" && !errors.Is(tk.err, context.Canceled):
							rt.Fatalf("task %d: Park = %v, the model says canceled", k, tk.err)
						}
					}
				},
			})
			q.WakeAll()
			settle()
			for k, tk := range tasks {
				if !tk.end {
					return 0, fmt.Errorf("task %d never ended", k)
				}
			}
			return 0, nil
		})
		if err != nil {
			rt.Fatal(err)
		}
	})
}
