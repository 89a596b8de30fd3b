package queue_test

import (
	"fmt"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/queue"
)

// BenchmarkPutGet measures one item handed from a producer task to a
// consumer task through a bounded queue (a Put and a Get), beside the same
// between two goroutines through a buffered Go channel. With capacity 1
// every item is a suspension and a wake on each side; with 64, the tasks
// take turns in bursts. In steady state the queue allocates nothing: its
// ring buffer has reached the bound and stays.
func BenchmarkPutGet(b *testing.B) {
	for _, size := range []int{64, 1} {
		b.Run(fmt.Sprintf("queue/cap=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			_, err := aio.Run(func(c *aio.Ctx) (int, error) {
				q := queue.NewFIFO[int](size)
				sum := 0
				consumer, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
					for range b.N {
						v, err := q.Get(c)
						if err != nil {
							return 0, err
						}
						sum += v
					}
					return 0, nil
				})
				aio.Yield(c) // the consumer waits
				b.ResetTimer()
				for i := range b.N {
					if err := q.Put(c, i); err != nil {
						return 0, err
					}
				}
				_, err := aio.Await(c, consumer)
				b.StopTimer()
				if want := b.N * (b.N - 1) / 2; sum != want {
					return 0, fmt.Errorf("sum %d, want %d", sum, want)
				}
				return 0, err
			})
			if err != nil {
				b.Fatal(err)
			}
		})
		b.Run(fmt.Sprintf("chan/cap=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			ch := make(chan int, size)
			done := make(chan int)
			go func() {
				sum := 0
				for v := range ch {
					sum += v
				}
				done <- sum
			}()
			b.ResetTimer()
			for i := range b.N {
				ch <- i
			}
			close(ch)
			sum := <-done
			b.StopTimer()
			if want := b.N * (b.N - 1) / 2; sum != want {
				b.Fatalf("sum %d, want %d", sum, want)
			}
		})
	}
}

// BenchmarkTryPutTryGet measures a TryPut and a TryGet in one task, for
// each order: the cost of the queue itself, with no task switch.
func BenchmarkTryPutTryGet(b *testing.B) {
	for _, tc := range []struct {
		name string
		q    func() *queue.Queue[int]
	}{
		{"FIFO", func() *queue.Queue[int] { return queue.NewFIFO[int](64) }},
		{"LIFO", func() *queue.Queue[int] { return queue.NewLIFO[int](64) }},
		{"priority", func() *queue.Queue[int] {
			q, _ := queue.NewPriority[int](64, func(a, b int) int { return a - b })
			return q
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			_, err := aio.Run(func(c *aio.Ctx) (int, error) {
				q := tc.q()
				for i := range 32 { // a queue half full, so that the heap has depth
					q.TryPut(i)
				}
				b.ResetTimer()
				for i := range b.N {
					if err := q.TryPut(i); err != nil {
						return 0, err
					}
					if _, err := q.TryGet(); err != nil {
						return 0, err
					}
				}
				b.StopTimer()
				return 0, nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}
