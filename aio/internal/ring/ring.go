// Package ring provides a growable FIFO ring buffer: the loop's ready queue and
// the backing store of the queues and channels built on the loop.
//
// A Ring is not safe for concurrent use; the loop owns its rings. The buffer
// length is always a power of two so that wrapping is a mask, not a modulo,
// and it grows on its own but never shrinks on its own: a steady state with
// zero allocations needs the room a burst made. Shrink and ShrinkTo give
// memory back; the loop calls ShrinkTo once it has been idle a while after a
// burst.
package ring

// minCap is the capacity of the first buffer a Ring allocates.
const minCap = 16

// Ring is a FIFO queue of values of type T. The zero value is an empty ring
// ready to use.
type Ring[T any] struct {
	buf  []T // len(buf) is zero or a power of two
	head int // index of the front element
	n    int // number of elements
}

// Len returns the number of elements in r.
func (r *Ring[T]) Len() int { return r.n }

// Cap returns the number of elements r can hold before it grows.
func (r *Ring[T]) Cap() int { return len(r.buf) }

// PushBack appends v at the back of r, growing the buffer if it is full.
func (r *Ring[T]) PushBack(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// PushFront inserts v at the front of r, growing the buffer if it is full.
func (r *Ring[T]) PushFront(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.head = (r.head - 1) & (len(r.buf) - 1)
	r.buf[r.head] = v
	r.n++
}

// PopFront removes and returns the front element. It reports false if r is
// empty. The vacated slot is zeroed so that r keeps no reference to v.
func (r *Ring[T]) PopFront() (v T, ok bool) {
	if r.n == 0 {
		return v, false
	}
	var zero T
	v = r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v, true
}

// PopBack removes and returns the back element. It reports false if r is
// empty.
func (r *Ring[T]) PopBack() (v T, ok bool) {
	if r.n == 0 {
		return v, false
	}
	var zero T
	i := (r.head + r.n - 1) & (len(r.buf) - 1)
	v = r.buf[i]
	r.buf[i] = zero
	r.n--
	return v, true
}

// Front returns the front element without removing it. It reports false if r
// is empty.
func (r *Ring[T]) Front() (v T, ok bool) {
	if r.n == 0 {
		return v, false
	}
	return r.buf[r.head], true
}

// At returns the i-th element from the front. It panics if i is out of range.
func (r *Ring[T]) At(i int) T {
	if i < 0 || i >= r.n {
		panic("ring: index out of range")
	}
	return r.buf[(r.head+i)&(len(r.buf)-1)]
}

// Set replaces the i-th element from the front with v. It panics if i is
// out of range.
func (r *Ring[T]) Set(i int, v T) {
	if i < 0 || i >= r.n {
		panic("ring: index out of range")
	}
	r.buf[(r.head+i)&(len(r.buf)-1)] = v
}

// Clear removes every element, keeping the buffer.
func (r *Ring[T]) Clear() {
	clear(r.buf)
	r.head, r.n = 0, 0
}

// Shrink reallocates the buffer to the smallest power of two that holds the
// current elements (none at all if r is empty).
func (r *Ring[T]) Shrink() {
	c := 0
	if r.n > 0 {
		c = minCap
		for c < r.n {
			c <<= 1
		}
	}
	if c == len(r.buf) {
		return
	}
	r.resize(c)
}

// ShrinkTo reallocates the buffer to the smallest power of two that holds
// max(n, Len()) elements (no buffer at all if that is zero), if that is
// smaller than the current buffer. It returns the new capacity.
func (r *Ring[T]) ShrinkTo(n int) int {
	n = max(n, r.n)
	c := 0
	if n > 0 {
		c = minCap
		for c < n {
			c <<= 1
		}
	}
	if c < len(r.buf) {
		r.resize(c)
	}
	return len(r.buf)
}

func (r *Ring[T]) grow() {
	c := 2 * len(r.buf)
	if c == 0 {
		c = minCap
	}
	r.resize(c)
}

func (r *Ring[T]) resize(c int) {
	var buf []T
	if c > 0 {
		buf = make([]T, c)
		if r.n > 0 {
			if end := r.head + r.n; end <= len(r.buf) {
				copy(buf, r.buf[r.head:end])
			} else {
				k := copy(buf, r.buf[r.head:])
				copy(buf[k:], r.buf[:r.n-k])
			}
		}
	}
	r.buf, r.head = buf, 0
}
