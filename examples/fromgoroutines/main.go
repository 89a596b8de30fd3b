// Fromgoroutines shows how plain goroutines and a loop work together.
//
// The loop runs on a goroutine of its own, like a server. Several plain
// goroutines submit jobs to it with Spawn (any goroutine may call it) and
// wait for the results, with Task.Wait or by selecting on Task.Done. A job
// runs on the loop and hands its blocking part (here a hash of a large
// buffer with a pause) to a goroutine of its own, which completes a Future
// with SetResult; the job awaits that future, so the loop never blocks.
// Finally the goroutines update state owned by the loop with CallSoon, with
// no lock, and read it back through a task.
package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log"
	"slices"
	"sync"
	"time"

	"github.com/aiogo/aio/aio"
)

// hashJob is a task body. It runs on the loop, so everything blocking goes
// to a plain goroutine that reports back through a future.
func hashJob(input string) func(*aio.Ctx) (string, error) {
	return func(c *aio.Ctx) (string, error) {
		sum := aio.NewFuture[[32]byte](c.Loop())
		go func() {
			time.Sleep(10 * time.Millisecond) // stands for disk or a C library
			data := make([]byte, 1<<20)
			copy(data, input)
			sum.SetResult(sha256.Sum256(data)) // SetResult: any goroutine
		}()
		h, err := aio.Await(c, sum) // suspends this task only
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s -> %x", input, h[:4]), nil
	}
}

func main() {
	l, err := aio.NewLoop()
	if err != nil {
		log.Fatal(err)
	}

	// Run the loop until stopped, then cancel what is left (giving it a
	// second to finish) and close the loop. The loop itself runs on a
	// goroutine and thread of its own; this goroutine waits for it.
	loopDone := make(chan error, 1)
	go func() {
		err := l.RunForever()
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err = l.Shutdown(ctx)
			cancel()
		}
		if cerr := l.Close(); err == nil {
			err = cerr
		}
		loopDone <- err
	}()

	// State owned by the loop: only loop code touches it, so no lock.
	jobsPerWorker := map[string]int{}

	const workers = 4
	results := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			name := fmt.Sprintf("worker-%d", w)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			for j := range 3 {
				t, err := aio.Spawn(l, hashJob(fmt.Sprintf("job %d.%d", w, j)))
				if err != nil {
					log.Fatal(err)
				}
				var r string
				if w%2 == 0 {
					// Wait blocks this goroutine (not the loop) until the
					// task is done or ctx ends.
					r, err = t.Wait(ctx)
				} else {
					// Or select on Done, alongside other channels.
					select {
					case <-t.Done():
						r, err = t.Result()
					case <-ctx.Done():
						t.Cancel(ctx.Err())
						err = ctx.Err()
					}
				}
				if err != nil {
					log.Fatal(err)
				}
				results[w] = append(results[w], r)
				// Count on the loop: the callback runs on the loop goroutine.
				l.CallSoon(func() { jobsPerWorker[name]++ })
			}
		})
	}
	wg.Wait()

	for _, rs := range results {
		for _, r := range rs {
			fmt.Println(r)
		}
	}

	// Read the loop's state through a task, which runs on the loop. It runs
	// after the CallSoon callbacks above: the door keeps their order.
	summary, err := aio.Spawn(l, func(c *aio.Ctx) ([]string, error) {
		var lines []string
		for name, n := range jobsPerWorker {
			lines = append(lines, fmt.Sprintf("%s: %d jobs", name, n))
		}
		slices.Sort(lines)
		return lines, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	lines, err := summary.Wait(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, line := range lines {
		fmt.Println(line)
	}

	l.Stop() // any goroutine
	if err := <-loopDone; err != nil {
		log.Fatal(err)
	}
}
