package mpsc

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/cpu"
)

// This file compares Queue with the alternatives it was chosen over,
// all measured in the same run:
//
//	mpsc        Queue (segmented array queue); the consumer yields when empty
//	mpscpark    Queue; the consumer sleeps when empty and producers wake it,
//	            as the event loop will (protocol in the package doc)
//	vyukov      vyukovQueue below: Vyukov's intrusive linked-list MPSC queue
//	chan        a buffered channel (cap chanCap), consumer ranges over it
//	mutexslice  a mutex-guarded slice; the consumer swaps it for an empty
//	            spare under the lock (double buffering) and drains outside it
//
// The items are func() values, as in the event loop. The consumer
// calls each one, so every variant pays the same per-item work.

// vyukovQueue is Vyukov's non-intrusive MPSC queue: one node per Push,
// one atomic swap on tail, then the previous node is linked to the new
// one. head is a dummy node whose value has already been consumed.
// Between a producer's Swap and its Store, the nodes after it cannot be
// reached. The consumer sees the queue as empty until the link is made
// (the same "empty for now" as Queue). It is the losing design, kept
// as a baseline.
type vyukovQueue[T any] struct {
	head *vnode[T] // consumer only; nil means &stub
	_    cpu.CacheLinePad
	tail atomic.Pointer[vnode[T]] // nil means &stub
	_    cpu.CacheLinePad
	stub vnode[T]
}

type vnode[T any] struct {
	next atomic.Pointer[vnode[T]]
	val  T
}

func (q *vyukovQueue[T]) Push(v T) {
	n := &vnode[T]{val: v}
	prev := q.tail.Swap(n)
	if prev == nil {
		prev = &q.stub
	}
	prev.next.Store(n)
}

func (q *vyukovQueue[T]) Pop() (v T, ok bool) {
	head := q.head
	if head == nil {
		head = &q.stub
	}
	next := head.next.Load()
	if next == nil {
		return v, false
	}
	q.head = next
	v = next.val
	var zero T
	next.val = zero
	return v, true
}

// mutexSlice is the lock-based baseline.
type mutexSlice[T any] struct {
	mu    sync.Mutex
	items []T
	spare []T // consumer only
}

func (m *mutexSlice[T]) Push(v T) {
	m.mu.Lock()
	m.items = append(m.items, v)
	m.mu.Unlock()
}

// swap returns everything pushed so far. The batch is only valid until
// the next call.
func (m *mutexSlice[T]) swap() []T {
	clear(m.spare)
	m.mu.Lock()
	batch := m.items
	m.items = m.spare[:0]
	m.mu.Unlock()
	m.spare = batch
	return batch
}

const chanCap = 1024

var sink int

func work() { sink++ } // captures nothing: pushing it does not allocate

// split calls start(n) once per producer with that producer's share of
// total items.
func split(total, producers int, start func(n int)) {
	for p := range producers {
		n := total / producers
		if p < total%producers {
			n++
		}
		start(n)
	}
}

type queue interface {
	Push(func())
	Pop() (func(), bool)
}

// posQueue adapts Queue to the queue interface: its Push also returns a
// position, which the benchmarks ignore.
type posQueue struct{ *Queue[func()] }

func (q posQueue) Push(v func()) { q.Queue.Push(v) }

// benchQueue: producers push b.N items in total. The benchmark
// goroutine plays the event loop, draining and yielding when the queue
// reads empty, so that with more goroutines than cores, producers can
// run.
func benchQueue(b *testing.B, producers int, q queue) {
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	split(b.N, producers, func(n int) {
		wg.Go(func() {
			for range n {
				q.Push(work)
			}
		})
	})
	for got := 0; got < b.N; {
		f, ok := q.Pop()
		if !ok {
			runtime.Gosched()
			continue
		}
		f()
		got++
	}
	wg.Wait()
}

// benchQueuePark is benchQueue with a consumer that sleeps when the
// queue reads empty, the way the event loop does, using the wake-up
// protocol from the package documentation (see waker in prop_test.go).
func benchQueuePark(b *testing.B, producers int, q *Queue[func()]) {
	var wg sync.WaitGroup
	w := newWaker()
	b.ReportAllocs()
	b.ResetTimer()
	split(b.N, producers, func(n int) {
		wg.Go(func() {
			for range n {
				q.Push(work)
				w.notify()
			}
		})
	})
	for got := 0; got < b.N; {
		f, ok := q.Pop()
		if !ok {
			w.park(q.Empty)
			continue
		}
		f()
		got++
	}
	wg.Wait()
}

func BenchmarkSubmit(b *testing.B) {
	for _, producers := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("producers=%d/mpsc", producers), func(b *testing.B) {
			benchQueue(b, producers, posQueue{new(Queue[func()])})
		})
		b.Run(fmt.Sprintf("producers=%d/mpscpark", producers), func(b *testing.B) {
			benchQueuePark(b, producers, new(Queue[func()]))
		})
		b.Run(fmt.Sprintf("producers=%d/chan", producers), func(b *testing.B) {
			ch := make(chan func(), chanCap)
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			split(b.N, producers, func(n int) {
				wg.Go(func() {
					for range n {
						ch <- work
					}
				})
			})
			go func() {
				wg.Wait()
				close(ch)
			}()
			for f := range ch {
				f()
			}
		})
		b.Run(fmt.Sprintf("producers=%d/mutexslice", producers), func(b *testing.B) {
			var m mutexSlice[func()]
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			split(b.N, producers, func(n int) {
				wg.Go(func() {
					for range n {
						m.Push(work)
					}
				})
			})
			for got := 0; got < b.N; {
				batch := m.swap()
				if len(batch) == 0 {
					runtime.Gosched()
					continue
				}
				for _, f := range batch {
					f()
				}
				got += len(batch)
			}
			wg.Wait()
		})
		b.Run(fmt.Sprintf("producers=%d/vyukov", producers), func(b *testing.B) {
			benchQueue(b, producers, new(vyukovQueue[func()]))
		})
	}
}

// BenchmarkPushPop measures the uncontended cost: one goroutine pushes
// one item and pops it again.
func BenchmarkPushPop(b *testing.B) {
	b.Run("mpsc", func(b *testing.B) {
		var q Queue[func()]
		b.ReportAllocs()
		for b.Loop() {
			q.Push(work)
			f, _ := q.Pop()
			f()
		}
	})
	b.Run("chan", func(b *testing.B) {
		ch := make(chan func(), chanCap)
		b.ReportAllocs()
		for b.Loop() {
			ch <- work
			f := <-ch
			f()
		}
	})
	b.Run("mutexslice", func(b *testing.B) {
		var m mutexSlice[func()]
		b.ReportAllocs()
		for b.Loop() {
			m.Push(work)
			for _, f := range m.swap() {
				f()
			}
		}
	})
	b.Run("vyukov", func(b *testing.B) {
		var q vyukovQueue[func()]
		b.ReportAllocs()
		for b.Loop() {
			q.Push(work)
			f, _ := q.Pop()
			f()
		}
	})
}

// BenchmarkEmpty is the loop's per-iteration check of an idle queue.
func BenchmarkEmpty(b *testing.B) {
	var q Queue[func()]
	q.Push(work)
	q.Pop()
	for b.Loop() {
		if !q.Empty() {
			b.Fatal("not empty")
		}
	}
}
