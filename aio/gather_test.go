package aio_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// afterYields returns a body that yields n times and then returns v, err.
func afterYields(n int, v int, err error, log *[]string, name string) func(*aio.Ctx) (int, error) {
	return func(c *aio.Ctx) (int, error) {
		for range n {
			if err := aio.Yield(c); err != nil {
				return 0, err
			}
		}
		if log != nil {
			*log = append(*log, name)
		}
		return v, err
	}
}

// Gather returns the results in the order of its arguments, tasks and
// futures alike, whatever the order in which they finish.
func TestGatherOrder(t *testing.T) {
	l := newLoop(t)
	var log []string
	var results []int
	var gerr error
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		var aws []aio.Awaitable[int]
		for i := range 5 {
			// The later the argument, the sooner it finishes.
			task, err := aio.Spawn(l, afterYields(5-i, i*10, nil, &log, fmt.Sprint(i)))
			if err != nil {
				return 0, err
			}
			aws = append(aws, task)
		}
		f := aio.NewFuture[int](l)
		l.CallSoon(func() { f.SetResult(99) })
		aws = append(aws, f)
		results, gerr = aio.Gather(c, aws...)
		return 0, nil
	})
	if gerr != nil {
		t.Fatalf("Gather: %v", gerr)
	}
	if fmt.Sprint(results) != "[0 10 20 30 40 99]" {
		t.Fatalf("results %v, want argument order", results)
	}
	if s := strings.Join(log, ","); s != "4,3,2,1,0" {
		t.Fatalf("completion order %s", s)
	}
}

// Gather returns the error of the first awaitable to fail in time, not in
// argument order, as soon as it fails: the awaitables still running are left
// running, and the results of those already done are in place.
func TestGatherFirstErrorInTime(t *testing.T) {
	l := newLoop(t)
	errLate := errors.New("late error")
	errEarly := errors.New("early error")
	var results []int
	var gerr error
	var slow, late, fast *aio.Task[int]
	var doneAtReturn []bool
	main := runTask(t, l, func(c *aio.Ctx) (int, error) {
		slow, _ = aio.Spawn(l, afterYields(10, 1, nil, nil, ""))
		late, _ = aio.Spawn(l, afterYields(6, 0, errLate, nil, ""))
		fast, _ = aio.Spawn(l, afterYields(1, 3, nil, nil, ""))
		early, _ := aio.Spawn(l, afterYields(3, 0, errEarly, nil, ""))
		results, gerr = aio.Gather[aio.Awaitable[int]](c, slow, late, fast, early)
		doneAtReturn = []bool{slow.IsDone(), late.IsDone(), fast.IsDone(), early.IsDone()}
		// The others keep running: wait for them without Gather.
		for _, task := range []*aio.Task[int]{slow, late} {
			aio.Await(c, task)
		}
		return 0, nil
	})
	if main.Err() != nil {
		t.Fatal(main.Err())
	}
	if gerr != errEarly {
		t.Fatalf("Gather error %v, want the first in time (%v)", gerr, errEarly)
	}
	if fmt.Sprint(doneAtReturn) != "[false false true true]" {
		t.Fatalf("done when Gather returned: %v", doneAtReturn)
	}
	if len(results) != 4 || results[2] != 3 {
		t.Fatalf("results as they stand: %v, want the result of the finished one", results)
	}
	if v, err := slow.Result(); v != 1 || err != nil {
		t.Fatalf("slow was not left running: %d, %v", v, err)
	}
	if late.Err() != errLate || late.Canceled() {
		t.Fatalf("late: %v", late.Err())
	}
}

