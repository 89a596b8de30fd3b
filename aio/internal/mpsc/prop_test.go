package mpsc

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestPropQueueModel runs random sequences of Push, Pop and Empty
// (sequentially, from one goroutine) against a slice. With no
// concurrent Push in progress, Pop and Empty must be exact.
func TestPropQueueModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q Queue[int]
		var model []int
		next := 0
		t.Repeat(map[string]func(*rapid.T){
			"Push": func(t *rapid.T) {
				q.Push(next)
				model = append(model, next)
				next++
			},
			// PushMany crosses segment boundaries within a
			// reasonable number of steps.
			"PushMany": func(t *rapid.T) {
				n := rapid.IntRange(0, 2*segSize).Draw(t, "n")
				for range n {
					q.Push(next)
					model = append(model, next)
					next++
				}
			},
			"Pop": func(t *rapid.T) {
				v, ok := q.Pop()
				if len(model) == 0 {
					if ok {
						t.Fatalf("Pop() = %v, true on empty queue", v)
					}
					return
				}
				if !ok || v != model[0] {
					t.Fatalf("Pop() = %v, %v; want %v, true", v, ok, model[0])
				}
				model = model[1:]
			},
			"PopMany": func(t *rapid.T) {
				n := rapid.IntRange(0, 2*segSize).Draw(t, "n")
				for ; n > 0 && len(model) > 0; n-- {
					v, ok := q.Pop()
					if !ok || v != model[0] {
						t.Fatalf("Pop() = %v, %v; want %v, true", v, ok, model[0])
					}
					model = model[1:]
				}
			},
			"Empty": func(t *rapid.T) {
				if got, want := q.Empty(), len(model) == 0; got != want {
					t.Fatalf("Empty() = %v, want %v (len %d)", got, want, len(model))
				}
			},
			"": func(t *rapid.T) {
				// Invariant: the consumer's position is always
				// within its segment.
				if q.idx < 0 || q.idx > segSize {
					t.Fatalf("idx = %d out of range", q.idx)
				}
			},
		})
	})
}

// item is what the concurrent tests push: who pushed it, and that
// producer's sequence number for it.
type item struct {
	producer, seq int
}

// checker verifies, as items are popped, that each producer's items
// arrive exactly once and in order. It belongs to the consumer.
type checker struct {
	next []int // next expected seq per producer
}

func newChecker(producers int) *checker {
	return &checker{next: make([]int, producers)}
}

func (c *checker) see(it item) error {
	if it.producer < 0 || it.producer >= len(c.next) {
		return fmt.Errorf("popped item from unknown producer %d", it.producer)
	}
	if want := c.next[it.producer]; it.seq != want {
		if it.seq < want {
			return fmt.Errorf("producer %d: seq %d popped again or out of order (expected %d)", it.producer, it.seq, want)
		}
		return fmt.Errorf("producer %d: got seq %d, expected %d: lost or reordered", it.producer, it.seq, want)
	}
	c.next[it.producer]++
	return nil
}

// fill returns per-producer counts, all equal to per.
func fill(producers, per int) []int {
	counts := make([]int, producers)
	for i := range counts {
		counts[i] = per
	}
	return counts
}

// tb is the part of testing.TB and *rapid.T that runConcurrent uses.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// runConcurrent starts len(counts) producers, producer p pushing
// counts[p] items continuing its sequence in c, and drains q on the
// calling goroutine while they run. Items for which skip returns true
// are popped but not checked. When all producers have finished and the
// queue reads empty, it verifies that every item arrived.
func runConcurrent(t tb, q *Queue[item], c *checker, counts []int, skip func(item) bool) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		done  atomic.Bool
		start = make(chan struct{})
	)
	total := 0
	for p, n := range counts {
		total += n
		first := c.next[p]
		wg.Go(func() {
			<-start
			for s := first; s < first+n; s++ {
				q.Push(item{producer: p, seq: s})
			}
		})
	}
	go func() {
		wg.Wait()
		done.Store(true)
	}()
	want := make([]int, len(c.next))
	for p, n := range counts {
		want[p] = c.next[p] + n
	}
	close(start)
	got := 0
	for {
		// Load done before Pop: if all producers had finished before
		// the load, then a failing Pop means the queue is truly empty.
		finished := done.Load()
		it, ok := q.Pop()
		if !ok {
			if finished {
				break
			}
			runtime.Gosched()
			continue
		}
		if skip != nil && skip(it) {
			continue
		}
		if err := c.see(it); err != nil {
			t.Fatal(err)
		}
		got++
	}
	for p := range want {
		if c.next[p] != want[p] {
			t.Fatalf("producer %d: received up to seq %d, pushed up to %d: items lost", p, c.next[p], want[p])
		}
	}
	if got != total {
		t.Fatalf("popped %d items, pushed %d", got, total)
	}
	if !q.Empty() {
		t.Fatal("queue not empty after draining")
	}
}

