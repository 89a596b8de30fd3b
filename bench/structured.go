package main

// Workloads of structured concurrency: a task group beside errgroup, a
// timeout that does not fire beside context.WithTimeout, a WaitFor that
// does not expire beside a timer and a select.

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/aiogo/aio/aio"
)

func structuredWorkloads() []workload {
	return []workload{
		{
			name:  "group",
			title: "group of {n} tasks",
			about: "WithGroup: tasks spawned into a group with Go, run, and waited for, per task; Go: errgroup with a goroutine each",
			unit:  nsPerOp, n: 10_000, quickN: 10_000,
			aio: aioGroup,
			bases: []baseline{
				{"errgroup", goErrgroup},
			},
		},
		{
			name:  "timeout",
			title: "timeout, unfired",
			about: "WithTimeout around an Await of a ready future: a timeout scope that does not fire; Go: context.WithTimeout, a ready receive, cancel",
			unit:  nsPerOp, n: 300_000, quickN: 30_000,
			aio: aioTimeout,
			bases: []baseline{
				{"context", goContextTimeout},
			},
		},
		{
			name:  "waitfor",
			title: "WaitFor, unexpired",
			about: "WaitFor of a ready future with a timeout that does not expire; Go: a timer, a select on a ready channel and the timer, Stop",
			unit:  nsPerOp, n: 300_000, quickN: 30_000,
			aio: aioWaitFor,
			bases: []baseline{
				{"timer+select", goTimerSelect},
			},
		},
	}
}

// groupRounds is how many times the group workloads run their n tasks, so
// that one measurement is not a single burst.
const groupRounds = 20

// aioGroup measures a task group of n tasks whose bodies return at once:
// the spawns into the group, the n task steps, and the group's wait.
func aioGroup(n int) (result, error) {
	var m meter
	done := 0
	body := func(*aio.Ctx) error { done++; return nil }
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		m.start()
		for range groupRounds {
			err := aio.WithGroup(c, func(g *aio.Group) error {
				for range n {
					if err := g.Go(body); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return 0, fmt.Errorf("WithGroup: %w", err)
			}
		}
		m.stop()
		return 0, nil
	})
	if err != nil {
		return result{}, err
	}
	if done != n*groupRounds {
		return result{}, fmt.Errorf("%d bodies ran, want %d", done, n*groupRounds)
	}
	return m.perOp(n * groupRounds), nil
}

// goErrgroup is the same with errgroup and a goroutine per task.
func goErrgroup(n int) (result, error) {
	res := make([]int, n)
	var m meter
	m.start()
	for range groupRounds {
		var g errgroup.Group
		for i := range res {
			g.Go(func() error { res[i]++; return nil })
		}
		if err := g.Wait(); err != nil {
			return result{}, err
		}
	}
	m.stop()
	for _, v := range res {
		if v != groupRounds {
			return result{}, fmt.Errorf("a goroutine ran %d times, want %d", v, groupRounds)
		}
	}
	return m.perOp(n * groupRounds), nil
}

// aioTimeout measures WithTimeout around an Await of a ready future: the
// scope's entry and exit, its deadline's timer armed and removed.
func aioTimeout(n int) (result, error) {
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		f := aio.NewFuture[int](c.Loop())
		f.SetResult(1)
		sum := 0
		m.start()
		for range n {
			err := aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error {
				v, err := aio.Await(c, f)
				sum += v
				return err
			})
			if err != nil {
				return 0, fmt.Errorf("WithTimeout: %w", err)
			}
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

// goContextTimeout is a context with a timeout, a receive from a ready
// channel under it, and the cancel.
func goContextTimeout(n int) (result, error) {
	ch := make(chan int, 1)
	parent := context.Background()
	sum := 0
	var m meter
	m.start()
	for range n {
		ch <- 1
		ctx, cancel := context.WithTimeout(parent, time.Hour)
		select {
		case v := <-ch:
			sum += v
		case <-ctx.Done():
		}
		cancel()
	}
	m.stop()
	if sum != n {
		return result{}, fmt.Errorf("sum of values %d, want %d", sum, n)
	}
	return m.perOp(n), nil
}

// aioWaitFor measures WaitFor of a ready future with a timeout of an hour.
func aioWaitFor(n int) (result, error) {
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		f := aio.NewFuture[int](c.Loop())
		f.SetResult(1)
		sum := 0
		m.start()
		for range n {
			v, err := aio.WaitFor[int](c, f, time.Hour)
			if err != nil {
				return 0, fmt.Errorf("WaitFor: %w", err)
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

// goTimerSelect is a timer, a select on a ready channel and the timer's
// channel, and the timer's Stop.
func goTimerSelect(n int) (result, error) {
	ch := make(chan int, 1)
	sum := 0
	var m meter
	m.start()
	for range n {
		ch <- 1
		t := time.NewTimer(time.Hour)
		select {
		case v := <-ch:
			sum += v
		case <-t.C:
		}
		t.Stop()
	}
	m.stop()
	if sum != n {
		return result{}, fmt.Errorf("sum of values %d, want %d", sum, n)
	}
	return m.perOp(n), nil
}
