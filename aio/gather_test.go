package aio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fxAfterYields returns a body that yields n times and then returns v, err.
func fxAfterYields(n int, v int, err error, log *[]string, name string) func(*Ctx) (int, error) {
	return func(c *Ctx) (int, error) {
		for range n {
			if err := Yield(c); err != nil {
				return 0, err
			}
		}
		if log != nil {
			*log = append(*log, name)
		}
		return v, err
	}
}

func TestGatherOrder(t *testing.T) {
	l := fxLoop(t)
	var log []string
	var results []int
	var gerr error
	fxRunTask(t, l, func(c *Ctx) (int, error) {
		var aws []Awaitable[int]
		for i := range 5 {
			// The later the argument, the sooner it finishes.
			task, err := Spawn(l, fxAfterYields(5-i, i*10, nil, &log, fmt.Sprint(i)))
			if err != nil {
				return 0, err
			}
			aws = append(aws, task)
		}
		f := NewFuture[int](l)
		l.CallSoon(func() { f.SetResult(99) })
		aws = append(aws, f)
		results, gerr = Gather(c, aws...)
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

func TestGatherFirstErrorInTime(t *testing.T) {
	l := fxLoop(t)
	errLate := errors.New("late error")
	errEarly := errors.New("early error")
	var results []int
	var gerr error
	var slow, late, fast *Task[int]
	var doneAtReturn []bool
	main := fxRunTask(t, l, func(c *Ctx) (int, error) {
		slow, _ = Spawn(l, fxAfterYields(10, 1, nil, nil, ""))
		late, _ = Spawn(l, fxAfterYields(6, 0, errLate, nil, ""))
		fast, _ = Spawn(l, fxAfterYields(1, 3, nil, nil, ""))
		early, _ := Spawn(l, fxAfterYields(3, 0, errEarly, nil, ""))
		results, gerr = Gather[Awaitable[int]](c, slow, late, fast, early)
		doneAtReturn = []bool{slow.IsDone(), late.IsDone(), fast.IsDone(), early.IsDone()}
		// The others keep running: wait for them without Gather.
		for _, task := range []*Task[int]{slow, late} {
			Await(c, task)
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

func TestGatherAll(t *testing.T) {
	l := fxLoop(t)
	boom := errors.New("boom")
	var results []int
	var errs []error
	var gerr error
	var allDone bool
	fxRunTask(t, l, func(c *Ctx) (int, error) {
		a, _ := Spawn(l, fxAfterYields(1, 0, boom, nil, ""))
		b, _ := Spawn(l, fxAfterYields(4, 2, nil, nil, ""))
		cf := NewFuture[int](l)
		l.CallSoon(func() { cf.Cancel(ErrInterrupted) })
		d, _ := Spawn(l, func(c *Ctx) (int, error) { panic("pp") })
		results, errs, gerr = GatherAll[Awaitable[int]](c, a, b, cf, d)
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
	var pe *PanicError
	if errs[0] != boom || errs[1] != nil || Cause(errs[2]) != ErrInterrupted || !errors.As(errs[3], &pe) {
		t.Fatalf("errs %v", errs)
	}
}

func TestGatherNothingAndDone(t *testing.T) {
	l := fxLoop(t)
	boom := errors.New("boom")
	var order []string
	var r0, r1, r2 []int
	var e0, e1, e2 error
	var errsAll []error
	fxRunTask(t, l, func(c *Ctx) (int, error) {
		r0, e0 = Gather[Awaitable[int]](c)
		ok := NewFuture[int](l)
		ok.SetResult(1)
		bad := NewFuture[int](l)
		bad.SetError(boom)
		l.CallSoon(func() { order = append(order, "callback") })
		r1, e1 = Gather[Awaitable[int]](c, ok, ok)
		r2, e2 = Gather[Awaitable[int]](c, ok, bad)
		_, errsAll, _ = GatherAll[Awaitable[int]](c, bad, ok)
		order = append(order, "gathered")
		Yield(c)
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

func TestGatherCallerCancelled(t *testing.T) {
	for _, all := range []bool{false, true} {
		t.Run(fmt.Sprintf("all=%v", all), func(t *testing.T) {
			l := fxLoop(t)
			f := NewFuture[int](l)
			g := NewFuture[int](l)
			cause := errors.New("caller cancelled")
			var gerr error
			task, _ := Spawn(l, func(c *Ctx) (int, error) {
				if all {
					_, _, gerr = GatherAll[Awaitable[int]](c, f, g)
				} else {
					_, gerr = Gather[Awaitable[int]](c, f, g)
				}
				return 0, gerr
			})
			fxIterate(t, l, nil)
			fxIterate(t, l, func() { task.Cancel(cause) })
			l.RunUntil(task.IsDone)
			if !errors.Is(gerr, context.Canceled) || Cause(gerr) != cause {
				t.Fatalf("Gather in a cancelled task = %v", gerr)
			}
			if f.IsDone() || g.IsDone() {
				t.Fatal("cancelling the gathering task cancelled what it gathered")
			}
			// Gather's waiters were removed from the futures it left.
			for _, fut := range []*Future[int]{f, g} {
				if fut.waiters.head != nil {
					t.Fatal("a waiter of the cancelled Gather is left on a future")
				}
			}
			fxIterate(t, l, func() { f.SetResult(1); g.SetResult(2) })
		})
	}
}

func TestGatherEarlyReturnRemovesWaiters(t *testing.T) {
	l := fxLoop(t)
	f := NewFuture[int](l)
	bad := NewFuture[int](l)
	boom := errors.New("boom")
	var gerr error
	fxRunTask(t, l, func(c *Ctx) (int, error) {
		l.CallSoon(func() { bad.SetError(boom) })
		_, gerr = Gather[Awaitable[int]](c, f, bad)
		return 0, nil
	})
	if gerr != boom {
		t.Fatalf("Gather = %v", gerr)
	}
	if f.waiters.head != nil {
		t.Fatal("Gather left its waiter on the pending future")
	}
}

func TestGatherMisuse(t *testing.T) {
	l := fxLoop(t)
	other := fxLoop(t)
	f := NewFuture[int](l)
	f.SetResult(1)
	var self *Task[int]
	cases := []struct {
		name string
		op   func(c *Ctx) error
		want error
	}{
		{"nil Ctx", func(c *Ctx) error { _, err := Gather[Awaitable[int]](nil, f); return err }, ErrNotInTask},
		{"GatherAll nil Ctx", func(c *Ctx) error { _, _, err := GatherAll[Awaitable[int]](nil, f); return err }, ErrNotInTask},
		{"nil awaitable", func(c *Ctx) error { _, err := Gather[Awaitable[int]](c, f, nil); return err }, ErrInvalidState},
		{"nil *Future", func(c *Ctx) error { _, err := Gather[Awaitable[int]](c, (*Future[int])(nil)); return err }, ErrInvalidState},
		{"another loop's future", func(c *Ctx) error { _, err := Gather[Awaitable[int]](c, f, NewFuture[int](other)); return err }, ErrInvalidState},
		{"nil *Task", func(c *Ctx) error { _, err := Gather[Awaitable[int]](c, f, (*Task[int])(nil)); return err }, ErrInvalidState},
		{"itself", func(c *Ctx) error { _, err := Gather[Awaitable[int]](c, f, self); return err }, ErrInvalidState},
		{"GatherAll itself", func(c *Ctx) error { _, _, err := GatherAll[Awaitable[int]](c, self); return err }, ErrInvalidState},
	}
	var got []error
	self, _ = Spawn(l, func(c *Ctx) (int, error) {
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
		return 0, Yield(c)
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
	fxIterate(t, l, func() { _, outside = Gather[Awaitable[int]](&self.c, f) })
	if !errors.Is(outside, ErrNotInTask) {
		t.Errorf("Gather from a callback: %v", outside)
	}
}

func TestGatherWithSleepers(t *testing.T) {
	l := fxLoop(t)
	var results []int
	var gerr error
	start := time.Now()
	fxRunTask(t, l, func(c *Ctx) (int, error) {
		var aws []Awaitable[int]
		for i := range 8 {
			task, _ := Spawn(l, func(c *Ctx) (int, error) {
				if err := Sleep(c, time.Duration(8-i)*250*time.Microsecond); err != nil {
					return 0, err
				}
				return i, nil
			})
			aws = append(aws, task)
		}
		results, gerr = Gather(c, aws...)
		return 0, nil
	})
	if gerr != nil || fmt.Sprint(results) != "[0 1 2 3 4 5 6 7]" {
		t.Fatalf("Gather = %v, %v", results, gerr)
	}
	if time.Since(start) < 2*time.Millisecond {
		t.Fatal("Gather returned before its longest sleeper")
	}
}