// GatherAll waits for every awaitable, whatever fails, and returns each
// one's result and error in order: an error, a result, a cancellation with
// its cause, and a panic as a *PanicError.
func TestGatherAll(t *testing.T) {
	l := newLoop(t)
	boom := errors.New("boom")
	var results []int
	var errs []error
	var gerr error
	var allDone bool
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		a, _ := aio.Spawn(l, afterYields(1, 0, boom, nil, ""))
		b, _ := aio.Spawn(l, afterYields(4, 2, nil, nil, ""))
		cf := aio.NewFuture[int](l)
		l.CallSoon(func() { cf.Cancel(aio.ErrInterrupted) })
		d, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { panic("pp") })
		results, errs, gerr = aio.GatherAll[aio.Awaitable[int]](c, a, b, cf, d)
		allDone = a.IsDone() && b.IsDone() && cf.IsDone() && d.IsDone()
		return 0, nil
	})
	if gerr != nil {
		t.Fatalf("GatherAll: %v", gerr)
	}
	if !allDone {
		t.Fatal("GatherAll returned before every awaitable was done")
	}
	if fmt.Sprint(results) != "[0 2 0 0]" {
		t.Fatalf("results %v", results)
	}
	var pe *aio.PanicError
	if errs[0] != boom || errs[1] != nil || aio.Cause(errs[2]) != aio.ErrInterrupted || !errors.As(errs[3], &pe) {
		t.Fatalf("errs %v", errs)
	}
}

// Gather of nothing returns at once with no results; Gather and GatherAll of
// futures already done return their outcomes (the first error for Gather)
// without suspending the calling task.
func TestGatherNothingAndDone(t *testing.T) {
	l := newLoop(t)
	boom := errors.New("boom")
	var order []string
	var r0, r1, r2 []int
	var e0, e1, e2 error
	var errsAll []error
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		r0, e0 = aio.Gather[aio.Awaitable[int]](c)
		ok := aio.NewFuture[int](l)
		ok.SetResult(1)
		bad := aio.NewFuture[int](l)
		bad.SetError(boom)
		l.CallSoon(func() { order = append(order, "callback") })
		r1, e1 = aio.Gather[aio.Awaitable[int]](c, ok, ok)
		r2, e2 = aio.Gather[aio.Awaitable[int]](c, ok, bad)
		_, errsAll, _ = aio.GatherAll[aio.Awaitable[int]](c, bad, ok)
		order = append(order, "gathered")
		aio.Yield(c)
		return 0, nil
	})
	if len(r0) != 0 || e0 != nil {
		t.Fatalf("Gather of nothing: %v, %v", r0, e0)
	}
	if fmt.Sprint(r1) != "[1 1]" || e1 != nil {
		t.Fatalf("Gather of a done future twice: %v, %v", r1, e1)
	}
	if e2 != boom || len(r2) != 2 || r2[0] != 1 {
		t.Fatalf("Gather with a failed future: %v, %v", r2, e2)
	}
	if errsAll[0] != boom || errsAll[1] != nil {
		t.Fatalf("GatherAll errs %v", errsAll)
	}
	if s := strings.Join(order, ","); s != "gathered,callback" {
		t.Fatalf("Gather of done futures suspended: %s", s)
	}
}

// Cancelling the task in Gather or GatherAll makes the call return the
// cancellation with its cause, leaves the gathered futures pending, and
// takes Gather's waiters off them.
func TestGatherCallerCancelled(t *testing.T) {
	for _, all := range []bool{false, true} {
		t.Run(fmt.Sprintf("all=%v", all), func(t *testing.T) {
			l := newLoop(t)
			f := aio.NewFuture[int](l)
			g := aio.NewFuture[int](l)
			cause := errors.New("caller cancelled")
			var gerr error
			task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
				if all {
					_, _, gerr = aio.GatherAll[aio.Awaitable[int]](c, f, g)
				} else {
					_, gerr = aio.Gather[aio.Awaitable[int]](c, f, g)
				}
				return 0, gerr
			})
			iterate(t, l, nil)
			iterate(t, l, func() { task.Cancel(cause) })
			l.RunUntil(task.IsDone)
			if !errors.Is(gerr, context.Canceled) || aio.Cause(gerr) != cause {
				t.Fatalf("Gather in a cancelled task = %v", gerr)
			}
			if f.IsDone() || g.IsDone() {
				t.Fatal("cancelling the gathering task cancelled what it gathered")
			}
			// Gather's waiters were removed from the futures it left.
			for _, fut := range []*aio.Future[int]{f, g} {
				if fut.WaitersForTest() != 0 {
					t.Fatal("a waiter of the cancelled Gather is left on a future")
				}
			}
			iterate(t, l, func() { f.SetResult(1); g.SetResult(2) })
		})
	}
}

