package mpsc

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestZeroValue(t *testing.T) {
	var q Queue[int]
	if !q.Empty() {
		t.Fatal("zero Queue: Empty() = false")
	}
	if v, ok := q.Pop(); ok {
		t.Fatalf("zero Queue: Pop() = %v, true", v)
	}
	q.Push(42)
	if q.Empty() {
		t.Fatal("after Push: Empty() = true")
	}
	if v, ok := q.Pop(); !ok || v != 42 {
		t.Fatalf("Pop() = %v, %v; want 42, true", v, ok)
	}
	if !q.Empty() {
		t.Fatal("after draining: Empty() = false")
	}
}

func TestPopEmpty(t *testing.T) {
	var q Queue[string]
	for range 3 {
		if v, ok := q.Pop(); ok || v != "" {
			t.Fatalf("Pop() on empty = %q, %v", v, ok)
		}
	}
	// A value waiting at the start of the next segment while the
	// consumer sits at the end of the previous one.
	for range segSize {
		q.Push("x")
	}
	for range segSize {
		q.Pop()
	}
	if !q.Empty() {
		t.Fatal("Empty() = false at drained segment end")
	}
	q.Push("y")
	if q.Empty() {
		t.Fatal("Empty() = true with a value in the next segment")
	}
	if v, ok := q.Pop(); !ok || v != "y" {
		t.Fatalf("Pop() = %q, %v; want \"y\", true", v, ok)
	}

	// Empty again after draining, including exactly at a segment
	// boundary (idx == segSize with no next segment yet).
	for _, n := range []int{1, segSize - 1, 1, segSize, 3} {
		for i := range n {
			q.Push(string(rune('a' + i%26)))
		}
		for range n {
			if _, ok := q.Pop(); !ok {
				t.Fatal("Pop() failed on non-empty queue")
			}
		}
		for range 3 {
			if !q.Empty() {
				t.Fatal("drained queue: Empty() = false")
			}
			if v, ok := q.Pop(); ok {
				t.Fatalf("drained queue: Pop() = %q, true", v)
			}
		}
	}
}

func TestFIFOSingleProducer(t *testing.T) {
	var q Queue[int]
	// Interleave bursts of pushes and pops of varying sizes so that
	// both the producer and the consumer cross segment boundaries
	// at many different offsets.
	next, want := 0, 0
	for burst := 1; burst < 4*segSize; burst = burst*3/2 + 1 {
		for range burst {
			q.Push(next)
			next++
		}
		for range burst / 2 {
			v, ok := q.Pop()
			if !ok || v != want {
				t.Fatalf("Pop() = %v, %v; want %v, true", v, ok, want)
			}
			want++
		}
	}
	for want < next {
		v, ok := q.Pop()
		if !ok || v != want {
			t.Fatalf("Pop() = %v, %v; want %v, true", v, ok, want)
		}
		want++
	}
	if v, ok := q.Pop(); ok {
		t.Fatalf("Pop() after draining = %v, true", v)
	}
}

// TestPopZeroesSlot checks the queue's own storage directly: a popped
// slot must not keep its value alive.
func TestPopZeroesSlot(t *testing.T) {
	var q Queue[*int]
	for i := range 2*segSize + 5 {
		q.Push(&i)
	}
	for range 2*segSize + 5 {
		seg, idx := q.head.Load(), q.idx
		if idx == segSize {
			seg, idx = seg.next.Load(), 0
		}
		if _, ok := q.Pop(); !ok {
			t.Fatal("Pop() failed")
		}
		if p := seg.slots[idx].val; p != nil {
			t.Fatalf("slot %d still holds %p after Pop", idx, p)
		}
	}
}

