package heap

// Benchmarks of Heap beside a container/heap implementation of the same
// work: the same (when, seq) order, an index kept in each item for
// O(log n) removal, items of the same size allocated one by one, and the
// same precomputed deadlines.
//
// Each benchmark has an "aio" and a "container" sub-benchmark:
//
//	go test -run '^$' -bench . -benchmem ./aio/internal/heap/

import (
	stdheap "container/heap"
	"math/rand/v2"
	"testing"
	"time"
)

// timer stands in for the loop's timer handle: the entry is embedded, its
// Value points back at the handle, and the rest is payload. It is 80 bytes
// with its allocation class, like chTimer.
type timer struct {
	entry Entry[*timer]
	_     [48]byte
}

func newTimers(n int) []*timer {
	ts := make([]*timer, n)
	for i := range ts {
		ts[i] = &timer{}
		ts[i].entry.Value = ts[i]
	}
	return ts
}

// chTimer is the baseline's timer handle.
type chTimer struct {
	when  int64
	seq   uint64
	index int // position in chHeap.s, -1 when not queued
	_     [48]byte
}

func newCHTimers(n int) []*chTimer {
	ts := make([]*chTimer, n)
	for i := range ts {
		ts[i] = &chTimer{index: -1}
	}
	return ts
}

// chHeap is the baseline: a container/heap.Interface ordered like Heap.
type chHeap struct {
	s   []*chTimer
	seq uint64
}

func (h *chHeap) Len() int { return len(h.s) }

func (h *chHeap) Less(i, j int) bool {
	a, b := h.s[i], h.s[j]
	return a.when < b.when || a.when == b.when && a.seq < b.seq
}

func (h *chHeap) Swap(i, j int) {
	h.s[i], h.s[j] = h.s[j], h.s[i]
	h.s[i].index = i
	h.s[j].index = j
}

func (h *chHeap) Push(x any) {
	t := x.(*chTimer)
	t.index = len(h.s)
	h.s = append(h.s, t)
}

func (h *chHeap) Pop() any {
	n := len(h.s) - 1
	t := h.s[n]
	h.s[n] = nil
	h.s = h.s[:n]
	t.index = -1
	return t
}

func (h *chHeap) push(t *chTimer, when int64) {
	h.seq++
	t.when, t.seq = when, h.seq
	stdheap.Push(h, t)
}

func (h *chHeap) pop() *chTimer { return stdheap.Pop(h).(*chTimer) }

func (h *chHeap) remove(t *chTimer) { stdheap.Remove(h, t.index) }

// delays is a table of random timer delays in [1, 2^20), about a
// millisecond in nanoseconds; its length is a power of two so that
// delays[i&delayMask] is cheap.
var delays = func() []int64 {
	r := rand.New(rand.NewPCG(1, 2))
	d := make([]int64, 1<<16)
	for i := range d {
		d[i] = 1 + r.Int64N(1<<20-1)
	}
	return d
}()

const delayMask = 1<<16 - 1

var sizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"100k", 100_000}}

// BenchmarkPushPop measures the steady state of a loop with n pending
// timers: pop the earliest and schedule it again a random delay later.
func BenchmarkPushPop(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name+"/aio", func(b *testing.B) {
			var h Heap[*timer]
			for i, t := range newTimers(sz.n) {
				h.Push(&t.entry, delays[i&delayMask])
			}
			for i := 0; b.Loop(); i++ {
				e := h.Pop()
				h.Push(e, e.When()+delays[i&delayMask])
			}
		})
		b.Run(sz.name+"/container", func(b *testing.B) {
			var h chHeap
			for i, t := range newCHTimers(sz.n) {
				h.push(t, delays[i&delayMask])
			}
			for i := 0; b.Loop(); i++ {
				t := h.pop()
				h.push(t, t.when+delays[i&delayMask])
			}
		})
	}
}

