package locks_test

import (
	"runtime"
	"sync"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
)

// benchRun runs body as the main task of a new loop, timing only what body
// times (it calls b.ResetTimer when its setup is done).
func benchRun(b *testing.B, body func(c *aio.Ctx) error) {
	b.Helper()
	b.ReportAllocs()
	if _, err := aio.Run(func(c *aio.Ctx) (struct{}, error) { return struct{}{}, body(c) }); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLockUncontended measures Acquire and Release of a free Lock in
// one task: the fast path, which does not suspend and allocates nothing.
func BenchmarkLockUncontended(b *testing.B) {
	benchRun(b, func(c *aio.Ctx) error {
		var l locks.Lock
		b.ResetTimer()
		for range b.N {
			if err := l.Acquire(c); err != nil {
				return err
			}
			if err := l.Release(); err != nil {
				return err
			}
		}
		b.StopTimer()
		return nil
	})
}

// benchContenders is the number of tasks (or goroutines) that contend for
// the lock in the contended benchmarks.
const benchContenders = 10

// BenchmarkLockContended measures a Lock handed between 10 tasks, each of
// which takes it, yields to the loop while holding it (so that the others
// queue up behind it), and releases it, b.N times in all: every operation
// is one Acquire that parks, a Yield, a Release that wakes the next, and
// the woken task's resume.
func BenchmarkLockContended(b *testing.B) {
	benchRun(b, func(c *aio.Ctx) error {
		var l locks.Lock
		count := 0
		b.ResetTimer()
		err := aio.WithGroup(c, func(g *aio.Group) error {
			for range benchContenders {
				g.Go(func(c *aio.Ctx) error {
					for {
						if err := l.Acquire(c); err != nil {
							return err
						}
						if count >= b.N {
							return l.Release()
						}
						count++
						if err := aio.Yield(c); err != nil {
							return err
						}
						if err := l.Release(); err != nil {
							return err
						}
					}
				})
			}
			return nil
		})
		b.StopTimer()
		return err
	})
}

// BenchmarkMutexUncontended is the baseline of BenchmarkLockUncontended:
// Lock and Unlock of a free sync.Mutex in one goroutine.
func BenchmarkMutexUncontended(b *testing.B) {
	b.ReportAllocs()
	var mu sync.Mutex
	for range b.N {
		mu.Lock()
		//lint:ignore SA2001 an empty critical section is the point: the lock's cost
		mu.Unlock()
	}
}

// BenchmarkMutexContended is the baseline of BenchmarkLockContended: 10
// goroutines take a sync.Mutex, yield (runtime.Gosched) while holding it,
// and unlock it, b.N times in all.
func BenchmarkMutexContended(b *testing.B) {
	b.ReportAllocs()
	var mu sync.Mutex
	count := 0
	var wg sync.WaitGroup
	for range benchContenders {
		wg.Go(func() {
			for {
				mu.Lock()
				if count >= b.N {
					mu.Unlock()
					return
				}
				count++
				runtime.Gosched()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// BenchmarkSemaphoreUncontended measures Acquire and Release of a
// Semaphore with a free permit in one task.
func BenchmarkSemaphoreUncontended(b *testing.B) {
	benchRun(b, func(c *aio.Ctx) error {
		s, _ := locks.NewSemaphore(1)
		b.ResetTimer()
		for range b.N {
			if err := s.Acquire(c); err != nil {
				return err
			}
			if err := s.Release(); err != nil {
				return err
			}
		}
		b.StopTimer()
		return nil
	})
}

// BenchmarkRWLockReadUncontended measures RLock and RUnlock of a free
// RWLock in one task.
func BenchmarkRWLockReadUncontended(b *testing.B) {
	benchRun(b, func(c *aio.Ctx) error {
		var rw locks.RWLock
		b.ResetTimer()
		for range b.N {
			if err := rw.RLock(c); err != nil {
				return err
			}
			if err := rw.RUnlock(); err != nil {
				return err
			}
		}
		b.StopTimer()
		return nil
	})
}
