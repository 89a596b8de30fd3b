package main

// Workloads of tasks: spawning, awaiting, yielding, and two tasks handing a
// value back and forth, all on one loop.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/aiogo/aio/aio"
)

func taskWorkloads() []workload {
	return []workload{
		{
			name:  "spawn",
			title: "task spawn+Gather",
			about: "a task spawned, run to completion and gathered with the others; Go: a goroutine and a WaitGroup",
			unit:  nsPerOp, n: 100_000, quickN: 10_000,
			aio: aioSpawn,
			bases: []baseline{
				{"go+WaitGroup", goSpawn},
			},
		},
		{
			name:  "await",
			title: "Await ready future",
			about: "Await of a future that is already done; Go: a receive from a buffered channel holding a value",
			unit:  nsPerOp, n: 2_000_000, quickN: 100_000,
			aio: aioAwaitReady,
			bases: []baseline{
				{"ready chan", goRecvReady},
			},
		},
		{
			name:  "yield",
			title: "task Yield",
			about: "a task's Yield: one trip through the loop's ready queue; Go: runtime.Gosched",
			unit:  nsPerOp, n: 1_000_000, quickN: 50_000,
			aio: aioYield,
			bases: []baseline{
				{"Gosched", goGosched},
			},
		},
		{
			name:  "pingpong",
			title: "ping-pong, 2 tasks",
			about: "a value handed back and forth between two tasks, per round trip; Go: two goroutines on unbuffered channels",
			unit:  nsPerOp, n: 300_000, quickN: 20_000,
			aio: aioPingPong,
			bases: []baseline{
				{"2 goroutines", goPingPong},
			},
		},
	}
}

// runTask runs body as the main task of a new loop and closes the loop
// after: it is aio.Run, bounded by runLimit (the task is cancelled then, by
// a timer on another goroutine: a loop timer would make every iteration
// read the clock, which is not what these workloads measure).
func runTask[T any](body func(*aio.Ctx) (T, error)) (T, error) {
	var zero T
	l, err := newLoop()
	if err != nil {
		return zero, err
	}
	defer l.Close()
	t, err := aio.Spawn(l, body)
	if err != nil {
		return zero, fmt.Errorf("spawn: %w", err)
	}
	guard := time.AfterFunc(runLimit, func() { t.Cancel(errTimedOut) })
	v, err := aio.RunUntilComplete(l, t)
	guard.Stop()
	if serr := l.Shutdown(context.Background()); serr != nil {
		err = errors.Join(err, fmt.Errorf("shutdown: %w", serr))
	}
	if cerr := l.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close: %w", cerr))
	}
	return v, err
}

// aioSpawn measures a task's whole life: a task spawns n tasks whose body
// returns at once, then Gathers them all. The time covers the spawns, the
// n task steps (each takes a pooled coroutine, runs the body and completes
// the task's future) and the Gather.
func aioSpawn(n int) (result, error) {
	body := func(*aio.Ctx) (int, error) { return 1, nil }
	aws := make([]aio.Awaitable[int], n)
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		m.start()
		for i := range aws {
			t, err := aio.Spawn(c.Loop(), body)
			if err != nil {
				return 0, fmt.Errorf("spawn: %w", err)
			}
			aws[i] = t
		}
		res, err := aio.Gather(c, aws...)
		m.stop()
		if err != nil {
			return 0, fmt.Errorf("gather: %w", err)
		}
		sum := 0
		for _, v := range res {
			sum += v
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

// goSpawn is the same with goroutines and a WaitGroup.
func goSpawn(n int) (result, error) {
	res := make([]int, n)
	var m meter
	m.start()
	var wg sync.WaitGroup
	for i := range res {
		wg.Go(func() { res[i] = 1 })
	}
	wg.Wait()
	m.stop()
	sum := 0
	for _, v := range res {
		sum += v
	}
	if sum != n {
		return result{}, fmt.Errorf("sum of results %d, want %d", sum, n)
	}
	return m.perOp(n), nil
}

// aioAwaitReady measures Await of a future that is already done, in a task:
// the misuse checks and reading the result, without suspending.
func aioAwaitReady(n int) (result, error) {
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		f := aio.NewFuture[int](c.Loop())
		if err := f.SetResult(1); err != nil {
			return 0, err
		}
		sum := 0
		m.start()
		for range n {
			v, err := aio.Await(c, f)
			if err != nil {
				return 0, fmt.Errorf("await: %w", err)
			}
			sum += v
		}
		m.stop()
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

// goRecvReady is a receive from a buffered channel that holds a value
// already (it is filled before the timing starts).
func goRecvReady(n int) (result, error) {
	ch := make(chan int, n)
	for range n {
		ch <- 1
	}
	sum := 0
	var m meter
	m.start()
	for range n {
		sum += <-ch
	}
	m.stop()
	if sum != n {
		return result{}, fmt.Errorf("sum of values %d, want %d", sum, n)
	}
	return m.perOp(n), nil
}

// aioYield measures Yield in the only task of a loop: each one suspends the
// task, runs one loop iteration, and resumes it (two coroutine switches).
func aioYield(n int) (result, error) {
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		m.start()
		for range n {
			if err := aio.Yield(c); err != nil {
				return 0, fmt.Errorf("yield: %w", err)
			}
		}
		m.stop()
		return 0, nil
	})
	if err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}

// goGosched is runtime.Gosched in a goroutine, Go's nearest thing to a
// yield (with nothing else runnable, it comes straight back).
func goGosched(n int) (result, error) {
	var m meter
	m.start()
	for range n {
		runtime.Gosched()
	}
	m.stop()
	return m.perOp(n), nil
}

// aioPingPong measures one round trip between two tasks through futures:
// the pinger completes a "ping" future and awaits a "pong" future; the
// ponger, awaiting the ping, makes the next ping future and completes the
// pong. Each round makes two futures (futures are one-shot).
func aioPingPong(n int) (result, error) {
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		l := c.Loop()
		ping := aio.NewFuture[int](l)
		var pong *aio.Future[int]
		ponger, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			for range n {
				v, err := aio.Await(c, ping)
				if err != nil {
					return 0, fmt.Errorf("ponger: Await: %w", err)
				}
				ping = aio.NewFuture[int](l)
				if err := pong.SetResult(v); err != nil {
					return 0, fmt.Errorf("ponger: SetResult: %w", err)
				}
			}
			return 0, nil
		})
		if err != nil {
			return 0, fmt.Errorf("spawn: %w", err)
		}
		m.start()
		for i := range n {
			pong = aio.NewFuture[int](l)
			if err := ping.SetResult(i); err != nil {
				return 0, fmt.Errorf("pinger: SetResult: %w", err)
			}
			v, err := aio.Await(c, pong)
			if err != nil {
				return 0, fmt.Errorf("pinger: Await: %w", err)
			}
			if v != i {
				return 0, fmt.Errorf("pinger: got %d, want %d", v, i)
			}
		}
		m.stop()
		_, err = aio.Await(c, ponger)
		return 0, err
	})
	if err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}

// goPingPong is the same between two goroutines over two unbuffered
// channels.
func goPingPong(n int) (result, error) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	var m meter
	m.start()
	for i := range n {
		ping <- i
		if v := <-pong; v != i {
			close(ping)
			return result{}, fmt.Errorf("got %d, want %d", v, i)
		}
	}
	m.stop()
	close(ping)
	return m.perOp(n), nil
}
