package heap

// arity is the number of children of each node. See the package doc for why
// it is 4.
const arity = 4

// minShrinkCap is the capacity, in slots, at or below which the backing
// array is never shrunk: 1024 slots are 24 KiB, not worth reallocating for.
// It is also the shortest shrink epoch, in removals.
const minShrinkCap = 1024

// Entry is one element of a Heap. The zero value is ready to push.
//
// An entry belongs to at most one heap at a time.
type Entry[V any] struct {
	// Value is the payload. The loop stores a back-pointer to its timer
	// handle here.
	Value V

	// when is the deadline given at the last Push or Reschedule. It is
	// duplicated in the entry's slot for comparisons; this copy serves
	// When after the entry has left the heap.
	when int64

	// rank orders entries with equal deadlines before their push
	// sequence (see PushRank). It is read only on ties of when, which are
	// rare, so it lives here rather than in the slot.
	rank uint64

	// index is the entry's position in its heap's slice plus one, so that
	// the zero value means "not queued".
	index int
}

// When returns the deadline given at the last Push or Reschedule of e, or
// 0 if e was never pushed. It stays valid after e is popped or removed.
func (e *Entry[V]) When() int64 { return e.when }

// Queued reports whether e is currently in a heap.
func (e *Entry[V]) Queued() bool { return e.index != 0 }

// slot is one element of a Heap's backing slice. It carries the sort key
// inline so that sifting compares slots without dereferencing entries.
type slot[V any] struct {
	when int64
	seq  uint64
	e    *Entry[V]
}

// less reports whether a sorts before b: earlier deadline first, then
// lower rank, then earlier sequence number. The rank is behind the entry
// pointer, and dereferenced only when the deadlines are equal.
func (a *slot[V]) less(b *slot[V]) bool {
	return a.when < b.when || a.when == b.when && a.tieLess(b)
}

// tieLess orders two slots with equal deadlines.
func (a *slot[V]) tieLess(b *slot[V]) bool {
	ra, rb := a.e.rank, b.e.rank
	return ra < rb || ra == rb && a.seq < b.seq
}

// Heap is a min-heap of *Entry[V] ordered by (When, rank, push sequence):
// entries with equal deadlines and ranks leave in the order they were pushed
// or rescheduled. Push gives rank 0; PushRank lets the caller place an entry
// among equal deadlines by an order of its own (the loop ranks timers that
// other goroutines scheduled by when they called).
// The zero value is an empty heap. A Heap is not safe for concurrent use.
//
// Invariants, with s the backing slice and n = len(s):
//   - heap order: for 0 < i < n, s[(i-1)/arity] does not sort after s[i];
//   - index: for 0 <= i < n, s[i].e.index == i+1 and s[i].e.when == s[i].when;
//   - order of scheduling: the seq of every slot is distinct and at most
//     h.seq, which strictly increases;
//   - no stale references: s[n:cap(s)] holds only zero slots;
//   - shrinking: countdown >= 0, and peak is at least the length at every
//     removal of the current epoch (see maybeShrink).
type Heap[V any] struct {
	s   []slot[V]
	seq uint64 // sequence number of the latest Push or Reschedule; never wraps in practice

	// peak is the largest Len seen at a removal in the current shrink
	// epoch, and countdown the number of removals left in it. Between two
	// removals Len only grows, so peak is the largest Len of the epoch.
	peak      int
	countdown int
}

// Len returns the number of entries in h.
func (h *Heap[V]) Len() int { return len(h.s) }

// Push adds e to h with deadline when. e gets the next sequence number, so it
// sorts after every entry already in h with the same deadline. Push panics if
// e is already queued (in h or in another heap). O(log n); it allocates only
// when the backing array has to grow.
func (h *Heap[V]) Push(e *Entry[V], when int64) {
	h.PushRank(e, when, 0)
}

// PushRank is Push with a rank: among entries with the same deadline, those
// of lower rank sort first, and those of equal rank in push order. The rank
// stays with the entry until its next PushRank (Reschedule keeps it).
func (h *Heap[V]) PushRank(e *Entry[V], when int64, rank uint64) {
	if e.index != 0 {
		panic("aio/internal/heap: Push of an entry that is already queued")
	}
	h.seq++
	e.when = when
	e.rank = rank
	h.s = append(h.s, slot[V]{when: when, seq: h.seq, e: e})
	h.up(len(h.s) - 1)
}

// Trim gives back the backing array's excess at once if Len, and the
// largest Len seen at a removal since the last shrink or Trim, were at most
// a quarter of its capacity, reallocating it at twice that (at least
// minShrinkCap); it reports whether it did. The loop calls it when it has
// been idle for a while: a heap drained by a burst sees no more removals,
// so the epochs below would never shrink it, while a heap filled and
// drained again since the last Trim keeps its array.
func (h *Heap[V]) Trim() bool {
	c := cap(h.s)
	peak := max(h.peak, len(h.s))
	if c <= minShrinkCap || peak > c/4 {
		h.peak = len(h.s)
		return false
	}
	s := make([]slot[V], len(h.s), max(2*peak, minShrinkCap))
	copy(s, h.s)
	h.s = s
	h.peak = len(h.s)
	h.countdown = max(cap(h.s)/2, minShrinkCap)
	return true
}

