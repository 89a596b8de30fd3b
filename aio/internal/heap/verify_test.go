package heap

import (
	"fmt"
	"slices"
)

// verify checks every invariant documented on Heap and returns the first
// violation found, or nil.
func (h *Heap[V]) verify() error {
	s := h.s
	n := len(s)
	seqs := make([]uint64, 0, n)
	for i := range s {
		sl := &s[i]
		if sl.e == nil {
			return fmt.Errorf("slot %d of %d has a nil entry", i, n)
		}
		if sl.e.index != i+1 {
			return fmt.Errorf("slot %d: entry index is %d, want %d", i, sl.e.index, i+1)
		}
		if sl.e.when != sl.when {
			return fmt.Errorf("slot %d: entry when %d != slot when %d", i, sl.e.when, sl.when)
		}
		if sl.seq == 0 || sl.seq > h.seq {
			return fmt.Errorf("slot %d: seq %d outside [1, %d]", i, sl.seq, h.seq)
		}
		seqs = append(seqs, sl.seq)
		if i > 0 {
			p := (i - 1) / arity
			if sl.less(&s[p]) {
				return fmt.Errorf("heap order: slot %d (%d,%d) sorts before its parent %d (%d,%d)",
					i, sl.when, sl.seq, p, s[p].when, s[p].seq)
			}
		}
	}
	slices.Sort(seqs)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] == seqs[i-1] {
			return fmt.Errorf("duplicate seq %d", seqs[i])
		}
	}
	for i, sl := range s[n:cap(s)] {
		if sl != (slot[V]{}) {
			return fmt.Errorf("slot %d beyond len %d is not cleared", n+i, n)
		}
	}
	if h.countdown < 0 {
		return fmt.Errorf("shrink countdown %d < 0", h.countdown)
	}
	return nil
}