// BenchmarkPushPopAll pushes 100k timers with random deadlines and pops
// them all; ns/entry is ns/op divided by 100k. ns/push and ns/pop split it
// by phase. A first round, untimed, grows the backing arrays, so the
// allocation columns show the steady state.
func BenchmarkPushPopAll(b *testing.B) {
	const n = 100_000
	b.Run("100k/aio", func(b *testing.B) {
		ts := newTimers(n)
		var h Heap[*timer]
		for _, t := range ts {
			h.Push(&t.entry, 0)
		}
		for h.Pop() != nil {
		}
		var push, pop time.Duration
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			for j, t := range ts {
				h.Push(&t.entry, delays[(i+j)&delayMask])
			}
			mid := time.Now()
			for h.Pop() != nil {
			}
			push += mid.Sub(start)
			pop += time.Since(mid)
		}
		reportPerEntry(b, n, push, pop)
	})
	b.Run("100k/container", func(b *testing.B) {
		ts := newCHTimers(n)
		var h chHeap
		for _, t := range ts {
			h.push(t, 0)
		}
		for h.Len() > 0 {
			h.pop()
		}
		var push, pop time.Duration
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			for j, t := range ts {
				h.push(t, delays[(i+j)&delayMask])
			}
			mid := time.Now()
			for h.Len() > 0 {
				h.pop()
			}
			push += mid.Sub(start)
			pop += time.Since(mid)
		}
		reportPerEntry(b, n, push, pop)
	})
}

func reportPerEntry(b *testing.B, n int, push, pop time.Duration) {
	entries := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/entries, "ns/entry")
	b.ReportMetric(float64(push.Nanoseconds())/entries, "ns/push")
	b.ReportMetric(float64(pop.Nanoseconds())/entries, "ns/pop")
}

// BenchmarkRemove cancels a random timer of a 100k heap and schedules it
// again at a random deadline.
func BenchmarkRemove(b *testing.B) {
	const n = 100_000
	perm := rand.New(rand.NewPCG(3, 4)).Perm(n)
	b.Run("100k/aio", func(b *testing.B) {
		ts := newTimers(n)
		var h Heap[*timer]
		for i, t := range ts {
			h.Push(&t.entry, delays[i&delayMask])
		}
		for i := 0; b.Loop(); i++ {
			e := &ts[perm[i%n]].entry
			h.Remove(e)
			h.Push(e, delays[(i+n)&delayMask])
		}
	})
	b.Run("100k/container", func(b *testing.B) {
		ts := newCHTimers(n)
		var h chHeap
		for i, t := range ts {
			h.push(t, delays[i&delayMask])
		}
		for i := 0; b.Loop(); i++ {
			t := ts[perm[i%n]]
			h.remove(t)
			h.push(t, delays[(i+n)&delayMask])
		}
	})
}

// BenchmarkPush schedules one timer a random delay from now into a heap of
// 100k pending timers, the cost the loop pays in call_later. Every 1024
// pushes the extra timers are removed again with the clock stopped, so the
// heap stays between 100k and 100k+1024 entries.
func BenchmarkPush(b *testing.B) {
	const n, k = 100_000, 1024
	b.Run("100k/aio", func(b *testing.B) {
		ts := newTimers(n + k)
		var h Heap[*timer]
		for i, t := range ts[:n] {
			h.Push(&t.entry, delays[i&delayMask])
		}
		extra := ts[n:]
		for i := 0; b.Loop(); i++ {
			if i%k == 0 && i > 0 {
				b.StopTimer()
				for _, t := range extra {
					h.Remove(&t.entry)
				}
				b.StartTimer()
			}
			h.Push(&extra[i%k].entry, delays[(i+n)&delayMask])
		}
	})
	b.Run("100k/container", func(b *testing.B) {
		ts := newCHTimers(n + k)
		var h chHeap
		for i, t := range ts[:n] {
			h.push(t, delays[i&delayMask])
		}
		extra := ts[n:]
		for i := 0; b.Loop(); i++ {
			if i%k == 0 && i > 0 {
				b.StopTimer()
				for _, t := range extra {
					h.remove(t)
				}
				b.StartTimer()
			}
			h.push(extra[i%k], delays[(i+n)&delayMask])
		}
	})
}
