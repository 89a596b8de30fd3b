package aio_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// TestPropWaitAndAsCompletedOrder runs Wait (each mode, with and without a
// timeout) and AsCompleted over tasks that sleep for distinct times and
// then succeed or fail, on a virtual clock, with the waiting task possibly
// cancelled at a random time, and checks them against a model of the
// deadlines: Wait's done set is the tasks due by the moment its mode is
// satisfied (or its timeout passes), in argument order, and nothing is
// cancelled; AsCompleted yields the tasks in the order of their times until
// the cancellation, which is its last step; no waiter is left on any task.
func TestPropWaitAndAsCompletedOrder(t *testing.T) {
	leakCheck(t)
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 6).Draw(rt, "tasks")
		times := rapid.SliceOfNDistinct(rapid.IntRange(1, 40), n+2, n+2, rapid.ID[int]).Draw(rt, "times")
		fails := rapid.SliceOfN(rapid.Bool(), n, n).Draw(rt, "fails")
		mode := aio.WaitMode(rapid.IntRange(0, 2).Draw(rt, "mode"))
		timeout := -1
		if rapid.Bool().Draw(rt, "timeout") {
			timeout = times[n]
		}
		cancelAt := math.MaxInt
		if rapid.Bool().Draw(rt, "cancel") {
			cancelAt = times[n+1]
		}
		asCompleted := rapid.Bool().Draw(rt, "AsCompleted")

		// The model.
		stop := 0 // when Wait returns
		switch mode {
		case aio.AllCompleted:
			for i := range n {
				stop = max(stop, times[i])
			}
		case aio.FirstCompleted:
			stop = math.MaxInt
			for i := range n {
				stop = min(stop, times[i])
			}
		case aio.FirstError:
			stop = math.MaxInt
			for i := range n {
				if fails[i] {
					stop = min(stop, times[i])
				}
			}
			if stop == math.MaxInt { // no failure: all of them
				stop = 0
				for i := range n {
					stop = max(stop, times[i])
				}
			}
		}
		if n == 0 {
			stop = 0
		}
		if timeout >= 0 {
			stop = min(stop, timeout)
		}
		order := make([]int, n) // AsCompleted's
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return times[a] - times[b] })

		l, err := aio.NewLoop()
		if err != nil {
			rt.Fatal(err)
		}
		defer l.Close()
		if err := l.SetVirtualClock(); err != nil {
			rt.Fatal(err)
		}
		ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
		var tasks []*aio.Task[int]
		var done, pending []*aio.Task[int]
		var waitErr error
		var yielded []int
		var yieldErrs []error
		boom := errors.New("boom")
		waiter, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			for i := range n {
				task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
					if err := aio.Sleep(c, ms(times[i])); err != nil {
						return 0, err
					}
					if fails[i] {
						return i, boom
					}
					return i, nil
				})
				tasks = append(tasks, task)
			}
			if asCompleted {
				for v, err := range aio.AsCompleted(c, tasks...) {
					yielded = append(yielded, v)
					yieldErrs = append(yieldErrs, err)
				}
				return 0, nil
			}
			d := time.Duration(-1)
			if timeout >= 0 {
				d = ms(timeout)
			}
			done, pending, waitErr = aio.Wait(c, tasks, mode, d)
			return 0, nil
		})
		if cancelAt != math.MaxInt {
			l.CallLater(ms(cancelAt), func() { waiter.Cancel(nil) })
		}
		all := func() bool {
			for _, t := range tasks {
				if !t.IsDone() {
					return false
				}
			}
			return waiter.IsDone()
		}
		runUntil(t, l, all)
		for _, task := range tasks {
			task.Result() // retrieved: Wait leaves the outcomes to the caller
			if task.Canceled() {
				rt.Errorf("%v was cancelled", task)
			}
			if w := task.WaitersForTest(); w != 0 {
				rt.Errorf("%d waiters left on %v", w, task)
			}
		}

		if asCompleted {
			want := order
			cancelled := false
			if k := slices.IndexFunc(order, func(i int) bool { return times[i] > cancelAt }); k >= 0 {
				want, cancelled = order[:k], true
			}
			if cancelled {
				want = append(slices.Clone(want), 0) // the cancellation's step
			}
			if !slices.Equal(yielded, want) {
				rt.Fatalf("AsCompleted yielded %v, the model says %v", yielded, want)
			}
			for k, err := range yieldErrs {
				last := cancelled && k == len(yieldErrs)-1
				switch {
				case last && !canceledOnly(err):
					rt.Errorf("the last step of a cancelled AsCompleted: %v", err)
				case !last && (err != nil) != fails[yielded[k]]:
					rt.Errorf("step %d: %v, the model says failed %v", k, err, fails[yielded[k]])
				}
			}
			return
		}
		if cancelAt < stop {
			if !canceledOnly(waitErr) || done != nil || pending != nil {
				rt.Fatalf("Wait (mode %d, times %v, fails %v, timeout %d) cancelled at %d = %v, %v, %v; want the cancellation", mode, times, fails, timeout, cancelAt, done, pending, waitErr)
			}
			return
		}
		var wantDone, wantPending []*aio.Task[int]
		for i, task := range tasks {
			if times[i] <= stop {
				wantDone = append(wantDone, task)
			} else {
				wantPending = append(wantPending, task)
			}
		}
		if waitErr != nil || !slices.Equal(done, wantDone) || !slices.Equal(pending, wantPending) {
			rt.Fatalf("Wait (stop at %d) = done %v, pending %v, %v; the model says %v, %v", stop, done, pending, waitErr, wantDone, wantPending)
		}
	})
}

// canceledOnly reports whether err is a cancellation, and not a timeout or
// a group's failure.
func canceledOnly(err error) bool {
	var te *aio.TaskError
	return !errors.As(err, &te) && errors.Is(err, context.Canceled) && !errors.Is(err, aio.ErrTimeout)
}
