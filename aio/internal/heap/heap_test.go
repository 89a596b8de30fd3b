package heap

import (
	"math"
	"slices"
	"testing"
)

// build pushes one entry per deadline, in order, with Value set to the
// entry's position in whens, and returns the entries.
func build(t *testing.T, h *Heap[int], whens []int64) []*Entry[int] {
	t.Helper()
	es := make([]*Entry[int], len(whens))
	for i, w := range whens {
		es[i] = &Entry[int]{Value: i}
		h.Push(es[i], w)
		mustVerify(t, h)
	}
	return es
}

// drain pops every entry of h and returns their Values in pop order.
func drain(t *testing.T, h *Heap[int]) []int {
	t.Helper()
	var ids []int
	for h.Len() > 0 {
		peek := h.Peek()
		e := h.Pop()
		if e != peek {
			t.Fatalf("Pop returned %v, Peek returned %v", e.Value, peek.Value)
		}
		if e.Queued() {
			t.Fatalf("entry %d still queued after Pop", e.Value)
		}
		mustVerify(t, h)
		ids = append(ids, e.Value)
	}
	return ids
}

func mustVerify[V any](t *testing.T, h *Heap[V]) {
	t.Helper()
	if err := h.verify(); err != nil {
		t.Fatal(err)
	}
}

// mustPanic fails t unless f panics.
func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", name)
		}
	}()
	f()
}

func TestEmpty(t *testing.T) {
	var h Heap[int]
	if h.Len() != 0 {
		t.Errorf("Len = %d, want 0", h.Len())
	}
	if e := h.Peek(); e != nil {
		t.Errorf("Peek = %v, want nil", e)
	}
	if e := h.Pop(); e != nil {
		t.Errorf("Pop = %v, want nil", e)
	}
	var e Entry[int]
	if e.Queued() || e.When() != 0 {
		t.Errorf("zero Entry: Queued = %v, When = %d; want false, 0", e.Queued(), e.When())
	}
	if h.Remove(&e) {
		t.Error("Remove of an unqueued entry from an empty heap = true")
	}
	mustVerify(t, &h)
}

func TestPopOrder(t *testing.T) {
	tests := []struct {
		name  string
		whens []int64
		want  []int // Values in pop order
	}{
		{"single", []int64{5}, []int{0}},
		{"ascending", []int64{1, 2, 3, 4, 5}, []int{0, 1, 2, 3, 4}},
		{"descending", []int64{5, 4, 3, 2, 1}, []int{4, 3, 2, 1, 0}},
		{"equal deadlines keep push order", []int64{7, 7, 7, 7, 7, 7, 7, 7, 7, 7}, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"ties among others", []int64{3, 1, 3, 2, 1, 3, 2, 1}, []int{1, 4, 7, 3, 6, 0, 2, 5}},
		{"negative", []int64{-1, -5, 0, -5, 3}, []int{1, 3, 0, 2, 4}},
		{"extremes", []int64{math.MaxInt64, 0, math.MinInt64, math.MaxInt64, math.MinInt64, -1},
			[]int{2, 4, 5, 1, 0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Heap[int]
			es := build(t, &h, tt.whens)
			if h.Len() != len(tt.whens) {
				t.Fatalf("Len = %d, want %d", h.Len(), len(tt.whens))
			}
			for i, e := range es {
				if !e.Queued() || e.When() != tt.whens[i] {
					t.Fatalf("entry %d: Queued = %v, When = %d", i, e.Queued(), e.When())
				}
			}
			if got := drain(t, &h); !slices.Equal(got, tt.want) {
				t.Errorf("pop order = %v, want %v", got, tt.want)
			}
			for i, e := range es {
				if e.When() != tt.whens[i] {
					t.Errorf("entry %d: When after Pop = %d, want %d", i, e.When(), tt.whens[i])
				}
			}
		})
	}
}

