package aio

import (
	"errors"
	"fmt"
	"iter"
)

// Loop-native channels: Go's channel semantics for the tasks of one loop,
// with no goroutine and no lock. A Chan keeps, as Go's runtime/chan.go
// does, a ring buffer and two queues of parked parties, receivers and
// senders, each with a slot for its value. A party that finds its
// counterpart parked completes the exchange itself, in its own step (the
// value moves into the receiver's slot, or out of the sender's), takes the
// counterpart off its queue and wakes it; the woken task only reads its
// slot. So a value is in exactly one place at any time: the buffer, a
// sender's slot, or a receiver's slot, and the hand-off between two tasks
// allocates nothing once the parked-party records are pooled.
//
// A parked party whose exchange was completed in the same turn as it was
// cancelled returns the exchange's outcome (the value it received, or nil
// for a send that was taken) and the cancellation waits for its next
// suspension point: a value is never lost to a cancellation.

// ErrChanClosed is returned (wrapped) by a send on a closed Chan, by a send
// that was waiting when the Chan was closed, and by a second Close.
var ErrChanClosed = errors.New("aio: channel is closed")

// ErrWouldBlock is returned (wrapped) by TrySend when no receiver waits and
// the buffer is full, and by TryRecv when no value is ready.
var ErrWouldBlock = errors.New("aio: operation would block")

// A Chan is a channel for the tasks of one loop, with the semantics of a Go
// channel: unbuffered (a send completes when a receiver takes the value) or
// buffered with a fixed capacity; Send and Recv suspend the calling task;
// TrySend and TryRecv never do; Close makes receivers drain the buffer and
// then report closed. Where Go panics, a Chan returns an error: a send on a
// closed Chan and a second Close return ErrChanClosed.
//
// The zero value is an unbuffered Chan, ready to use; NewChan makes a
// buffered one. A Chan belongs to the loop of its first use and must be
// used on that loop's goroutine and in its tasks: the methods with an error
// result return one matching ErrNotOnLoop (or ErrInvalidState for another
// loop's task) elsewhere; Len and Cap panic with it. A nil *Chan is refused
// with an error matching ErrInvalidState, except in Select, where a case on
// a nil Chan is never ready (Go's way of disabling a case).
//
// Waiting parties are served in FIFO order. A Chan is also an Awaitable of
// its next value (Poll), so Await and the combinators can receive from it.
type Chan[T any] struct {
	loop   *Loop
	buf    []T // the ring; len(buf) is the capacity
	head   int
	count  int
	closed bool
	recvq  waitList // parked receivers, *chanWaiter[T]
	sendq  waitList // parked senders
	free   []*chanWaiter[T]
}

// chanWaiter is a party parked on a Chan: a task in Send or Recv, or one
// case of a Select.
type chanWaiter[T any] struct {
	Waiter
	task   *Ctx
	sel    *selectState // the Select it is a case of; nil for Send and Recv
	idx    int          // its case index in sel
	val    T            // the value to send, or the value received
	ok     bool         // for a receiver: val is a value (false: the Chan closed)
	done   bool         // the counterpart, or Close, completed the exchange
	closed bool         // for a sender: completed by Close, nothing sent
}

func (w *chanWaiter[T]) wake(l *Loop) { w.task.wake(l) }

// maxPooledWaiters bounds the parked-party records a Chan keeps for reuse.
const maxPooledWaiters = 16

// NewChan returns a Chan with a buffer of n values (0: unbuffered). It
// panics if n is negative, as make does.
func NewChan[T any](n int) *Chan[T] {
	if n < 0 {
		panic(fmt.Sprintf("aio: NewChan with a negative capacity (%d)", n))
	}
	return &Chan[T]{buf: make([]T, n)}
}

// enter checks a call of a suspending method and takes a pending
// cancellation, as every suspension point does.
func (ch *Chan[T]) enter(c *Ctx, method string) error {
	if ch == nil {
		return fmt.Errorf("%w: %s on a nil *Chan", ErrInvalidState, method)
	}
	if err := c.check(method); err != nil {
		return err
	}
	if err := ch.bind(c.loop()); err != nil {
		return err
	}
	return c.takeCancel()
}

// bind ties ch to l on first use and refuses another loop.
func (ch *Chan[T]) bind(l *Loop) error {
	if ch.loop == nil {
		ch.loop = l
		return nil
	}
	if ch.loop != l {
		return fmt.Errorf("%w: a Chan of one loop used from another", ErrInvalidState)
	}
	return nil
}

// onLoop checks a call of a method that does not suspend.
func (ch *Chan[T]) onLoop(method string) error {
	if ch == nil {
		return fmt.Errorf("%w: %s on a nil *Chan", ErrInvalidState, method)
	}
	l := ch.loop
	if l == nil {
		if l = RunningLoop(); l == nil {
			return notOnLoop(method)
		}
		ch.loop = l
	}
	if !l.onLoop() {
		return notOnLoop(method)
	}
	return nil
}

