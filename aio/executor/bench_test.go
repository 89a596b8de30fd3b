package executor_test

import (
	"context"
	"runtime"
	"testing"

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
// so that the loop never sleeps.
func BenchmarkRunBusy(b *testing.B) {
	b.ReportAllocs()
	aio.Run(func(c *aio.Ctx) (int, error) {
		stop := false
		spin, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			for !stop {
				aio.Yield(c)
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
