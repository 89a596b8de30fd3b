package aio

// recordPool keeps the loop's callback records for reuse, linked through
// callback.next, so that a callback scheduled and run (or cancelled) in
// steady state allocates nothing. While the loop is busy the pool keeps
// every record it gets back, so a burst of 100k timers that are then
// cancelled (or fire) serves the next burst without allocating; the
// housekeeping gives back what exceeds maxPooled once the loop has been
// idle for a while (see housekeep.go). Loop goroutine only.
type recordPool struct {
	free *callback
	n    int
}

// maxPooled is what the record pool is trimmed to when the loop has gone
// idle after a burst.
const maxPooled = 8192

// get takes a record from the pool, or makes one, for fn.
func (p *recordPool) get(l *Loop, fn func()) *callback {
	cb := p.free
	if cb != nil {
		p.free = cb.next
		p.n--
		cb.next = nil
	} else {
		cb = l.newCallback()
	}
	cb.fn = fn
	cb.state = cbScheduled
	return cb
}

// put returns a record whose call is about to run, or was cancelled, to the
// pool. The generation changes first, so the record's Handles go stale.
func (p *recordPool) put(cb *callback) {
	cb.fn = nil
	cb.timer.Value = nil
	cb.gen++
	cb.state = cbFree
	cb.due = noDeadline
	cb.next = p.free
	p.free = cb
	p.n++
}

// trim shortens the pool to max records.
func (p *recordPool) trim(max int) {
	if p.n <= max {
		return
	}
	if max == 0 {
		p.free, p.n = nil, 0
		return
	}
	cb := p.free
	for range max - 1 {
		cb = cb.next
	}
	cb.next = nil
	p.n = max
}

// newCallback makes a record; any goroutine may call it.
func (l *Loop) newCallback() *callback {
	cb := &callback{loop: l, due: noDeadline}
	cb.timer.Value = cb
	return cb
}

// cancel cancels the record's call if generation gen of it is still
// pending. A timer leaves the heap and its record is reused at once; a
// record in the ready queue or the door is marked, and reused when the loop
// dequeues it. Loop goroutine only.
func (l *Loop) cancel(cb *callback, gen uint64) {
	if cb.gen != gen || (cb.state != cbScheduled && cb.state != cbTravelling) {
		return
	}
	if l.timers.remove(cb) {
		l.pool.put(cb)
		return
	}
	cb.state = cbCancelled
	cb.fn = nil
}
