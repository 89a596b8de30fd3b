package heap

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// deadlines draws from a small set so that ties are common, with the
// extremes of int64 mixed in.
var deadlines = rapid.SampledFrom([]int64{-3, -2, -1, 0, 1, 2, 3, math.MinInt64, math.MaxInt64})

// ranks draws ranks from a small set too, so that ties of deadline and rank
// are common.
var ranks = rapid.SampledFrom([]uint64{0, 0, 1, 2, math.MaxUint64})

// modelEntry is one queued entry of the model: Heap's ordering key spelled
// out, plus the entry's Value.
type modelEntry struct {
	when int64
	rank uint64
	seq  uint64
	id   int
}

func compareModel(a, b modelEntry) int {
	if c := cmp.Compare(a.when, b.when); c != 0 {
		return c
	}
	if c := cmp.Compare(a.rank, b.rank); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// model is the reference implementation: a slice kept sorted by (when, seq),
// with its own sequence counter.
type model struct {
	q   []modelEntry
	seq uint64
}

func (m *model) push(id int, when int64, rank uint64) {
	m.seq++
	me := modelEntry{when, rank, m.seq, id}
	i, _ := slices.BinarySearchFunc(m.q, me, compareModel)
	m.q = slices.Insert(m.q, i, me)
}

func (m *model) find(id int) int {
	return slices.IndexFunc(m.q, func(me modelEntry) bool { return me.id == id })
}

func (m *model) remove(id int) bool {
	i := m.find(id)
	if i < 0 {
		return false
	}
	m.q = slices.Delete(m.q, i, i+1)
	return true
}

// TestPropHeapMatchesModel runs random sequences of operations on a Heap
// and on the model, and checks after each that they agree and that the
// heap's invariants hold.
func TestPropHeapMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 64).Draw(t, "entries")
		es := make([]*Entry[int], n)
		for i := range es {
			es[i] = &Entry[int]{Value: i}
		}
		var h Heap[int]
		var m model
		anyID := rapid.IntRange(0, n-1)

		t.Repeat(map[string]func(*rapid.T){
			"Push": func(t *rapid.T) {
				var free []int
				for i, e := range es {
					if !e.Queued() {
						free = append(free, i)
					}
				}
				if len(free) == 0 {
					t.Skip("every entry is queued")
				}
				id := rapid.SampledFrom(free).Draw(t, "id")
				when := deadlines.Draw(t, "when")
				rank := ranks.Draw(t, "rank")
				h.PushRank(es[id], when, rank)
				m.push(id, when, rank)
			},
			"PushMany": func(t *rapid.T) {
				// Grows the heap several levels deep within a short run:
				// single Pushes compete with the other actions.
				for i, e := range es {
					if !e.Queued() && rapid.Bool().Draw(t, "push") {
						when := deadlines.Draw(t, "when")
						h.Push(e, when)
						m.push(i, when, 0)
					}
				}
			},
			"PushQueued": func(t *rapid.T) {
				id := anyID.Draw(t, "id")
				if !es[id].Queued() {
					t.Skip("entry not queued")
				}
				defer func() {
					if recover() == nil {
						t.Fatalf("Push of queued entry %d did not panic", id)
					}
				}()
				h.Push(es[id], deadlines.Draw(t, "when"))
			},
			"Pop": func(t *rapid.T) {
				e := h.Pop()
				if len(m.q) == 0 {
					if e != nil {
						t.Fatalf("Pop on empty heap = entry %d", e.Value)
					}
					return
				}
				want := m.q[0]
				m.q = m.q[1:]
				if e == nil {
					t.Fatalf("Pop = nil, want entry %d", want.id)
				}
				if e.Value != want.id || e.When() != want.when {
					t.Fatalf("Pop = entry %d (when %d), want %d (when %d)", e.Value, e.When(), want.id, want.when)
				}
			},
			"Peek": func(t *rapid.T) {
				checkPeek(t, &h, &m)
			},
			"Remove": func(t *rapid.T) {
				id := anyID.Draw(t, "id")
				if got, want := h.Remove(es[id]), m.remove(id); got != want {
					t.Fatalf("Remove(entry %d) = %v, want %v", id, got, want)
				}
			},
			"Reschedule": func(t *rapid.T) {
				id := anyID.Draw(t, "id")
				when := deadlines.Draw(t, "when")
				var rank uint64
				if i := m.find(id); i >= 0 {
					rank = m.q[i].rank
				}
				h.Reschedule(es[id], when)
				m.remove(id)
				m.push(id, when, rank)
			},
			"": func(t *rapid.T) {
				if h.Len() != len(m.q) {
					t.Fatalf("Len = %d, want %d", h.Len(), len(m.q))
				}
				checkPeek(t, &h, &m)
				if err := h.verify(); err != nil {
					t.Fatal(err)
				}
				for id, e := range es {
					i := m.find(id)
					if e.Queued() != (i >= 0) {
						t.Fatalf("entry %d: Queued = %v, model says %v", id, e.Queued(), i >= 0)
					}
					if i >= 0 && e.When() != m.q[i].when {
						t.Fatalf("entry %d: When = %d, want %d", id, e.When(), m.q[i].when)
					}
				}
			},
		})
	})
}