// Send sends v on ch, suspending the calling task until a receiver takes it
// (unbuffered) or there is room in the buffer. It returns nil once v is
// sent; an error matching ErrChanClosed if ch is closed, or is closed while
// Send waits (v is not sent); or the task's cancellation, and then v is not
// sent. A send that a receiver completed in the turn the task was
// cancelled returns nil: v was sent, and the cancellation is delivered at
// the task's next suspension point.
func (ch *Chan[T]) Send(c *Ctx, v T) error {
	if err := ch.enter(c, "Chan.Send"); err != nil {
		return err
	}
	if ch.closed {
		return sendClosed()
	}
	if ch.trySend(v) {
		return nil
	}
	w := ch.waiter(c)
	w.val = v
	ch.sendq.push(&w.Waiter)
	for {
		err := c.suspend()
		if w.done {
			closed := w.closed
			ch.release(w)
			if err != nil {
				c.rearm(err)
			}
			if closed {
				return sendClosed()
			}
			return nil
		}
		if err != nil {
			if w.queued() {
				ch.sendq.remove(&w.Waiter)
			}
			ch.release(w)
			return err
		}
	}
}

func sendClosed() error { return fmt.Errorf("%w: send on a closed Chan", ErrChanClosed) }

// Recv receives a value from ch, suspending the calling task until one is
// there. It returns the value and true; or the zero value and false once ch
// is closed and its buffer drained; or the task's cancellation, and then
// nothing was taken from ch. A value handed over in the turn the task was
// cancelled is returned: the cancellation is delivered at the task's next
// suspension point.
func (ch *Chan[T]) Recv(c *Ctx) (T, bool, error) {
	var zero T
	if err := ch.enter(c, "Chan.Recv"); err != nil {
		return zero, false, err
	}
	if v, ok, ready := ch.tryRecv(); ready {
		return v, ok, nil
	}
	w := ch.waiter(c)
	ch.recvq.push(&w.Waiter)
	for {
		err := c.suspend()
		if w.done {
			v, ok := w.val, w.ok
			ch.release(w)
			if err != nil {
				c.rearm(err)
			}
			return v, ok, nil
		}
		if err != nil {
			if w.queued() {
				ch.recvq.remove(&w.Waiter)
			}
			ch.release(w)
			return zero, false, err
		}
	}
}

// TrySend sends v if it can without waiting: to a waiting receiver, or into
// the buffer. It returns nil if it sent v, an error matching ErrWouldBlock
// if it could not, and one matching ErrChanClosed on a closed Chan.
func (ch *Chan[T]) TrySend(v T) error {
	if err := ch.onLoop("Chan.TrySend"); err != nil {
		return err
	}
	if ch.closed {
		return sendClosed()
	}
	if !ch.trySend(v) {
		return fmt.Errorf("%w: TrySend: no receiver waits and the buffer is full", ErrWouldBlock)
	}
	return nil
}

// TryRecv receives a value if one is ready: it returns the value and true;
// the zero value and false, with a nil error, if ch is closed and drained;
// and an error matching ErrWouldBlock if no value is ready.
func (ch *Chan[T]) TryRecv() (T, bool, error) {
	var zero T
	if err := ch.onLoop("Chan.TryRecv"); err != nil {
		return zero, false, err
	}
	if v, ok, ready := ch.tryRecv(); ready {
		return v, ok, nil
	}
	return zero, false, fmt.Errorf("%w: TryRecv: no value is ready", ErrWouldBlock)
}

// Close closes ch: receivers drain the buffer, then get the zero value and
// false; receivers waiting now get them at once; senders waiting now get
// ErrChanClosed, their values unsent. Closing a closed Chan returns an
// error matching ErrChanClosed.
func (ch *Chan[T]) Close() error {
	if err := ch.onLoop("Chan.Close"); err != nil {
		return err
	}
	if ch.closed {
		return fmt.Errorf("%w: close of a closed Chan", ErrChanClosed)
	}
	ch.closed = true
	l := ch.loop
	for w := ch.takeParked(&ch.recvq); w != nil; w = ch.takeParked(&ch.recvq) {
		var zero T
		w.val, w.ok, w.done = zero, false, true
		w.wake(l)
	}
	for w := ch.takeParked(&ch.sendq); w != nil; w = ch.takeParked(&ch.sendq) {
		w.closed, w.done = true, true
		w.wake(l)
	}
	return nil
}

// Len returns the number of values in the buffer.
func (ch *Chan[T]) Len() int {
	if err := ch.onLoop("Chan.Len"); err != nil {
		panic(err)
	}
	return ch.count
}

