package transport

// A writeBuffer is a transport's queue of bytes not yet sent: appended at
// the back, consumed from the front. One contiguous slice, so that one
// write(2) sends as much of it as the kernel takes; consumed bytes are
// reclaimed by moving the rest to the front when room is needed, at most
// once per doubling of what is kept. After a burst a large, drained buffer
// is dropped, so that an idle connection does not keep its peak.
type writeBuffer struct {
	buf []byte // buf[off:] is queued
	off int
}

// keepCap is the capacity an empty buffer keeps; a larger one is freed.
const keepCap = 64 << 10

// len returns the number of bytes queued.
func (w *writeBuffer) len() int { return len(w.buf) - w.off }

// bytes returns the queued bytes, valid until the next append or consume.
func (w *writeBuffer) bytes() []byte { return w.buf[w.off:] }

// append queues a copy of b.
func (w *writeBuffer) append(b []byte) {
	if w.off > 0 && len(w.buf)+len(b) > cap(w.buf) && w.off >= w.len() {
		// The consumed front is at least as large as what is kept:
		// move the rest down rather than grow.
		n := copy(w.buf, w.buf[w.off:])
		w.buf, w.off = w.buf[:n], 0
	}
	w.buf = append(w.buf, b...)
}

// consume drops the first n queued bytes (n <= len).
func (w *writeBuffer) consume(n int) {
	w.off += n
	if w.off == len(w.buf) {
		w.reset()
	}
}

// reset empties the buffer, freeing a large one.
func (w *writeBuffer) reset() {
	if cap(w.buf) > keepCap {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
	w.off = 0
}
