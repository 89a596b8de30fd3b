package queue

// The storage behind a Queue: a ring buffer for the FIFO and LIFO orders and
// a binary heap for the priority order. Both grow when they must and never
// shrink, so that a queue in steady state (items put and got at the same
// rate) allocates nothing; both clear the slot of an item they give up, so
// that the queue holds no reference to an item it no longer has.

// A ring is a double-ended queue in a slice whose length is a power of two.
// The items are buf[head], buf[head+1], ... (modulo the length), n of them.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

// push adds v at the back; limit, if positive, caps the growth of the
// buffer (a bounded queue never holds more than its bound).
func (r *ring[T]) push(v T, limit int) {
	if r.n == len(r.buf) {
		r.grow(limit)
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// popFront removes and returns the item at the front; r must not be empty.
func (r *ring[T]) popFront() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v
}

// popBack removes and returns the item at the back; r must not be empty.
func (r *ring[T]) popBack() T {
	var zero T
	i := (r.head + r.n - 1) & (len(r.buf) - 1)
	v := r.buf[i]
	r.buf[i] = zero
	r.n--
	return v
}

// grow doubles the buffer (from 8, or from the bound rounded up to a power
// of two if that is smaller) and moves the items to its start.
func (r *ring[T]) grow(limit int) {
	size := 2 * len(r.buf)
	if size == 0 {
		size = 8
	}
	if limit > 0 {
		if c := ceilPow2(limit); size > c {
			size = c
		}
	}
	buf := make([]T, size)
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
	}
	r.buf, r.head = buf, 0
}

// ceilPow2 returns the least power of two that is at least n (n > 0).
func ceilPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// An entry is an item of a priority queue with the sequence number of its
// Put: among items of equal priority the one put first comes out first.
type entry[T any] struct {
	v   T
	seq uint64
}

// A prioHeap is a binary min-heap of entries ordered by cmp, then by seq.
// It is written out rather than built on container/heap, whose interface
// would box every item pushed and popped.
type prioHeap[T any] struct {
	s   []entry[T]
	cmp func(a, b T) int
	seq uint64
}

// less reports whether the entry at i comes out before the one at j.
func (h *prioHeap[T]) less(i, j int) bool {
	if c := h.cmp(h.s[i].v, h.s[j].v); c != 0 {
		return c < 0
	}
	return h.s[i].seq < h.s[j].seq
}

// push adds v. The entry is in the slice before cmp is first called, so a
// cmp that panics leaves v in the queue (perhaps out of order), not lost.
func (h *prioHeap[T]) push(v T) {
	h.s = append(h.s, entry[T]{v: v, seq: h.seq})
	h.seq++
	for i := len(h.s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h.s[i], h.s[parent] = h.s[parent], h.s[i]
		i = parent
	}
}

// pop removes and returns the first entry's item; h must not be empty.
func (h *prioHeap[T]) pop() T {
	last := len(h.s) - 1
	h.s[0], h.s[last] = h.s[last], h.s[0]
	v := h.s[last].v
	h.s[last] = entry[T]{}
	h.s = h.s[:last]
	for i := 0; ; {
		first, l, r := i, 2*i+1, 2*i+2
		if l < last && h.less(l, first) {
			first = l
		}
		if r < last && h.less(r, first) {
			first = r
		}
		if first == i {
			break
		}
		h.s[i], h.s[first] = h.s[first], h.s[i]
		i = first
	}
	return v
}
