package queue_test

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/queue"
)

// Workers take jobs from a bounded queue and mark each one done; the
// producer puts the jobs, waits with Join until all have been processed,
// then shuts the queue down, which ends the workers.
func Example_producerConsumer() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		jobs := queue.NewFIFO[int](2) // Put waits while 2 jobs are queued
		results := map[int]int{}      // tasks share state freely: one runs at a time
		var workers []*aio.Task[int]
		for range 3 {
			t, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				n := 0
				for {
					job, err := jobs.Get(c)
					if errors.Is(err, queue.ErrShutdown) {
						return n, nil
					} else if err != nil {
						return n, err
					}
					results[job] = job * job
					n++
					jobs.TaskDone()
					if err := aio.Yield(c); err != nil { // as if the job took time
						return n, err
					}
				}
			})
			workers = append(workers, t)
		}
		for job := range 10 {
			if err := jobs.Put(c, job); err != nil {
				return struct{}{}, err
			}
		}
		if err := jobs.Join(c); err != nil { // every job processed
			return struct{}{}, err
		}
		fmt.Println("all jobs done:", len(results), "results, 9*9 =", results[9])
		jobs.Shutdown(false)
		counts, err := aio.Gather(c, workers...)
		fmt.Println("jobs per worker add up to", counts[0]+counts[1]+counts[2])
		return struct{}{}, err
	})
	// Output:
	// all jobs done: 10 results, 9*9 = 81
	// jobs per worker add up to 10
}

// A priority queue gives out the most urgent item first, and items of the
// same priority in the order they were put.
func ExampleNewPriority() {
	type job struct {
		prio int
		name string
	}
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		q, err := queue.NewPriority(0, func(a, b job) int { return cmp.Compare(a.prio, b.prio) })
		if err != nil {
			return struct{}{}, err
		}
		for _, j := range []job{{2, "write report"}, {1, "fix outage"}, {3, "lunch"}, {1, "page on-call"}} {
			q.TryPut(j)
		}
		for !q.Empty() {
			j, _ := q.Get(c)
			fmt.Println(j.prio, j.name)
		}
		return struct{}{}, nil
	})
	// Output:
	// 1 fix outage
	// 1 page on-call
	// 2 write report
	// 3 lunch
}

// A graceful shutdown lets the consumer drain what is queued and then tells
// it, with ErrShutdown, that nothing more will come; an immediate one
// returns what was still queued, so that nothing is dropped unseen.
func ExampleQueue_Shutdown() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		q := queue.NewFIFO[string](0)
		consumer, _ := aio.Spawn(c, func(c *aio.Ctx) ([]string, error) {
			var got []string
			for {
				s, err := q.Get(c)
				if err != nil {
					fmt.Println("consumer:", err)
					return got, nil
				}
				got = append(got, s)
			}
		})
		q.TryPut("a")
		q.TryPut("b")
		q.Shutdown(false)
		fmt.Println("Put after Shutdown:", q.TryPut("c"))
		got, _ := aio.Await(c, consumer)
		fmt.Println("drained:", got)

		r := queue.NewLIFO[string](0)
		r.TryPut("x")
		r.TryPut("y")
		fmt.Println("dropped:", r.Shutdown(true), "left:", r.Len())
		_, err := r.Get(c)
		fmt.Println("Get:", err)
		return struct{}{}, nil
	})
	// Output:
	// Put after Shutdown: queue: shut down
	// consumer: queue: shut down
	// drained: [a b]
	// dropped: [y x] left: 0
	// Get: queue: shut down
}
