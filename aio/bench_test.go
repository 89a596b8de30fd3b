package aio_test

import (
	"iter"
	"runtime"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// benchLoop returns a loop closed at the end of the benchmark.
func benchLoop(b *testing.B) *aio.Loop {
	b.Helper()
	l, err := aio.NewLoop()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

// BenchmarkCallSoon measures a callback scheduled and run on the loop:
// batches of 1024 callbacks scheduled from loop code, then run.
func BenchmarkCallSoon(b *testing.B) {
	l := benchLoop(b)
	n := 0
	fn := func() { n++ }
	//lint:ignore S1021 sched calls itself
	var sched func()
	sched = func() {
		for i := 0; i < 1024 && n+i < b.N; i++ {
			l.CallSoon(fn)
		}
	}
	l.CallSoon(sched)
	b.ReportAllocs()
	b.ResetTimer()
	l.RunUntil(func() bool {
		if n >= b.N {
			return true
		}
		if l.ReadyLenForTest() == 0 {
			l.CallSoon(sched)
		}
		return false
	})
}

// BenchmarkCallbackChain measures a chain where each callback schedules the
// next, so every link is one loop iteration.
func BenchmarkCallbackChain(b *testing.B) {
	l := benchLoop(b)
	n := 0
	var link func()
	link = func() {
		n++
		if n < b.N {
			l.CallSoon(link)
		}
	}
	l.CallSoon(link)
	b.ReportAllocs()
	b.ResetTimer()
	l.RunUntil(func() bool { return n >= b.N })
}

// BenchmarkCallLater measures scheduling a timer from loop code, as
// performance.md's workload does: rounds of 100k timers with random delays
// of 0-100 ms. Between rounds the timers are cancelled, off the clock.
func BenchmarkCallLater(b *testing.B) {
	l := benchLoop(b)
	fn := func() {}
	const round = 100_000
	delays := make([]time.Duration, round)
	for i := range delays {
		delays[i] = time.Duration(uint32(i)*2654435761%100_000) * time.Microsecond
	}
	hs := make([]aio.Handle, 0, round)
	b.ReportAllocs()
	l.CallSoon(func() {
		b.ResetTimer()
		for i := range b.N {
			h, _ := l.CallLater(delays[i%round], fn)
			hs = append(hs, h)
			if len(hs) == round {
				b.StopTimer()
				for _, h := range hs {
					h.Cancel()
				}
				hs = hs[:0]
				b.StartTimer()
			}
		}
		b.StopTimer()
		l.Stop()
	})
	l.RunForever()
}

// BenchmarkSpawn measures a task that is spawned and completes, from a task,
// in batches of 1024; the sub-benchmarks compare reusing finished
// coroutines (what the loop does) with making one per task.
func BenchmarkSpawn(b *testing.B) {
	b.Run("reuse", func(b *testing.B) { benchSpawn(b, false) })
	b.Run("new-coroutine-per-task", func(b *testing.B) { benchSpawn(b, true) })
}

func benchSpawn(b *testing.B, noReuse bool) {
	l := benchLoop(b)
	l.SetCoroReuseForTest(!noReuse)
	body := func(c *aio.Ctx) (int, error) { return 1, nil }
	done := 0
	b.ReportAllocs()
	b.ResetTimer()
	aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		for i := 0; i < b.N; i++ {
			t, _ := aio.Spawn(l, body)
			if i%1024 == 1023 || i == b.N-1 {
				aio.Await(c, t)
			}
			done++
		}
		return 0, nil
	})
	l.RunUntil(func() bool { return done >= b.N })
}

// BenchmarkYield measures Yield: one task yields b.N times, each a
// suspension and a resumption at the next iteration.
func BenchmarkYield(b *testing.B) {
	l := benchLoop(b)
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		b.ResetTimer()
		for range b.N {
			aio.Yield(c)
		}
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkAwaitReady measures Await of a future that is already done, which
// returns without suspending.
func BenchmarkAwaitReady(b *testing.B) {
	l := benchLoop(b)
	f := aio.NewFuture[int](l)
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		f.SetResult(1)
		b.ResetTimer()
		for range b.N {
			aio.Await(c, f)
		}
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkPingPong measures two tasks taking turns through futures: in each
// round one completes the future the other awaits, then awaits the reply.
func BenchmarkPingPong(b *testing.B) {
	l := benchLoop(b)
	var ping, pong *aio.Future[int]
	ping = aio.NewFuture[int](l)
	b.ReportAllocs()
	aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		for i := 0; i < b.N; i++ {
			aio.Await(c, ping)
			ping = aio.NewFuture[int](l)
			pong.SetResult(i)
		}
		return 0, nil
	})
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			pong = aio.NewFuture[int](l)
			ping.SetResult(i)
			aio.Await(c, pong)
		}
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkSubmit measures CallSoon from 4 other goroutines onto a running
// loop: b.N callbacks in all, timed until the loop has run the last one.
func BenchmarkSubmit(b *testing.B) {
	const producers = 4
	l := benchLoop(b)
	ran := 0
	fn := func() { ran++ }
	b.ReportAllocs()
	l.CallSoon(func() {
		b.ResetTimer()
		for p := range producers {
			k := b.N / producers
			if p == 0 {
				k += b.N % producers
			}
			go func() {
				for range k {
					l.CallSoon(fn)
				}
			}()
		}
	})
	l.RunUntil(func() bool { return ran >= b.N })
}

// BenchmarkSpawnGather100k is performance.md's spawn workload: a task
// spawns 100k tasks that return at once, then gathers them all; ns per task.
func BenchmarkSpawnGather100k(b *testing.B) {
	const n = 100_000
	body := func(*aio.Ctx) (int, error) { return 1, nil }
	ts := make([]*aio.Task[int], n)
	b.ReportAllocs()
	for b.Loop() {
		_, err := aio.Run(func(c *aio.Ctx) (int, error) {
			for i := range ts {
				ts[i], _ = aio.Spawn(c.Loop(), body)
			}
			_, err := aio.Gather(c, ts...)
			return 0, err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
}

// BenchmarkPullRoundTrip is the floor under every task switch: one resume
// and yield of an iter.Pull coroutine on a locked thread, with nothing of
// aio around it. A ping-pong round trip between two tasks is two of these
// (four switches), the rest is the loop's own work.
func BenchmarkPullRoundTrip(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	next, stop := iter.Pull(func(yield func(struct{}) bool) {
		for yield(struct{}{}) {
		}
	})
	defer stop()
	for b.Loop() {
		next()
	}
}

// BenchmarkNewFuture is the other fixed cost of the ping-pong benchmark,
// which makes a new future each way: allocating one future.
func BenchmarkNewFuture(b *testing.B) {
	l := benchLoop(b)
	b.ReportAllocs()
	for b.Loop() {
		sinkFuture = aio.NewFuture[int](l)
	}
}

var sinkFuture *aio.Future[int]