// TestPopReleasesValue checks, from the outside, that a value popped
// from a still-live queue can be garbage collected. The queue goes
// idle partway through a segment, which is exactly when a slot that
// had not been zeroed would pin a closure indefinitely.
func TestPopReleasesValue(t *testing.T) {
	var q Queue[func() int]
	released := make(chan struct{})
	func() {
		x := new([64]int) // big enough to get its own allocation
		x[0] = 7
		f := func() int { return x[0] }
		runtime.AddCleanup(x, func(struct{}) { close(released) }, struct{}{})
		q.Push(f)
		q.Push(func() int { return 0 })
		g, ok := q.Pop()
		if !ok || g() != 7 {
			t.Fatal("Pop() did not return the pushed closure")
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		select {
		case <-released:
			runtime.KeepAlive(&q)
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("popped value was never released: the queue still references it")
		}
	}
}

// TestStaleSegmentPointer exercises claimSlow's helping paths without
// relying on a lucky interleaving: a producer that still holds a
// segment the consumer finished with long ago, and a producer that
// finds the next segment linked but tail not yet moved (as when the
// linking producer is preempted between its two CASes).
func TestStaleSegmentPointer(t *testing.T) {
	var q Queue[int]
	q.Push(0)
	first := q.tail.Load()
	n := 1
	for ; n < 3*segSize; n++ {
		q.Push(n)
	}
	popped := 0
	for ; popped < n/2; popped++ {
		if v, ok := q.Pop(); !ok || v != popped {
			t.Fatalf("Pop() = %v, %v; want %v", v, ok, popped)
		}
	}
	// A lagging producer with a pointer to the long-dead first
	// segment.
	sl, _ := q.claimSlow(first)
	sl.val = n
	sl.ready.Store(1)
	n++

	// Fill the tail segment exactly, then link a successor but leave
	// tail behind, as a preempted linker would.
	cur := q.tail.Load()
	for cur.claimed.Load() < segSize {
		q.Push(n)
		n++
	}
	if q.tail.Load() != cur {
		t.Fatal("tail moved before the segment overflowed")
	}
	linked := new(segment[int])
	linked.claimed.Store(1)
	linked.slots[0].val = n
	linked.slots[0].ready.Store(1)
	n++
	cur.next.Store(linked)
	q.Push(n) // must help move tail, then claim slot 1 of linked
	n++
	if q.tail.Load() != linked {
		t.Fatal("Push did not help move tail to the linked segment")
	}
	for want := popped; want < n; want++ {
		if v, ok := q.Pop(); !ok || v != want {
			t.Fatalf("Pop() = %v, %v; want %v", v, ok, want)
		}
	}
	if !q.Empty() {
		t.Fatal("queue not empty at end")
	}
	// The lagging producer made one failed claim on the dead segment;
	// that is all.
	if c := first.claimed.Load(); c != segSize+1 {
		t.Fatalf("first.claimed = %d, want %d", c, segSize+1)
	}
}

// TestLinkRaceLoser forces the race to link a new segment: while
// producer A is about to link its segment, producer B (run from the
// hook) overflows the same full segment and links its own first. A
// must drop its segment and claim a slot in B's, after B's value.
func TestLinkRaceLoser(t *testing.T) {
	var q Queue[int]
	for i := range segSize {
		q.Push(i)
	}
	full := q.tail.Load()
	calls := 0
	testHookBeforeLink = func() {
		calls++
		if calls == 1 {
			q.Push(-2) // B: reenters the hook (calls == 2) and wins
		}
	}
	defer func() { testHookBeforeLink = nil }()
	q.Push(-1) // A
	if calls != 2 {
		t.Fatalf("hook ran %d times, want 2", calls)
	}
	next := full.next.Load()
	if next == nil || q.tail.Load() != next || next.claimed.Load() != 2 {
		t.Fatal("loser did not end up in the winner's segment")
	}
	for i := range segSize {
		if v, ok := q.Pop(); !ok || v != i {
			t.Fatalf("Pop() = %v, %v; want %v", v, ok, i)
		}
	}
	for _, want := range []int{-2, -1} {
		if v, ok := q.Pop(); !ok || v != want {
			t.Fatalf("Pop() = %v, %v; want %v", v, ok, want)
		}
	}
	if !q.Empty() {
		t.Fatal("queue not empty at end")
	}
}

// TestConcurrentFirstPush races producers through lazyInit on fresh
// zero Queues.
func TestConcurrentFirstPush(t *testing.T) {
	rounds := 200
	if testing.Short() {
		rounds = 20
	}
	for r := range rounds {
		var q Queue[item]
		runConcurrent(t, &q, newChecker(8), fill(8, 1+r%segSize), nil)
	}
}

// TestSegmentBoundaryRace makes many producers start at the same
// moment right before a segment boundary, many times over, so that
// several overflow the segment at once and race to link the next one
// while the consumer drains concurrently.
func TestSegmentBoundaryRace(t *testing.T) {
	const producers = 16
	rounds := 200
	if testing.Short() {
		rounds = 20
	}
	var q Queue[item]
	c := newChecker(producers)
	for r := range rounds {
		// Leave a few free slots in the current segment so the
		// round's pushes straddle the boundary.
		free := r%(producers+1) + 1
		for q.tail.Load() == nil || int(q.tail.Load().claimed.Load()) != segSize-free {
			q.Push(item{producer: -1})
		}
		per := 1 + r%3
		runConcurrent(t, &q, c, fill(producers, per), func(it item) bool { return it.producer < 0 })
	}
}

// TestPushPositions checks that Push returns each value's position in pop
// order, across segment boundaries and with concurrent producers.
func TestPushPositions(t *testing.T) {
	const producers, each = 8, 3 * segSize
	// Single-producer check, where values can carry their positions.
	var q2 Queue[uint64]
	for i := range uint64(5*segSize + 7) {
		if pos := q2.Push(i); pos != i {
			t.Fatalf("Push #%d returned position %d", i, pos)
		}
	}
	for i := range uint64(5*segSize + 7) {
		if v, ok := q2.Pop(); !ok || v != i {
			t.Fatalf("Pop #%d = %d, %v", i, v, ok)
		}
	}
	// Concurrent: positions are unique and cover 0..n-1.
	var q3 Queue[*uint64]
	var mu sync.Mutex
	seen := make(map[uint64]bool)
	var wg3 sync.WaitGroup
	for range producers {
		wg3.Go(func() {
			for range each {
				p := new(uint64)
				*p = q3.Push(p) // written after Push: read only after wg3.Wait
				mu.Lock()
				if seen[*p] {
					t.Errorf("position %d returned twice", *p)
				}
				seen[*p] = true
				mu.Unlock()
			}
		})
	}
	wg3.Wait()
	for i := range uint64(producers * each) {
		p, ok := q3.Pop()
		if !ok || *p != i {
			t.Fatalf("pop #%d: position %v, ok %v", i, p, ok)
		}
	}
}

// TestPending checks Pending against a model: it reports true exactly
// while some claimed position has not been popped, including a position
// reserved and not yet published.
func TestPending(t *testing.T) {
	var q Queue[int]
	if q.Pending() {
		t.Fatal("zero Queue: Pending() = true")
	}
	for _, n := range []int{1, segSize - 1, 1, segSize, 2*segSize + 3} {
		for i := range n {
			q.Push(i)
		}
		for i := range n {
			if !q.Pending() {
				t.Fatalf("n=%d: Pending() = false with %d values left", n, n-i)
			}
			q.Pop()
		}
		if q.Pending() {
			t.Fatalf("n=%d: Pending() = true on a drained queue", n)
		}
	}
	pos, publish := q.Reserve()
	if !q.Pending() || !q.Empty() {
		t.Fatalf("with only a reserved slot: Pending() = %v, Empty() = %v; want true, true", q.Pending(), q.Empty())
	}
	if q.Popped(pos) {
		t.Fatal("Popped(reserved position) = true")
	}
	publish(1)
	if v, p, ok := q.PopPos(); !ok || v != 1 || p != pos {
		t.Fatalf("PopPos() = %v, %d, %v; want 1, %d, true", v, p, ok, pos)
	}
	if q.Pending() || !q.Popped(pos) {
		t.Fatalf("after popping it: Pending() = %v, Popped = %v", q.Pending(), q.Popped(pos))
	}
}

// TestSkipUnpublished: a slot whose producer has claimed it and not
// published it (a paused producer) does not hide the values published
// after it. They are taken first; the paused one is taken when it is
// published, and Pending reports it until then.
func TestSkipUnpublished(t *testing.T) {
	for _, start := range []int{0, segSize - 1, segSize - 2} {
		var q Queue[int]
		for range start {
			q.Push(-1)
			q.Pop()
		}
		pos, publish := q.Reserve()
		a := q.Push(10)
		b := q.Push(11)
		if q.Empty() {
			t.Fatalf("start %d: Empty() = true with values published behind a reserved slot", start)
		}
		for _, want := range []struct {
			v   int
			pos uint64
		}{{10, a}, {11, b}} {
			if v, p, ok := q.PopPos(); !ok || v != want.v || p != want.pos {
				t.Fatalf("start %d: PopPos() = %v, %d, %v; want %v, %d", start, v, p, ok, want.v, want.pos)
			}
		}
		if _, ok := q.Pop(); ok || !q.Empty() || !q.Pending() || q.Popped(pos) || !q.Popped(a) {
			t.Fatalf("start %d: with only the reserved slot left: Empty %v Pending %v Popped(reserved) %v Popped(a) %v",
				start, q.Empty(), q.Pending(), q.Popped(pos), q.Popped(a))
		}
		c := q.Push(12)
		publish(9)
		// The hole was published before 12 was seen: it comes first.
		if v, p, ok := q.PopPos(); !ok || v != 9 || p != pos {
			t.Fatalf("start %d: PopPos() = %v, %d, %v; want the published hole 9 at %d", start, v, p, ok, pos)
		}
		if v, p, ok := q.PopPos(); !ok || v != 12 || p != c {
			t.Fatalf("start %d: PopPos() = %v, %d, %v; want 12 at %d", start, v, p, ok, c)
		}
		if q.Pending() || !q.Empty() {
			t.Fatalf("start %d: drained queue: Pending %v Empty %v", start, q.Pending(), q.Empty())
		}
	}
}

// TestSkipReachIsBounded: the consumer looks at most maxScan slots past an
// unpublished one.
func TestSkipReachIsBounded(t *testing.T) {
	var q Queue[int]
	var publish []func(int)
	for range maxScan + 1 {
		_, p := q.Reserve()
		publish = append(publish, p)
	}
	q.Push(1) // maxScan+1 slots after the frontier: out of reach
	if _, ok := q.Pop(); ok {
		t.Fatal("Pop reached past maxScan unpublished slots")
	}
	publish[maxScan](2) // maxScan slots after the frontier: in reach
	if v, ok := q.Pop(); !ok || v != 2 {
		t.Fatalf("Pop() = %v, %v; want the published 2", v, ok)
	}
	if v, ok := q.Pop(); !ok || v != 1 {
		t.Fatalf("Pop() = %v, %v; want 1", v, ok)
	}
	for i := range maxScan {
		publish[i](100 + i)
	}
	for i := range maxScan {
		if v, ok := q.Pop(); !ok || v != 100+i {
			t.Fatalf("Pop() = %v, %v; want %d", v, ok, 100+i)
		}
	}
	if !q.Empty() || q.Pending() {
		t.Fatal("queue not drained")
	}
}