func TestRemove(t *testing.T) {
	// Pushed in ascending order, entry i stays in slot i: the heap is
	// three levels deep and entry 0 is the head.
	var ascending []int64
	for i := range 21 {
		ascending = append(ascending, int64(i))
	}
	// Slot 1 (10) roots the subtree of slots 5..8 (11); slot 9 (2) is
	// the last slot, under slot 2 (1). Removing slot 5 moves slot 9 into
	// it, below 10, so it must move up.
	lastMovesUp := []int64{0, 10, 1, 1, 1, 11, 11, 11, 11, 2}
	slot := func(i int) func(h *Heap[int]) *Entry[int] {
		return func(h *Heap[int]) *Entry[int] { return h.s[i].e }
	}
	tests := []struct {
		name   string
		whens  []int64
		remove func(h *Heap[int]) *Entry[int] // picks the entry to remove
		ok     bool
	}{
		{"head", ascending, slot(0), true},
		{"middle", ascending, slot(2), true},
		{"deep", ascending, slot(7), true},
		{"last slot", ascending, slot(20), true},
		{"middle, last moves up", lastMovesUp, slot(5), true},
		{"only entry", []int64{1}, slot(0), true},
		{"not queued", ascending, func(*Heap[int]) *Entry[int] { return &Entry[int]{Value: -1} }, false},
		{"already popped", ascending, func(h *Heap[int]) *Entry[int] { return h.Pop() }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Heap[int]
			build(t, &h, tt.whens)
			e := tt.remove(&h)
			n := h.Len()
			var want []modelEntry
			for _, sl := range h.s {
				if sl.e != e {
					want = append(want, modelEntry{sl.when, sl.e.rank, sl.seq, sl.e.Value})
				}
			}
			slices.SortFunc(want, compareModel)
			if got := h.Remove(e); got != tt.ok {
				t.Fatalf("Remove = %v, want %v", got, tt.ok)
			}
			mustVerify(t, &h)
			if e.Queued() {
				t.Error("entry still queued after Remove")
			}
			if wantN := n - btoi(tt.ok); h.Len() != wantN {
				t.Errorf("Len = %d, want %d", h.Len(), wantN)
			}
			if h.Remove(e) {
				t.Error("second Remove = true")
			}
			got := drain(t, &h)
			if len(got) != len(want) {
				t.Fatalf("popped %d entries, want %d", len(got), len(want))
			}
			for i, w := range want {
				if got[i] != w.id {
					t.Fatalf("pop order = %v, want %v", got, want)
				}
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestReschedule(t *testing.T) {
	tests := []struct {
		name  string
		whens []int64
		id    int   // entry to reschedule; -1 for a fresh unqueued entry
		when  int64 // new deadline
		want  []int // pop order; the fresh entry is -1
	}{
		{"earlier", []int64{10, 20, 30, 40}, 3, 5, []int{3, 0, 1, 2}},
		{"later", []int64{10, 20, 30, 40}, 0, 35, []int{1, 2, 0, 3}},
		{"to a tie goes last", []int64{10, 20, 20, 30}, 3, 20, []int{0, 1, 2, 3}},
		{"same deadline goes after its ties", []int64{5, 5, 5, 1}, 0, 5, []int{3, 1, 2, 0}},
		{"same deadline, only one", []int64{1, 2, 3}, 1, 2, []int{0, 1, 2}},
		{"head to the back", []int64{1, 2, 3, 4, 5, 6}, 0, math.MaxInt64, []int{1, 2, 3, 4, 5, 0}},
		{"leaf to the front", []int64{1, 2, 3, 4, 5, 6}, 5, math.MinInt64, []int{5, 0, 1, 2, 3, 4}},
		{"not queued pushes", []int64{1, 2, 3}, -1, 2, []int{0, 1, -1, 2}},
		{"not queued into empty", nil, -1, 0, []int{-1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Heap[int]
			es := build(t, &h, tt.whens)
			e := &Entry[int]{Value: -1}
			if tt.id >= 0 {
				e = es[tt.id]
			}
			n := h.Len()
			h.Reschedule(e, tt.when)
			mustVerify(t, &h)
			if !e.Queued() || e.When() != tt.when {
				t.Errorf("after Reschedule: Queued = %v, When = %d; want true, %d", e.Queued(), e.When(), tt.when)
			}
			if wantN := n + btoi(tt.id < 0); h.Len() != wantN {
				t.Errorf("Len = %d, want %d", h.Len(), wantN)
			}
			if got := drain(t, &h); !slices.Equal(got, tt.want) {
				t.Errorf("pop order = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPushQueuedPanics(t *testing.T) {
	var h, other Heap[int]
	e := &Entry[int]{}
	h.Push(e, 1)
	mustPanic(t, "Push into the same heap", func() { h.Push(e, 2) })
	mustPanic(t, "Push into another heap", func() { other.Push(e, 2) })
	mustVerify(t, &h)
	mustVerify(t, &other)
	if h.Len() != 1 || other.Len() != 0 || e.When() != 1 {
		t.Errorf("panicking Push changed state: Len %d, %d; When %d", h.Len(), other.Len(), e.When())
	}
}

func TestOtherHeapPanics(t *testing.T) {
	var h, other Heap[int]
	es := build(t, &h, []int64{1, 2, 3})
	build(t, &other, []int64{1, 2, 3, 4, 5})
	for _, e := range es {
		mustPanic(t, "Remove from another heap", func() { other.Remove(e) })
		mustPanic(t, "Reschedule in another heap", func() { other.Reschedule(e, 0) })
	}
	mustVerify(t, &h)
	mustVerify(t, &other)
	if h.Len() != 3 || other.Len() != 5 {
		t.Errorf("Len = %d, %d; want 3, 5", h.Len(), other.Len())
	}
}

func TestQueuedTransitions(t *testing.T) {
	var h Heap[string]
	e := &Entry[string]{Value: "x"}
	steps := []struct {
		name   string
		op     func()
		queued bool
	}{
		{"zero value", func() {}, false},
		{"Push", func() { h.Push(e, 3) }, true},
		{"Reschedule", func() { h.Reschedule(e, 4) }, true},
		{"Pop", func() { h.Pop() }, false},
		{"Reschedule unqueued", func() { h.Reschedule(e, 5) }, true},
		{"Remove", func() { h.Remove(e) }, false},
		{"Remove again", func() { h.Remove(e) }, false},
		{"Push again", func() { h.Push(e, 6) }, true},
	}
	for _, s := range steps {
		s.op()
		mustVerify(t, &h)
		if e.Queued() != s.queued {
			t.Fatalf("after %s: Queued = %v, want %v", s.name, e.Queued(), s.queued)
		}
	}
}

func TestReleasesReferences(t *testing.T) {
	var h Heap[int]
	es := build(t, &h, []int64{4, 3, 2, 1, 0, 5, 6})
	h.Remove(es[2])
	h.Pop()
	h.Reschedule(es[6], -1)
	h.Pop()
	for i, sl := range h.s[h.Len():cap(h.s)] {
		if sl.e != nil {
			t.Errorf("slot %d beyond Len still references entry %d", h.Len()+i, sl.e.Value)
		}
	}
}

// fill pushes n fresh entries with deadlines spread over [0, n).
func fill(h *Heap[int], n int) {
	for i := range n {
		h.Push(&Entry[int]{Value: i}, int64(i*7919%n))
	}
}

// churn pops and pushes back k times, keeping Len constant.
func churn(h *Heap[int], k int) {
	for range k {
		e := h.Pop()
		h.Push(e, e.When()+1)
	}
}

func TestShrinkAfterBurst(t *testing.T) {
	const n = 100_000
	var h Heap[int]
	fill(&h, n)
	peak := cap(h.s)
	for h.Len() > 10 {
		h.Pop()
	}
	mustVerify(t, &h)
	// Within two epochs of at most peak/2 removals each, the array must
	// shrink to the minimum.
	churn(&h, peak)
	mustVerify(t, &h)
	if c := cap(h.s); c > minShrinkCap {
		t.Errorf("cap after a burst of %d and %d removals at Len 10 = %d, want <= %d", n, peak, c, minShrinkCap)
	}
}

func TestNoShrinkOnRefill(t *testing.T) {
	const n = 100_000
	var h Heap[int]
	fill(&h, n)
	base := &h.s[:1][0]
	for range 5 {
		for h.Pop() != nil {
		}
		fill(&h, n)
		if &h.s[:1][0] != base {
			t.Fatalf("backing array reallocated by a drain and refill of %d entries", n)
		}
	}
	mustVerify(t, &h)
}

func TestZeroAllocs(t *testing.T) {
	const n = 1000
	var h Heap[int]
	es := make([]Entry[int], n)
	for i := range es {
		h.Push(&es[i], int64(i%17))
	}
	i := 0
	ops := map[string]func(){
		"Pop+Push": func() {
			e := h.Pop()
			h.Push(e, e.When()+int64(i%13))
			i++
		},
		"Remove+Push": func() {
			e := &es[i*31%n]
			h.Remove(e)
			h.Push(e, int64(i%11))
			i++
		},
		"Reschedule": func() {
			h.Reschedule(&es[i*31%n], int64(i%19))
			i++
		},
	}
	for name, op := range ops {
		if a := testing.AllocsPerRun(1000, op); a != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, a)
		}
	}
	mustVerify(t, &h)
}

// TestPushRank: among equal deadlines, lower ranks leave first and equal
// ranks in push order; Reschedule keeps an entry's rank.
func TestPushRank(t *testing.T) {
	var h Heap[int]
	es := make([]*Entry[int], 6)
	for i := range es {
		es[i] = &Entry[int]{Value: i}
	}
	h.PushRank(es[0], 5, 4)
	h.PushRank(es[1], 5, 2)
	h.PushRank(es[2], 5, 4)
	h.PushRank(es[3], 4, 9)
	h.PushRank(es[4], 5, 2)
	h.PushRank(es[5], 6, 0)
	h.Reschedule(es[1], 5) // same deadline, rank 2 kept, now after es[4]
	mustVerify(t, &h)
	var got []int
	for e := h.Pop(); e != nil; e = h.Pop() {
		got = append(got, e.Value)
	}
	if want := []int{3, 4, 1, 0, 2, 5}; !slices.Equal(got, want) {
		t.Fatalf("pop order %v, want %v", got, want)
	}
}

// TestTrim: a heap drained after a burst keeps its array (no removals end
// a shrink epoch) until Trim, which gives back all but twice Len; Trim
// refuses while Len, or the largest Len at a removal since the previous
// Trim, is above a quarter of the capacity.
func TestTrim(t *testing.T) {
	var h Heap[int]
	for i := range 16 * minShrinkCap {
		h.Push(&Entry[int]{}, int64(i))
	}
	if h.Trim() {
		t.Fatal("Trim of a full heap reported true")
	}
	for h.Len() > 10 {
		h.Pop()
	}
	big := h.Cap()
	if h.Trim() {
		t.Fatal("Trim right after a burst's removals reported true")
	}
	if !h.Trim() {
		t.Fatalf("a second Trim with Len %d and cap %d reported false", h.Len(), big)
	}
	if c := h.Cap(); c != minShrinkCap {
		t.Fatalf("cap after Trim = %d, want %d", c, minShrinkCap)
	}
	mustVerify(t, &h)
	if h.Trim() {
		t.Fatal("second Trim reported true")
	}
}
