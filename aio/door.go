package aio

// The door: the lock-free queue (internal/mpsc) through which other
// goroutines hand work to the loop, and the rule that keeps calls ordered
// across it.
//
// Order. A call that happens before another runs first. Calls from other
// goroutines wait in the door until the loop drains it, so a later call made
// on the loop could overtake one that is still in the door, and the loop
// cannot tell by looking whether the door is empty: a producer between
// claiming its slot and publishing it (it may be descheduled there for
// milliseconds) holds a slot that is neither empty nor ready. So while the
// door holds any claimed slot that the loop has not taken yet
// (mpsc.Queue.Pending), the loop sends its own ready work through the door
// too, behind them (queue), and it comes out of the door in order. The loop
// never waits for a paused producer: the door's consumer passes over a slot
// that is claimed and not published, takes what was published after it, and
// takes the passed one when it is published (mpsc.Queue.Pop says why that
// keeps the order of every two calls ordered by happens-before).

// Timers do not go through the door: a timer scheduled on the loop enters
// the heap at once, so that it fires on time however much the door holds.
// Equal deadlines are ordered by rank (timerRank), which places a loop-side
// timer after every timer other goroutines had scheduled when it was made,
// whether or not the loop has received those yet.
//
// Overload. An iteration drains at most maxDrain items, so a flood from other
// goroutines delays the loop's own work (which queues behind it, as in
// asyncio's single ready queue) but never its timers, and a Stop from
// another goroutine, which is a flag and not a door item, takes effect at
// the next iteration. There is no backpressure: producers never block, and
// what they send waits in the door's segments, as in asyncio and tokio.

// doorItem is what goes through the door: a record (a timer, an internal
// command, or a loop-side callback sent behind others), the function of a
// CallSoon from another goroutine, which goes into the ready queue as it is
// (sending the function alone keeps cross-goroutine submission free of
// allocation; the caller's Handle names the call by its door position).
// Two words, so that a door segment holds 254 of them in 4 KiB.
type doorItem struct {
	cb *callback
	fn func()
}

// maxDrain bounds the door items an iteration takes in. Producers that
// outpace the loop would otherwise pour everything they sent into the ready
// queue at once; the rest waits in the door for the next iteration, which
// polls without blocking.
const maxDrain = 4096

// drainDoor moves up to max items that other goroutines (or the loop, see
// queue) sent through the door to the loop's queues. What the items do runs
// in direct mode: a command that wakes a task or schedules a done callback
// acts at its door position, so its work goes straight to the ready queue.
func (l *Loop) drainDoor(max int) {
	for range max {
		it, pos, ok := l.door.PopPos()
		if !ok {
			break
		}
		l.direct = true
		switch {
		case it.cb == nil:
			if len(l.dropped) > 0 {
				if _, ok := l.dropped[pos]; ok {
					delete(l.dropped, pos) // cancelled while in the door
					continue
				}
			}
			l.ready.PushBack(ready{fn: it.fn, ticket: pos + 1})
		default:
			l.drainRecord(it.cb)
		}
	}
	l.direct = false
}

func (l *Loop) drainRecord(cb *callback) {
	switch {
	case cb.state == cbCommand:
		// Internal requests (cancel, complete a future, start a task) do
		// not run user code, so they act at once.
		cb.fn()
	case cb.state == cbCancelled:
		// Cancelled on the loop while it was still in the door.
		l.pool.put(cb)
	case cb.state == cbStep:
		l.ready.PushBack(ready{task: cb.task})
		l.pool.put(cb)
	case cb.due == noDeadline:
		l.ready.PushBack(ready{cb: cb})
	default:
		l.timers.PushRank(&cb.timer, cb.due, cb.rank)
	}
}

// queue adds r to the ready queue on behalf of loop code (a callback or a
// task): straight to the ring, unless the door holds work claimed before
// this call that the loop has not taken yet, in which case r goes through
// the door behind it (see the top of this file). The loop's own phases
// (draining the door, dispatching I/O) are in direct mode and always push
// straight. Loop goroutine only; it allocates nothing in steady state.
func (l *Loop) queue(r ready) {
	if l.direct || !l.door.Pending() {
		l.ready.PushBack(r)
		return
	}
	l.queueBehind(r)
}

// queueBehind sends r through the door, behind the work other goroutines
// claimed before it. The loop is running, so there is no one to wake.
func (l *Loop) queueBehind(r ready) {
	cb := r.cb
	if cb == nil { // a task step: it travels in a record of its own
		cb = l.pool.get(l, nil)
		cb.task, cb.state = r.task, cbStep
	}
	l.door.Push(doorItem{cb: cb})
}

// soon queues fn to run in the next batch. Loop goroutine only; it
// allocates nothing in steady state.
func (l *Loop) soon(fn func()) {
	l.queue(ready{cb: l.pool.get(l, fn)})
}

// post sends an internal request through the door from any goroutine. The
// request runs on the loop goroutine as soon as the loop drains it.
func (l *Loop) post(fn func()) error {
	cb := l.newCallback()
	cb.fn, cb.state = fn, cbCommand
	_, err := l.send(doorItem{cb: cb})
	return err
}

// send pushes an item through the door, wakes the loop if it is parked, and
// returns the item's door position.
func (l *Loop) send(it doorItem) (uint64, error) {
	if l.state.Load() == stateClosed {
		return 0, ErrClosed
	}
	pos := l.door.Push(it)
	// The push is complete before this load: see runOnce for the other half.
	if l.sleeping.Load() {
		l.poller.Wake()
	}
	return pos, nil
}

// cancelTicket cancels the CallSoon that another goroutine sent through the
// door at position pos, if it has not run. Loop goroutine only.
func (l *Loop) cancelTicket(pos uint64) {
	if !l.door.Popped(pos) {
		// Still in the door: drop it when it is drained.
		if l.dropped == nil {
			l.dropped = make(map[uint64]struct{})
		}
		l.dropped[pos] = struct{}{}
		return
	}
	// Drained: it waits in the ready queue (drained calls run in the same
	// or the next iteration), or it has run.
	for i := range l.ready.Len() {
		if l.ready.At(i).ticket == pos+1 {
			l.ready.Set(i, ready{})
			return
		}
	}
}

// timerRank returns the rank of a timer scheduled now on the loop: among
// timers with the same deadline, it sorts after every timer that other
// goroutines scheduled before now and before every one they schedule later.
// A timer from another goroutine gets the odd rank 2n-1 from the n it drew
// (remoteTimers.Add) before it entered the door; a loop-side timer gets 2r
// for the r it reads. If the remote call happened before the loop's, n <= r;
// if after, n > r. Equal ranks (loop-side timers with no remote timer
// between them) keep the heap's push order. Loop goroutine only: one atomic
// load, of a counter that only remote timers write.
func (l *Loop) timerRank() uint64 {
	return 2 * l.remoteTimers.Load()
}
