package executor_test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/executor"
)

func ready(context.Context) (int, error) { return 1, nil }

// BenchmarkRun is the executor round trip from a task: submit a function
// that returns at once and await its result, with the loop idle otherwise
// (each result wakes a sleeping loop thread).
func BenchmarkRun(b *testing.B) {
	b.ReportAllocs()
	aio.Run(func(c *aio.Ctx) (int, error) {
		for b.Loop() {
			if _, err := executor.Run(c, ready); err != nil {
				b.Error(err)
				return 0, err
			}
		}
		return 0, nil
	})
}

// BenchmarkRunBusy is BenchmarkRun with another task yielding in a loop,
// so that the loop never sleeps. yields/s is the other task's pace: the
// loop's throughput for other work while the calls go on.
func BenchmarkRunBusy(b *testing.B) {
	b.ReportAllocs()
	yields := 0
	aio.Run(func(c *aio.Ctx) (int, error) {
		stop := false
		spin, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			for !stop {
				aio.Yield(c)
				yields++
			}
			return 0, nil
		})
		for b.Loop() {
			if _, err := executor.Run(c, ready); err != nil {
				b.Error(err)
				break
			}
		}
		stop = true
		aio.Await(c, spin)
		return 0, nil
	})
	b.ReportMetric(float64(yields)/b.Elapsed().Seconds(), "yields/s")
}

// BenchmarkGoroutineChan is the plain-Go baseline: from a goroutine locked
// to its thread, start a goroutine that sends a value on a channel, and
// receive it.
func BenchmarkGoroutineChan(b *testing.B) {
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for b.Loop() {
		ch := make(chan int, 1)
		go func() { ch <- 1 }()
		<-ch
	}
}

// BenchmarkPoolSubmit is the Pool alone: Submit and wait on a channel.
func BenchmarkPoolSubmit(b *testing.B) {
	b.ReportAllocs()
	p, _ := executor.NewPool(4)
	done := make(chan struct{})
	f := func() { done <- struct{}{} }
	for b.Loop() {
		p.Submit(f)
		<-done
	}
	p.Shutdown(context.Background())
}

// BenchmarkBreakdownIdle and BenchmarkBreakdownBusy are BenchmarkRun and
// BenchmarkRunBusy on a Pool of their own, with timestamps: at Submit, at the
// start of the function on its worker, at its end, and when Run returns to
// the task. They report the medians of each leg: submit-ns (the Submit call
// on the loop thread), start-ns (Submit to the function's start), deliver-ns
// (the function's end to the task's resume: SetResult, the door, the loop).
func BenchmarkBreakdownIdle(b *testing.B) { benchBreakdown(b, false) }

// BenchmarkBreakdownBusy: see BenchmarkBreakdownIdle.
func BenchmarkBreakdownBusy(b *testing.B) { benchBreakdown(b, true) }

func benchBreakdown(b *testing.B, busy bool) {
	p, _ := executor.NewPool(4)
	defer p.Shutdown(context.Background())
	base := time.Now()
	now := func() int64 { return int64(time.Since(base)) }
	type stamps struct{ sub, subRet, start, end, resume int64 }
	var all []stamps
	var cur stamps // written by the worker before SetResult, read after Run
	e := executor.ExecutorFunc(func(task func()) error {
		cur.sub = now()
		err := p.Submit(task)
		cur.subRet = now()
		return err
	})
	fn := func(context.Context) (int, error) {
		cur.start = now()
		cur.end = now()
		return 1, nil
	}
	aio.Run(func(c *aio.Ctx) (int, error) {
		stop := false
		var spin *aio.Task[int]
		if busy {
			spin, _ = aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				for !stop {
					aio.Yield(c)
				}
				return 0, nil
			})
		}
		for b.Loop() {
			if _, err := executor.Run(c, fn, executor.WithExecutor(e)); err != nil {
				b.Error(err)
				break
			}
			cur.resume = now()
			all = append(all, cur)
		}
		stop = true
		if spin != nil {
			aio.Await(c, spin)
		}
		return 0, nil
	})
	if len(all) == 0 {
		return
	}
	median := func(leg func(s stamps) int64) float64 {
		v := make([]int64, len(all))
		for i, s := range all {
			v[i] = leg(s)
		}
		slices.Sort(v)
		return float64(v[len(v)/2])
	}
	b.ReportMetric(median(func(s stamps) int64 { return s.subRet - s.sub }), "submit-ns")
	b.ReportMetric(median(func(s stamps) int64 { return s.start - s.sub }), "start-ns")
	b.ReportMetric(median(func(s stamps) int64 { return s.resume - s.end }), "deliver-ns")
}