// Cap returns the capacity of the backing array, for tests and memory
// accounting.
func (h *Heap[V]) Cap() int { return cap(h.s) }

// Peek returns the earliest entry of h without removing it, or nil if h is
// empty.
func (h *Heap[V]) Peek() *Entry[V] {
	if len(h.s) == 0 {
		return nil
	}
	return h.s[0].e
}

// Pop removes and returns the earliest entry of h, or nil if h is empty.
// The returned entry is no longer queued. O(log n).
func (h *Heap[V]) Pop() *Entry[V] {
	if len(h.s) == 0 {
		return nil
	}
	e := h.s[0].e
	h.removeAt(0)
	return e
}

// Remove removes e from h. It returns false, and changes nothing, if e is not
// queued. Remove panics if e is queued in a different heap; an entry belongs
// to at most one heap. O(log n).
func (h *Heap[V]) Remove(e *Entry[V]) bool {
	if e.index == 0 {
		return false
	}
	h.removeAt(h.position(e))
	return true
}

// Reschedule changes the deadline of e to when, pushing e if it is not
// queued. e gets a new sequence number: it counts as scheduled now, after
// every other entry with the same deadline, even if its deadline is
// unchanged. Reschedule panics if e is queued in a different heap. O(log n).
func (h *Heap[V]) Reschedule(e *Entry[V], when int64) {
	if e.index == 0 {
		h.Push(e, when)
		return
	}
	i := h.position(e)
	h.seq++
	e.when = when
	h.s[i].when = when
	h.s[i].seq = h.seq
	h.fix(i)
}

// position returns the slot index of the queued entry e, checking that e is
// in h: an entry can only be in one slice, so a mismatch means it is queued
// in another heap, and going on would corrupt both.
func (h *Heap[V]) position(e *Entry[V]) int {
	i := e.index - 1
	if uint(i) >= uint(len(h.s)) || h.s[i].e != e {
		panic("aio/internal/heap: entry is queued in a different heap")
	}
	return i
}

// removeAt removes the slot at i: the last slot moves into the hole and is
// sifted to its place, and the vacated last slot is cleared. It also keeps
// the shrink epoch's books.
func (h *Heap[V]) removeAt(i int) {
	s := h.s
	n := len(s) - 1
	h.peak = max(h.peak, len(s))
	s[i].e.index = 0
	last := s[n]
	s[n] = slot[V]{} // drop the reference for the GC
	h.s = s[:n]
	if i < n {
		s[i] = last
		h.fix(i)
	}
	h.countdown--
	if h.countdown <= 0 {
		h.maybeShrink()
	}
}

// maybeShrink ends a shrink epoch. If Len never exceeded a quarter of the
// capacity during the epoch, the backing array is reallocated at twice that
// peak (at least minShrinkCap). The next epoch lasts half the capacity in
// removals (at least minShrinkCap), which pays for the copy of at most a
// quarter of it. Deciding on the epoch's peak rather than on the current Len
// keeps a heap that is filled and drained over and over from reallocating
// on every cycle. It is kept out of removeAt so that the common path stays
// small.
func (h *Heap[V]) maybeShrink() {
	if c := cap(h.s); c > minShrinkCap && h.peak <= c/4 {
		s := make([]slot[V], len(h.s), max(2*h.peak, minShrinkCap))
		copy(s, h.s)
		h.s = s
	}
	h.peak = len(h.s)
	h.countdown = max(cap(h.s)/2, minShrinkCap)
}

// fix restores heap order after the key of s[i] changed, moving it up or
// down, and records its final position in its entry.
func (h *Heap[V]) fix(i int) {
	if i > 0 && h.s[i].less(&h.s[(i-1)/arity]) {
		h.up(i)
	} else {
		h.down(i)
	}
}

// up moves s[i] toward the root until its parent sorts before it. Slots it
// passes move down one level, and their entries' indexes are updated.
func (h *Heap[V]) up(i int) {
	s := h.s
	x := s[i]
	for i > 0 {
		p := (i - 1) / arity
		if !x.less(&s[p]) {
			break
		}
		s[i] = s[p]
		s[i].e.index = i + 1
		i = p
	}
	s[i] = x
	x.e.index = i + 1
}

// down moves s[i] toward the leaves until none of its children sorts before
// it. At each level the smallest child moves up into the hole, and its
// entry's index is updated.
func (h *Heap[V]) down(i int) {
	s := h.s
	n := len(s)
	x := s[i]
	for {
		c := i*arity + 1
		if c >= n {
			break
		}
		m := c
		for j, end := c+1, min(c+arity, n); j < end; j++ {
			if s[j].less(&s[m]) {
				m = j
			}
		}
		if !s[m].less(&x) {
			break
		}
		s[i] = s[m]
		s[i].e.index = i + 1
		i = m
	}
	s[i] = x
	x.e.index = i + 1
}
