package main

// Workloads of package aio/queue: items handed from a producer task to a
// consumer task through a bounded queue, beside a buffered Go channel
// between two goroutines.

import (
	"fmt"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/queue"
)

// queueCap is the bound of the queue and the buffer of the channel.
const queueCap = 64

func queueWorkloads() []workload {
	return []workload{
		{
			name:  "queue",
			title: "queue put/get",
			about: "an item handed from a producer task to a consumer task through a queue.Queue bounded at 64 (a Put and a Get); Go: a channel with a buffer of 64 between two goroutines",
			unit:  nsPerOp, n: 2_000_000, quickN: 100_000,
			aio: aioQueue,
			bases: []baseline{
				{"chan (64)", goBufferedChan},
			},
		},
	}
}

// aioQueue measures n items put by the main task and got by a consumer
// task through a FIFO queue bounded at queueCap: the tasks take turns in
// bursts, each suspending when the queue is full or empty and woken by the
// other. The queue's ring buffer reaches the bound during the first burst
// and stays, so the steady state allocates nothing.
func aioQueue(n int) (result, error) {
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		q := queue.NewFIFO[int](queueCap)
		sum := 0
		consumer, err := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			for range n {
				v, err := q.Get(c)
				if err != nil {
					return 0, fmt.Errorf("consumer: Get: %w", err)
				}
				sum += v
			}
			return 0, nil
		})
		if err != nil {
			return 0, fmt.Errorf("spawn: %w", err)
		}
		if err := aio.Yield(c); err != nil { // the consumer starts and waits
			return 0, err
		}
		m.start()
		for i := range n {
			if err := q.Put(c, i); err != nil {
				return 0, fmt.Errorf("producer: Put: %w", err)
			}
		}
		if _, err := aio.Await(c, consumer); err != nil {
			return 0, err
		}
		m.stop()
		if want := n * (n - 1) / 2; sum != want {
			return 0, fmt.Errorf("sum of values got %d, want %d", sum, want)
		}
		return 0, nil
	})
	if err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}

// goBufferedChan is the same between two goroutines over a channel with a
// buffer of queueCap.
func goBufferedChan(n int) (result, error) {
	ch := make(chan int, queueCap)
	done := make(chan int)
	go func() {
		sum := 0
		for v := range ch {
			sum += v
		}
		done <- sum
	}()
	var m meter
	m.start()
	for i := range n {
		ch <- i
	}
	close(ch)
	sum := <-done
	m.stop()
	if want := n * (n - 1) / 2; sum != want {
		return result{}, fmt.Errorf("sum of values got %d, want %d", sum, want)
	}
	return m.perOp(n), nil
}