// A Gather that returns early on a failure takes its waiter off the future
// that is still pending.
func TestGatherEarlyReturnRemovesWaiters(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	bad := aio.NewFuture[int](l)
	boom := errors.New("boom")
	var gerr error
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		l.CallSoon(func() { bad.SetError(boom) })
		_, gerr = aio.Gather[aio.Awaitable[int]](c, f, bad)
		return 0, nil
	})
	if gerr != boom {
		t.Fatalf("Gather = %v", gerr)
	}
	if f.WaitersForTest() != 0 {
		t.Fatal("Gather left its waiter on the pending future")
	}
}

// Gather and GatherAll refuse misuse with the errors of Await (a nil Ctx, a
// nil awaitable, a future of another loop, the calling task itself, a call
// from a callback), without panicking.
func TestGatherMisuse(t *testing.T) {
	l := newLoop(t)
	other := newLoop(t)
	f := aio.NewFuture[int](l)
	f.SetResult(1)
	var self *aio.Task[int]
	var selfCtx *aio.Ctx
	cases := []struct {
		name string
		op   func(c *aio.Ctx) error
		want error
	}{
		{"nil Ctx", func(c *aio.Ctx) error { _, err := aio.Gather[aio.Awaitable[int]](nil, f); return err }, aio.ErrNotInTask},
		{"GatherAll nil Ctx", func(c *aio.Ctx) error { _, _, err := aio.GatherAll[aio.Awaitable[int]](nil, f); return err }, aio.ErrNotInTask},
		{"nil awaitable", func(c *aio.Ctx) error { _, err := aio.Gather[aio.Awaitable[int]](c, f, nil); return err }, aio.ErrInvalidState},
		{"nil *Future", func(c *aio.Ctx) error {
			_, err := aio.Gather[aio.Awaitable[int]](c, (*aio.Future[int])(nil))
			return err
		}, aio.ErrInvalidState},
		{"another loop's future", func(c *aio.Ctx) error {
			_, err := aio.Gather[aio.Awaitable[int]](c, f, aio.NewFuture[int](other))
			return err
		}, aio.ErrInvalidState},
		{"nil *Task", func(c *aio.Ctx) error {
			_, err := aio.Gather[aio.Awaitable[int]](c, f, (*aio.Task[int])(nil))
			return err
		}, aio.ErrInvalidState},
		{"itself", func(c *aio.Ctx) error { _, err := aio.Gather[aio.Awaitable[int]](c, f, self); return err }, aio.ErrInvalidState},
		{"GatherAll itself", func(c *aio.Ctx) error { _, _, err := aio.GatherAll[aio.Awaitable[int]](c, self); return err }, aio.ErrInvalidState},
	}
	var got []error
	self, _ = aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		selfCtx = c
		for _, tc := range cases {
			func() {
				defer func() {
					if r := recover(); r != nil {
						got = append(got, fmt.Errorf("panic: %v", r))
					}
				}()
				got = append(got, tc.op(c))
			}()
		}
		return 0, aio.Yield(c)
	})
	l.RunUntil(self.IsDone)
	if self.Err() != nil {
		t.Fatalf("task: %v", self.Err())
	}
	for i, tc := range cases {
		if !errors.Is(got[i], tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got[i], tc.want)
		}
	}
	// Outside any task.
	var outside error
	iterate(t, l, func() { _, outside = aio.Gather[aio.Awaitable[int]](selfCtx, f) })
	if !errors.Is(outside, aio.ErrNotInTask) {
		t.Errorf("Gather from a callback: %v", outside)
	}
}

// Gather of sleeping tasks returns their results in argument order, once the
// longest sleep is over.
func TestGatherWithSleepers(t *testing.T) {
	l := newLoop(t)
	var results []int
	var gerr error
	start := time.Now()
	runTask(t, l, func(c *aio.Ctx) (int, error) {
		var aws []aio.Awaitable[int]
		for i := range 8 {
			task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
				if err := aio.Sleep(c, time.Duration(8-i)*250*time.Microsecond); err != nil {
					return 0, err
				}
				return i, nil
			})
			aws = append(aws, task)
		}
		results, gerr = aio.Gather(c, aws...)
		return 0, nil
	})
	if gerr != nil || fmt.Sprint(results) != "[0 1 2 3 4 5 6 7]" {
		t.Fatalf("Gather = %v, %v", results, gerr)
	}
	if time.Since(start) < 2*time.Millisecond {
		t.Fatal("Gather returned before its longest sleeper")
	}
}
