package main

// Workloads of package aio/executor: the round trip of a blocking call
// handed to the executor and awaited in a task, with the loop idle (each
// result wakes a sleeping loop thread) and with the loop busy.

import (
	"context"
	"fmt"
	"runtime"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/executor"
)

func executorWorkloads() []workload {
	return []workload{
		{
			name:  "executor",
			title: "executor.Run",
			about: "executor.Run of a function that returns at once, awaited in a task of an idle loop (the result wakes the sleeping loop thread); Go: a goroutine + channel round trip from a locked thread",
			unit:  nsPerOp, n: 10_000, quickN: 1_000,
			aio: func(n int) (result, error) { return aioExecutorRun(n, false) },
			bases: []baseline{
				{"go+chan lock", goSpawnChanLocked},
			},
		},
		{
			name:  "executorbusy",
			title: "executor.Run busy",
			about: "executor.Run as above, with another task yielding in a loop so the loop never sleeps; Go: a goroutine + channel round trip from a locked thread",
			unit:  nsPerOp, n: 10_000, quickN: 1_000,
			aio: func(n int) (result, error) { return aioExecutorRun(n, true) },
			bases: []baseline{
				{"go+chan lock", goSpawnChanLocked},
			},
		},
	}
}

// aioExecutorRun measures n executor.Run round trips from a task; busy adds
// a task that yields until the measurement ends.
//
// At GOMAXPROCS=1 a loop that never waits holds the only P, and a worker
// runs only when the scheduler preempts the loop's thread (every 10 ms or
// so): the busy row then measures 20 calls, which show that cost.
func aioExecutorRun(n int, busy bool) (result, error) {
	if busy && runtime.GOMAXPROCS(0) < 2 {
		n = min(n, 20)
	}
	fn := func(context.Context) (int, error) { return 1, nil }
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		stop := false
		var spin *aio.Task[int]
		if busy {
			spin, _ = aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				for !stop {
					if err := aio.Yield(c); err != nil {
						return 0, err
					}
				}
				return 0, nil
			})
		}
		sum := 0
		m.start()
		for range n {
			v, err := executor.Run(c, fn)
			if err != nil {
				return 0, fmt.Errorf("executor.Run: %w", err)
			}
			sum += v
		}
		m.stop()
		stop = true
		if spin != nil {
			if _, err := aio.Await(c, spin); err != nil {
				return 0, err
			}
		}
		if sum != n {
			return 0, fmt.Errorf("sum of results %d, want %d", sum, n)
		}
		return 0, nil
	})
	if err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}

// goSpawnChanLocked starts, from a goroutine locked to its thread (as a
// loop is), a goroutine that sends a value on a channel, and receives it.
func goSpawnChanLocked(n int) (result, error) {
	var m meter
	sum := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		m.start()
		for range n {
			ch := make(chan int, 1)
			go func() { ch <- 1 }()
			sum += <-ch
		}
		m.stop()
	}()
	<-done
	if sum != n {
		return result{}, fmt.Errorf("sum of values %d, want %d", sum, n)
	}
	return m.perOp(n), nil
}
