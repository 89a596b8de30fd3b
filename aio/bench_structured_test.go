package aio_test

import (
	"context"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// Benchmarks of structured concurrency: a timeout that does not fire, a
// WaitFor that does not expire, a group of tasks, with context.WithTimeout
// as the Go baseline of the first.

// BenchmarkTimeoutScope measures a WithTimeout around an Await of a ready
// future: the cost of a timeout scope that does not fire (its Scope, its
// timer armed and removed).
func BenchmarkTimeoutScope(b *testing.B) {
	l := benchLoop(b)
	f := aio.NewFuture[int](l)
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		f.SetResult(1)
		b.ResetTimer()
		for range b.N {
			aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error {
				_, err := aio.Await(c, f)
				return err
			})
		}
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkContextWithTimeout is the Go baseline: context.WithTimeout and
// its cancel around a receive from a ready channel.
func BenchmarkContextWithTimeout(b *testing.B) {
	ch := make(chan int, 1)
	parent := context.Background()
	b.ReportAllocs()
	for range b.N {
		ch <- 1
		ctx, cancel := context.WithTimeout(parent, time.Hour)
		select {
		case <-ch:
		case <-ctx.Done():
		}
		cancel()
	}
}

// BenchmarkWaitFor measures WaitFor of a ready future with a timeout that
// does not expire.
func BenchmarkWaitFor(b *testing.B) {
	l := benchLoop(b)
	f := aio.NewFuture[int](l)
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		f.SetResult(1)
		b.ResetTimer()
		for range b.N {
			aio.WaitFor[int](c, f, time.Hour)
		}
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkGroup measures a task group of 1000 tasks that return at once:
// per task, its spawn into the group, its run, and the group's wait.
func BenchmarkGroup(b *testing.B) {
	l := benchLoop(b)
	body := func(*aio.Ctx) error { return nil }
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		b.ResetTimer()
		for i := 0; i < b.N; i += 1000 {
			aio.WithGroup(c, func(g *aio.Group) error {
				for range 1000 {
					g.Go(body)
				}
				return nil
			})
		}
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}