func checkPeek(t *rapid.T, h *Heap[int], m *model) {
	e := h.Peek()
	switch {
	case len(m.q) == 0 && e != nil:
		t.Fatalf("Peek on empty heap = entry %d", e.Value)
	case len(m.q) > 0 && e == nil:
		t.Fatalf("Peek = nil, want entry %d", m.q[0].id)
	case len(m.q) > 0 && e.Value != m.q[0].id:
		t.Fatalf("Peek = entry %d, want %d", e.Value, m.q[0].id)
	}
}

// TestPropPopIsStableSort checks that pushing deadlines and popping them all
// is a stable sort by deadline.
func TestPropPopIsStableSort(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		whens := rapid.SliceOf(deadlines).Draw(t, "whens")
		var h Heap[int]
		for i, w := range whens {
			h.Push(&Entry[int]{Value: i}, w)
		}
		want := make([]int, len(whens))
		for i := range want {
			want[i] = i
		}
		slices.SortStableFunc(want, func(a, b int) int { return cmp.Compare(whens[a], whens[b]) })
		for i, id := range want {
			e := h.Pop()
			if e == nil || e.Value != id {
				t.Fatalf("pop %d = %v, want entry %d", i, e, id)
			}
		}
		if e := h.Pop(); e != nil {
			t.Fatalf("extra entry %d", e.Value)
		}
	})
}

// TestPropShrink grows and drains the heap in bursts large enough to cross
// minShrinkCap, checking the invariants after each burst, and that the
// backing array is at most four times Len (or minShrinkCap) after two
// epochs at a constant small Len. Pop order is TestPropHeapMatchesModel's
// business.
func TestPropShrink(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var h Heap[int]
		n := 0 // entries pushed and not popped
		burst := rapid.IntRange(1, 2*minShrinkCap)
		t.Repeat(map[string]func(*rapid.T){
			"PushBurst": func(t *rapid.T) {
				// Bounded, so that the O(n log n) verify after every
				// action keeps the test within seconds under -race.
				if n > 3*minShrinkCap {
					t.Skip("heap large enough")
				}
				k := burst.Draw(t, "k")
				for i := range k {
					h.Push(&Entry[int]{}, int64(i%97))
				}
				n += k
			},
			"PopBurst": func(t *rapid.T) {
				k := min(burst.Draw(t, "k"), n)
				for range k {
					if e := h.Pop(); e == nil || e.Queued() {
						t.Fatalf("Pop = %v with %d entries queued", e, n)
					}
					n--
				}
			},
			"Churn": func(t *rapid.T) {
				// Only small heaps: the interesting case is a large
				// array left behind by a drained burst, and this keeps
				// the test quick under -race.
				if n == 0 || n > 256 {
					t.Skip("empty or large heap")
				}
				for range 2 * max(cap(h.s), minShrinkCap) {
					e := h.Pop()
					h.Push(e, e.When()+1)
				}
				if c := cap(h.s); c > max(minShrinkCap, 4*n) {
					t.Fatalf("cap %d after churning at Len %d, want <= %d", c, n, max(minShrinkCap, 4*n))
				}
			},
			"": func(t *rapid.T) {
				if h.Len() != n {
					t.Fatalf("Len = %d, want %d", h.Len(), n)
				}
				if err := h.verify(); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
}
