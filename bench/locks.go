package main

// Workloads of aio/locks: a Lock taken and released by one task, and
// handed between ten, each beside sync.Mutex doing the same job.

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
)

// lockContenders is the number of tasks (goroutines) of "lock, 10 tasks".
const lockContenders = 10

func lockWorkloads() []workload {
	return []workload{
		{
			name:  "lock",
			title: "lock, uncontended",
			about: "Acquire and Release of a free locks.Lock in one task, which never suspends; Go: Lock and Unlock of a free sync.Mutex",
			unit:  nsPerOp, n: 5_000_000, quickN: 200_000,
			aio: aioLockUncontended,
			bases: []baseline{
				{"sync.Mutex", goMutexUncontended},
			},
		},
		{
			name:  "lock-contended",
			title: "lock, 10 tasks",
			about: "a locks.Lock handed between 10 tasks that each Acquire, Yield holding it, and Release, per hand-over; Go: 10 goroutines that Lock a sync.Mutex, Gosched and Unlock",
			unit:  nsPerOp, n: 500_000, quickN: 20_000,
			aio: aioLockContended,
			bases: []baseline{
				{"sync.Mutex", goMutexContended},
			},
		},
	}
}

// aioLockUncontended measures n Acquire+Release pairs of a free Lock in the
// only task of a loop: the fast path, with its misuse checks.
func aioLockUncontended(n int) (result, error) {
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		var l locks.Lock
		m.start()
		for range n {
			if err := l.Acquire(c); err != nil {
				return 0, fmt.Errorf("acquire: %w", err)
			}
			if err := l.Release(); err != nil {
				return 0, fmt.Errorf("release: %w", err)
			}
		}
		m.stop()
		if l.Locked() {
			return 0, fmt.Errorf("the Lock is locked at the end")
		}
		return 0, nil
	})
	if err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}

// goMutexUncontended is the same with a sync.Mutex in one goroutine; the
// counter keeps the critical section from being empty.
func goMutexUncontended(n int) (result, error) {
	var mu sync.Mutex
	count := 0
	var m meter
	m.start()
	for range n {
		mu.Lock()
		count++
		mu.Unlock()
	}
	m.stop()
	if count != n {
		return result{}, fmt.Errorf("count %d, want %d", count, n)
	}
	return m.perOp(n), nil
}

// aioLockContended measures n hand-overs of a Lock between 10 tasks: each
// task Acquires (parking behind the others), counts, Yields to the loop
// while holding the Lock, and Releases it, which wakes the next in line.
// Per operation: a Park and its resume, a Yield, a Release's wake. The
// tasks must take turns in order (the Lock is FIFO): the check counts the
// hand-overs that went to another task than the one next in line.
func aioLockContended(n int) (result, error) {
	var m meter
	count, unfair := 0, 0
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		var l locks.Lock
		last := -1
		m.start()
		err := aio.WithGroup(c, func(g *aio.Group) error {
			for k := range lockContenders {
				g.Go(func(c *aio.Ctx) error {
					for {
						if err := l.Acquire(c); err != nil {
							return fmt.Errorf("acquire: %w", err)
						}
						if count >= n {
							return l.Release()
						}
						if last >= 0 && k != (last+1)%lockContenders {
							unfair++
						}
						last = k
						count++
						if err := aio.Yield(c); err != nil {
							return err
						}
						if err := l.Release(); err != nil {
							return fmt.Errorf("release: %w", err)
						}
					}
				})
			}
			return nil
		})
		m.stop()
		return 0, err
	})
	if err != nil {
		return result{}, err
	}
	if count != n || unfair > 0 {
		return result{}, fmt.Errorf("%d hand-overs (want %d), %d out of turn", count, n, unfair)
	}
	return m.perOp(n), nil
}

// goMutexContended is the same with 10 goroutines and a sync.Mutex, yielding
// with runtime.Gosched while holding it (sync.Mutex is not FIFO: no check of
// the order).
func goMutexContended(n int) (result, error) {
	var mu sync.Mutex
	count := 0
	var wg sync.WaitGroup
	var m meter
	m.start()
	for range lockContenders {
		wg.Go(func() {
			for {
				mu.Lock()
				if count >= n {
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
	m.stop()
	if count != n {
		return result{}, fmt.Errorf("count %d, want %d", count, n)
	}
	return m.perOp(n), nil
}