// Cap returns the capacity of the buffer (0 for an unbuffered Chan).
func (ch *Chan[T]) Cap() int {
	if err := ch.onLoop("Chan.Cap"); err != nil {
		panic(err)
	}
	return len(ch.buf)
}

// All returns an iterator over the values received from ch until it is
// closed: for v := range ch.All(c) { ... }. If the task is cancelled while
// the iterator waits, the loop ends and the cancellation stays pending: the
// task's next suspension point returns it, so it is not lost. Misuse (a
// call outside the task of c) ends the loop at once, as a cancellation
// would; Recv reports it.
func (ch *Chan[T]) All(c *Ctx) iter.Seq[T] {
	return func(yield func(T) bool) {
		for {
			v, ok, err := ch.Recv(c)
			if err != nil {
				c.rearm(err)
				return
			}
			if !ok || !yield(v) {
				return
			}
		}
	}
}

// Poll makes a Chan an Awaitable of its next value: Await(c, ch) receives
// as Recv does, with the error ErrChanClosed, wrapped, once ch is closed and
// drained. A Waiter queued by Poll is woken by the next send (or Close) and
// polls again; the value is taken by the poll that returns it.
func (ch *Chan[T]) Poll(w *Waiter) (T, bool, error) {
	var zero T
	if err := ch.onLoop("Chan.Poll"); err != nil {
		return zero, true, err
	}
	if v, ok, ready := ch.tryRecv(); ready {
		if !ok {
			return zero, true, fmt.Errorf("%w: receive from a closed and drained Chan", ErrChanClosed)
		}
		return v, true, nil
	}
	ch.pollers().push(w)
	return zero, false, nil
}

// pollers is where Poll's Waiters wait: behind the parked receivers, as
// plain Waiters in the receivers' queue. takeParked wakes them and goes on,
// since they take nothing until they poll again.
func (ch *Chan[T]) pollers() *waitList { return &ch.recvq }

// trySend hands v to the first waiting receiver, or puts it in the buffer,
// and reports whether it could.
func (ch *Chan[T]) trySend(v T) bool {
	if r := ch.takeParked(&ch.recvq); r != nil {
		r.val, r.ok, r.done = v, true, true
		r.wake(ch.loop)
		return true
	}
	if ch.count < len(ch.buf) {
		i := ch.head + ch.count
		if i >= len(ch.buf) {
			i -= len(ch.buf)
		}
		ch.buf[i] = v
		ch.count++
		return true
	}
	return false
}

// tryRecv takes the next value if one is ready: from the buffer (refilled
// from the first waiting sender), or from a waiting sender. ready is false
// if there is none; ok is false if ch is closed and drained.
func (ch *Chan[T]) tryRecv() (v T, ok, ready bool) {
	if ch.count > 0 {
		var zero T
		v = ch.buf[ch.head]
		ch.buf[ch.head] = zero
		ch.head++
		if ch.head == len(ch.buf) {
			ch.head = 0
		}
		ch.count--
		if s := ch.takeParked(&ch.sendq); s != nil {
			i := ch.head + ch.count
			if i >= len(ch.buf) {
				i -= len(ch.buf)
			}
			ch.buf[i] = s.val
			ch.count++
			s.val, s.done = zero, true
			s.wake(ch.loop)
		}
		return v, true, true
	}
	if s := ch.takeParked(&ch.sendq); s != nil {
		var zero T
		v = s.val
		s.val, s.done = zero, true
		s.wake(ch.loop)
		return v, true, true
	}
	if ch.closed {
		return v, false, true
	}
	return v, false, false
}

// takeParked takes the first party of q that can still complete: it skips
// (and unlinks) the cases of Selects that another case has already won,
// and wakes the Waiters of Poll it passes (they poll again and may find
// what is left). Loop goroutine.
func (ch *Chan[T]) takeParked(q *waitList) *chanWaiter[T] {
	for w := q.pop(); w != nil; w = q.pop() {
		cw, ok := w.w.(*chanWaiter[T])
		if !ok {
			w.used()
			w.w.wake(ch.loop) // a Poll's Waiter: it polls again
			continue
		}
		cw.list = nil
		if cw.sel != nil && !cw.sel.claim(cw.idx) {
			continue // its Select chose another case, and will release it
		}
		return cw
	}
	return nil
}

// waiter returns a free parked-party record for task c.
func (ch *Chan[T]) waiter(c *Ctx) *chanWaiter[T] {
	var w *chanWaiter[T]
	if n := len(ch.free); n > 0 {
		w = ch.free[n-1]
		ch.free = ch.free[:n-1]
	} else {
		w = new(chanWaiter[T])
	}
	w.w, w.task = w, c
	return w
}

// release returns a record that is in no queue to the pool.
func (ch *Chan[T]) release(w *chanWaiter[T]) {
	*w = chanWaiter[T]{}
	if len(ch.free) < maxPooledWaiters {
		ch.free = append(ch.free, w)
	}
}
