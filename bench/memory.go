package main

// The memory workload: bytes per suspended task beside bytes per blocked
// goroutine.
//
// Each measurement runs in a fresh child process (this same program,
// re-executed with an environment variable). Within one process the runtime
// never frees a goroutine's g record: an exited goroutine's record is kept
// for the next goroutine, so after any earlier workload has started
// goroutines, new goroutines and coroutines would seem to cost less than
// they do, and whichever side ran second would be favoured.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aiogo/aio/aio"
)

// childEnv names the environment variable that makes this program measure
// one memory figure and print it, instead of running the benchmark.
const childEnv = "AIO_BENCH_MEMORY_CHILD"

func memoryWorkloads() []workload {
	return []workload{{
		name:  "memory",
		title: "memory per task",
		about: "bytes of heap and stack per task suspended in Sleep(1h), each measured in a fresh process; Go: a goroutine blocked on a channel receive",
		unit:  bytesPerOp, n: 10_000, quickN: 1_000,
		aio:      inChild("aio"),
		noWarmup: true,
		bases: []baseline{
			{"goroutine", inChild("go")},
		},
	}}
}

// childMain runs a memory measurement and exits if this process is a child
// started by inChild; otherwise it returns at once. main and TestMain call
// it first.
func childMain() {
	spec, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	kind, count, _ := strings.Cut(spec, ":")
	n, err := strconv.Atoi(count)
	var perOp float64
	switch {
	case err != nil || n <= 0:
		err = fmt.Errorf("bad %s=%q", childEnv, spec)
	case kind == "aio":
		perOp, err = taskMemory(n)
	case kind == "go":
		perOp, err = goroutineMemory(n)
	default:
		err = fmt.Errorf("bad %s=%q", childEnv, spec)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench memory child:", err)
		os.Exit(1)
	}
	fmt.Println(perOp)
	os.Exit(0)
}

// inChild returns a run function that measures kind ("aio" or "go") with n
// tasks or goroutines in a child process.
func inChild(kind string) func(n int) (result, error) {
	return func(n int) (result, error) {
		exe, err := os.Executable()
		if err != nil {
			return result{}, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), runLimit)
		defer cancel()
		cmd := exec.CommandContext(ctx, exe)
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s:%d", childEnv, kind, n))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return result{}, fmt.Errorf("memory child %s: %w: %s", kind, err, strings.TrimSpace(stderr.String()))
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil {
			return result{}, fmt.Errorf("memory child %s: %w", kind, err)
		}
		return result{value: v, allocs: -1}, nil
	}
}

// inUse returns the memory the heap and the goroutine stacks occupy, after
// collecting garbage.
func inUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// perItem returns the growth from before to after, per item.
func perItem(before, after uint64, n int) float64 {
	return (float64(after) - float64(before)) / float64(n)
}

// taskMemory measures the bytes per suspended task: n tasks are spawned from
// a loop callback and each sleeps for an hour; once all are suspended, the
// growth of heap and stack memory in use, divided by n, is the figure. It
// covers the task, its coroutine (a goroutine record and stack), its timer,
// and the loop's queues grown to hold them. The tasks are then cancelled.
func taskMemory(n int) (float64, error) {
	l, err := newLoop()
	if err != nil {
		return 0, err
	}
	defer l.Close()
	tasks := make([]*aio.Task[int], 0, n)
	started := 0
	body := func(c *aio.Ctx) (int, error) {
		started++
		return 0, aio.Sleep(c, time.Hour)
	}
	// A first run, so that what a loop sets up once is not counted.
	if err := runBounded(l, func() bool { return true }); err != nil {
		return 0, err
	}
	var spawnErr error
	spawn := func() {
		for range n {
			t, err := aio.Spawn(l, body)
			if err != nil {
				spawnErr = err
				return
			}
			tasks = append(tasks, t)
		}
	}
	before := inUse()
	if _, err := l.CallSoon(spawn); err != nil {
		return 0, err
	}
	if err := errors.Join(runBounded(l, func() bool { return started == n || spawnErr != nil }), spawnErr); err != nil {
		return 0, err
	}
	after := inUse()
	if _, err := l.CallSoon(func() {
		for _, t := range tasks {
			t.Cancel(nil)
		}
	}); err != nil {
		return 0, err
	}
	cancelled := 0
	err = runBounded(l, func() bool {
		cancelled = 0
		for _, t := range tasks {
			if t.Canceled() {
				cancelled++
			}
		}
		return cancelled == n
	})
	if err != nil {
		return 0, fmt.Errorf("cancelling the tasks: %w (%d of %d cancelled)", err, cancelled, n)
	}
	return perItem(before, after, n), nil
}

// goroutineMemory measures the bytes per goroutine blocked on a channel
// receive, the same way; the goroutines are then released.
func goroutineMemory(n int) (float64, error) {
	ch := make(chan struct{})
	var started, exited sync.WaitGroup
	started.Add(n)
	before := inUse()
	for range n {
		exited.Go(func() {
			started.Done()
			<-ch
		})
	}
	started.Wait()
	after := inUse()
	close(ch)
	exited.Wait()
	return perItem(before, after, n), nil
}
