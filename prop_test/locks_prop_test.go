package prop_test

// The machinery shared by the state machines of aio/locks
// (lock_prop_test.go, locks_sem_prop_test.go, locks_cond_prop_test.go,
// locks_barrier_prop_test.go, locks_rwlock_prop_test.go,
// locks_event_prop_test.go): each runs random actions on a
// primitive in the main task of a loop, tasks that wait on it, and random
// cancellations of those tasks (Task.Cancel, and aio.WithTimeout with a zero
// timeout), at random points, including between a wake and the woken
// task's resume; after each action it lets the loop run until the tasks are
// quiet and compares the primitive and every task with a model.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// An lkTask is a task of a locks state machine, and what became of it.
type lkTask struct {
	k   int // its number in lkWorld.tasks
	t   *aio.Task[int]
	end bool  // its body returned
	err error // the error of its wait
	got bool  // it acquired what it waited for
	idx int   // Barrier.Wait's index
}

// lkWorld is what every locks machine has: the loop's main task, the tasks
// it started, an event counter the tasks bump at every step they take (for
// lkSettle), and the outcome the model expects of each task ("" while it
// should still wait).
type lkWorld struct {
	c      *aio.Ctx
	tasks  []*lkTask
	events int
	want   []string
}

// spawn starts a task running body, which records in tk what happened;
// the world bumps its event counter when body returns.
func (w *lkWorld) spawn(body func(c *aio.Ctx, tk *lkTask)) int {
	k := len(w.tasks)
	tk := &lkTask{k: k}
	w.tasks = append(w.tasks, tk)
	w.want = append(w.want, "")
	tk.t, _ = aio.Spawn(w.c, func(c *aio.Ctx) (int, error) {
		body(c, tk)
		tk.end = true
		w.events++
		return 0, nil
	})
	return k
}

// settle lets the loop run until the tasks are quiet: it yields until the
// event counter has not moved for three Yields in a row (a wake makes the
// woken task run in the next iteration, so three quiet ones mean nothing is
// in flight).
func (w *lkWorld) settle(rt *rapid.T) {
	last, quiet := w.events, 0
	for n := 0; quiet < 3; n++ {
		if n > 10_000 {
			rt.Fatalf("the tasks never settle")
		}
		aio.Yield(w.c)
		if w.events != last {
			last, quiet = w.events, 0
		} else {
			quiet++
		}
	}
}

// cancel cancels task k now, without letting the loop run.
func (w *lkWorld) cancel(k int) { w.tasks[k].t.Cancel(nil) }

// drawSubset draws a non-empty subset of xs, in the order of xs.
func lkDrawSubset(rt *rapid.T, xs []int, label string) []int {
	if len(xs) == 0 {
		return nil
	}
	var out []int
	for len(out) == 0 {
		for i, x := range xs {
			if rapid.Bool().Draw(rt, fmt.Sprintf("%s %d", label, i)) {
				out = append(out, x)
			}
		}
	}
	return out
}

// check compares every task with the model's outcome for it: a task the
// model has still waiting must not have ended; one it has decided must have
// ended with that outcome: "got" (nil error, and it got what it waited
// for), "canceled" (context.Canceled and nothing got), "timeout"
// (aio.ErrTimeout and nothing got), "broken" (ErrBrokenBarrier, via
// isBroken) or "idx=N" (a Barrier index).
func (w *lkWorld) check(rt *rapid.T, isBroken func(error) bool) {
	for k, tk := range w.tasks {
		want := w.want[k]
		switch {
		case want == "" && tk.end:
			rt.Fatalf("task %d ended (err %v, got %v) while the model has it waiting", k, tk.err, tk.got)
		case want == "":
		case !tk.end:
			rt.Fatalf("task %d still waits; the model says %s", k, want)
		case want == "got" && (tk.err != nil || !tk.got):
			rt.Fatalf("task %d: err %v, got %v; the model says it got it", k, tk.err, tk.got)
		case want == "canceled" && (!errors.Is(tk.err, context.Canceled) || tk.got):
			rt.Fatalf("task %d: err %v, got %v; the model says canceled", k, tk.err, tk.got)
		case want == "timeout" && (!errors.Is(tk.err, aio.ErrTimeout) || tk.got):
			rt.Fatalf("task %d: err %v, got %v; the model says timed out", k, tk.err, tk.got)
		case want == "broken" && !isBroken(tk.err):
			rt.Fatalf("task %d: err %v; the model says broken barrier", k, tk.err)
		case len(want) > 4 && want[:4] == "idx=" && (tk.err != nil || fmt.Sprintf("idx=%d", tk.idx) != want):
			rt.Fatalf("task %d: index %d, err %v; the model says %s", k, tk.idx, tk.err, want)
		}
	}
}

// finish cancels every task still waiting, lets them end, and returns an
// error if one does not.
func (w *lkWorld) finish(rt *rapid.T) error {
	for _, tk := range w.tasks {
		if !tk.end {
			tk.t.Cancel(nil)
		}
	}
	w.settle(rt)
	for k, tk := range w.tasks {
		if !tk.end {
			return fmt.Errorf("task %d never ended", k)
		}
	}
	return nil
}

// lkRemove returns xs without x.
func lkRemove(xs []int, x int) []int {
	if i := slices.Index(xs, x); i >= 0 {
		return slices.Delete(xs, i, i+1)
	}
	return xs
}

// lkRun runs body as the main task of a new loop, failing rt on its error.
// A panic in body comes out of aio.Run as a *aio.PanicError. rapid's own
// panic for a draw past the end of its data (while it shrinks) or a Skip is
// thrown again, on the test's goroutine, once the loop is closed, so that
// rapid sees it for what it is; any other (a failed check, a panic of the
// code under test) fails rt from here. The two come from different lines:
// rapid's shrinker tells failures apart by where they were thrown.
func lkRun(rt *rapid.T, body func(c *aio.Ctx) error) {
	_, err := aio.Run(func(c *aio.Ctx) (int, error) { return 0, body(c) })
	if pe, ok := errors.AsType[*aio.PanicError](err); ok {
		if fmt.Sprintf("%T", pe.Value) == "rapid.invalidData" {
			panic(pe.Value)
		}
		rt.Logf("panic in the main task: %s", pe.Stack)
		rt.Fatal(pe.Value)
	}
	if err != nil {
		rt.Fatal(err)
	}
}
