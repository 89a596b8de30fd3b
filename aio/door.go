package aio

import (
	"sync/atomic"

	"github.com/aiogo/aio/aio/internal/mpsc"
)

// The door: the lock-free queue (internal/mpsc) through which other
// goroutines hand work to the loop, the flags of the wake protocol, and the
// rule that keeps calls ordered across it.
//
// Items. Everything that goes through the door is a waker (wait.go), woken
// when the loop takes it in: the function of a CallSoon from another
// goroutine (remoteCall), an internal request (command), a timer record, or
// loop-side work sent behind others (a record, or a task step). A feature
// that hands work to the loop from another goroutine defines a waker of its
// own; the door needs no new case for it.
//
// Order. A call that happens before another runs first. Calls from other
// goroutines wait in the door until the loop drains it, so a later call made
// on the loop could overtake one that is still in the door, and the loop
// cannot tell by looking whether the door is empty: a producer between
// claiming its slot and publishing it (it may be descheduled there for
// milliseconds) holds a slot that is neither empty nor ready. So while the
// door holds any claimed slot that the loop has not taken yet
// (mpsc.Queue.Pending), the loop sends its own ready work through the door
// too, behind them (Loop.queue), and it comes out of the door in order. The
// loop never waits for a paused producer: the door's consumer passes over a
// slot that is claimed and not published, takes what was published after it,
// and takes the passed one when it is published (mpsc.Queue.Pop says why that
// keeps the order of every two calls ordered by happens-before).
//
// Timers do not go through the door: a timer scheduled on the loop enters
// the heap at once, so that it fires on time however much the door holds.
// Equal deadlines are ordered by rank (timers.rank), which places a
// loop-side timer after every timer other goroutines had scheduled when it
// was made, whether or not the loop has received those yet.
//
// Overload. An iteration drains at most maxDrain items, so a flood from other
// goroutines delays the loop's own work (which queues behind it, as in
// asyncio's single ready queue) but never its timers, and a Stop from
// another goroutine, which is a flag and not a door item, takes effect at
// the next iteration. There is no backpressure: producers never block, and
// what they send waits in the door's segments, as in asyncio and tokio.
type door struct {
	q mpsc.Queue[waker]

	// The wake protocol's flags (see runOnce). Shared.
	sleeping atomic.Bool // the loop is parked, or about to park, in the poller
	stopReq  atomic.Bool // a Stop from another goroutine, taken at the next iteration

	// Loop goroutine only.
	pos     uint64              // door position of the item being delivered
	dropped map[uint64]struct{} // CallSoon positions cancelled before they were drained
	ticket  *callback           // marker record of ticket Handles (cbTicket)
}

// maxDrain bounds the door items an iteration takes in. Producers that
// outpace the loop would otherwise pour everything they sent into the ready
// queue at once; the rest waits in the door for the next iteration, which
// polls without blocking.
const maxDrain = 4096

// remoteCall is the function of a CallSoon from another goroutine: it goes
// into the ready queue as it is, named by its door position, so that the
// submission allocates nothing (an interface holding a func is two words).
type remoteCall func()

func (f remoteCall) wake(l *Loop) {
	pos := l.door.pos
	if len(l.door.dropped) > 0 {
		if _, ok := l.door.dropped[pos]; ok {
			delete(l.door.dropped, pos) // cancelled while in the door
			return
		}
	}
	l.ready.PushBack(ready{fn: f, ticket: pos + 1})
}

// command is an internal request from another goroutine (cancel, complete a
// future, start a task): it runs no user code, so it acts when the loop
// takes it in.
type command func()

func (f command) wake(*Loop) { f() }

// stepOf is a task step that the loop sent through the door behind others.
type stepOf Ctx

func (s *stepOf) wake(l *Loop) { l.ready.PushBack(ready{task: (*Ctx)(s)}) }

// drain delivers up to max items from the door, in direct mode: a command
// that wakes a task or schedules a done callback acts at its door position,
// so its work goes straight to the ready queue.
func (d *door) drain(l *Loop, max int) {
	var in uint64 // submissions from other goroutines, for the metrics (metrics.go)
	for range max {
		it, pos, ok := d.q.PopPos()
		if !ok {
			break
		}
		l.direct = true
		d.pos = pos
		if !isBehind(it) {
			in++
		}
		it.wake(l)
	}
	if in != 0 {
		l.met.doorIn += in
	}
	l.direct = false
}

// send pushes an item through the door, wakes the loop if it is parked, and
// returns the item's door position. Any goroutine.
func (l *Loop) send(it waker) (uint64, error) {
	if l.state.Load() == stateClosed {
		return 0, ErrClosed
	}
	pos := l.door.q.Push(it)
	// The push is complete before this load: see runOnce for the other half.
	if l.door.sleeping.Load() {
		l.poller.Wake()
	}
	return pos, nil
}

// post sends an internal request through the door from any goroutine. The
// request runs on the loop goroutine as soon as the loop drains it.
func (l *Loop) post(fn func()) error {
	_, err := l.send(command(fn))
	return err
}

// cancelTicket cancels the CallSoon that another goroutine sent through the
// door at position pos, if it has not run. Loop goroutine only.
func (d *door) cancelTicket(l *Loop, pos uint64) {
	if !d.q.Popped(pos) {
		// Still in the door: drop it when it is drained.
		if d.dropped == nil {
			d.dropped = make(map[uint64]struct{})
		}
		d.dropped[pos] = struct{}{}
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

// queue adds r to the ready queue on behalf of loop code (a callback or a
// task): straight to the ring, unless the door holds work claimed before
// this call that the loop has not taken yet, in which case r goes through
// the door behind it (see door). The loop's own phases (draining the door,
// dispatching I/O, firing timers) are in direct mode and always push
// straight. Loop goroutine only; it allocates nothing in steady state.
func (l *Loop) queue(r ready) {
	if l.direct || !l.door.q.Pending() {
		l.ready.PushBack(r)
		return
	}
	l.queueBehind(r)
}

// queueBehind sends r through the door, behind the work other goroutines
// claimed before it. The loop is running, so there is no one to wake.
func (l *Loop) queueBehind(r ready) {
	if r.cb != nil {
		r.cb.state = cbTravelling
		l.door.q.Push(r.cb)
		return
	}
	l.door.q.Push((*stepOf)(r.task))
}

// soon queues fn to run in the next batch. Loop goroutine only; it
// allocates nothing in steady state.
func (l *Loop) soon(fn func()) {
	l.queue(ready{cb: l.pool.get(l, fn)})
}