// TestPropConcurrentProducers pushes from 1 to 8 producers
// concurrently while the consumer drains at the same time. It checks
// that nothing is lost, nothing is duplicated and each producer's
// items arrive in order. The position in the first segment where the
// run starts is drawn too, so producers cross segment boundaries at
// varying points of the run.
func TestPropConcurrentProducers(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		producers := rapid.IntRange(1, 8).Draw(t, "producers")
		counts := rapid.SliceOfN(rapid.IntRange(0, 300), producers, producers).Draw(t, "counts")
		// Rapid favours small numbers, so draw how many slots are
		// left in the first segment rather than how many are used:
		// small values put a segment boundary among the first pushes.
		free := rapid.IntRange(1, segSize).Draw(t, "free")
		var q Queue[item]
		for range segSize - free {
			q.Push(item{})
			q.Pop()
		}
		runConcurrent(t, &q, newChecker(producers), counts, nil)
	})
}

// waker is the sleep/wake-up protocol from the package documentation,
// with a channel standing in for the event loop's poller wake-up.
type waker struct {
	parked atomic.Bool
	wake   chan struct{} // capacity 1: at most one wake-up pending
}

func newWaker() *waker { return &waker{wake: make(chan struct{}, 1)} }

// notify is called by a producer after Push has returned.
func (w *waker) notify() {
	if w.parked.Load() {
		select {
		case w.wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// park is called by the consumer when it found the queue empty. It
// announces that it is going to sleep, checks the queue once more and
// sleeps only if it still reads empty. Stale wake-ups only cause a
// spurious return.
func (w *waker) park(empty func() bool) {
	w.parked.Store(true)
	if empty() {
		<-w.wake
	}
	w.parked.Store(false)
}

// TestWakeProtocol checks the claim in the package documentation: a
// consumer that sleeps whenever Empty reports true is always woken, as
// long as each producer checks parked after its Push returns. That
// includes the case where Empty was true only because a Push was still
// in progress. The work comes in many short rounds, and the consumer
// must drain each round before the next one starts. So every round
// ends with the queue idle, and a missed wake-up is not covered by a
// later Push: it leaves the consumer asleep with items pending.
func TestWakeProtocol(t *testing.T) {
	const producers = 4
	rounds := 20_000
	if testing.Short() {
		rounds = 2_000
	}
	var q Queue[item]
	w := newWaker()
	c := newChecker(producers)
	parks := 0
	for r := range rounds {
		var wg sync.WaitGroup
		total := 0
		for p := range producers {
			n := (r+p)%3 + 1
			first := c.next[p]
			total += n
			wg.Go(func() {
				for s := first; s < first+n; s++ {
					q.Push(item{producer: p, seq: s})
					w.notify()
				}
			})
		}
		for got := 0; got < total; {
			it, ok := q.Pop()
			if !ok {
				w.parked.Store(true)
				if q.Empty() {
					parks++
					select {
					case <-w.wake:
					case <-time.After(10 * time.Second):
						t.Fatalf("round %d: lost wake-up: consumer asleep with %d of %d items received", r, got, total)
					}
				}
				w.parked.Store(false)
				continue
			}
			if err := c.see(it); err != nil {
				t.Fatal(err)
			}
			got++
		}
		wg.Wait()
		if !q.Empty() {
			t.Fatalf("round %d: queue not empty after the round", r)
		}
	}
	t.Logf("consumer slept %d times in %d rounds", parks, rounds)
}

// TestStress is the large version: 8 producers × 100k items.
func TestStress(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping stress test in short mode")
	}
	const producers, per = 8, 100_000
	var q Queue[item]
	runConcurrent(t, &q, newChecker(producers), fill(producers, per), nil)
}
