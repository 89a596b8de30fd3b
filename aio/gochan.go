package aio

import (
	"errors"
	"fmt"
	"sync"
)

// Go channels from tasks. A plain <-ch in a task blocks the loop's thread,
// and with it every task of the loop, until the value comes. GoRecv, GoSend
// and GoRecvCase wait for an ordinary Go channel without blocking the loop:
//
// Fast path. A non-blocking select first: if the channel is ready, the
// operation completes at once, with no goroutine and no suspension. As on a
// Chan, a pending cancellation is taken before the fast path: a cancelled
// task is refused even if the channel is ready.
//
// Slow path. The task parks, and a helper goroutine (one per wait, see
// below) blocks in select { case <-ch (or ch <- v): ...; case <-stop: },
// writes its verdict (done or stopped, and the value) into the operation's
// record, signals fin (a buffered channel) and hands the record to the loop
// through the door (Loop.send): its wake, on the loop, wakes the task. The
// helper touches nothing after that, and exits.
//
// Cancellation. A task cancelled while its helper is out puts a token in
// stop and waits, suspended, for the verdict, which is prompt: the helper is
// in a select that stop makes ready. If the helper had completed the
// operation first (the value was received, or sent), the operation stands:
// GoRecv returns the value, GoSend returns nil, and the cancellation is put
// back for the task's next suspension point (Ctx.rearm), as Chan does.
// Otherwise the cancellation is returned and nothing was received or sent.
// While the loop unwinds its tasks (Close), nothing comes through the door:
// the task then waits for fin itself, on the loop's thread (prompt too).
//
// Select. A GoRecvCase's helper may receive after another case has won, or
// after the Select was cancelled: Go offers no way to take back a receive.
// Such a value is kept in the loop's stash for that channel (goStash) and is
// given, first, to the next GoRecv or GoRecvCase of that channel on that
// loop. A value stashed when nobody on the loop receives from that channel
// again is stranded: when the loop closes, every stranded value is reported
// through the loop's error handler as a *StrandedValueError (which carries
// the value), never dropped silently.
//
// Why no GoSendCase: a losing case of a Select must send nothing, and a
// helper blocked in a Go select on ch <- v cannot promise that once another
// case has won: its send may complete at any moment before it sees stop,
// and a value sent cannot be taken back from the receiver.
//
// Why a goroutine per wait, chosen by measurement (bench_gochan_test.go,
// 2 cores): the mechanism alone, without a loop, costs 1.1-1.3 us and one
// allocation per value with a goroutine per wait
// (BenchmarkHelperGoroutinePerWait), and 1.6-2.3 us and three allocations
// with one shared goroutine blocked in reflect.Select over a control
// channel and the channels waited for (BenchmarkHelperSharedReflectSelect),
// which must also be woken through the control channel for every wait it
// adds or drops, and rebuilds its case list each round. Both are small
// beside the wake of the loop's locked OS thread through the door, which
// is most of a GoRecv that parks (20-35 us here, as for a goroutine locked
// to its thread doing the same receive).

// ErrStranded is matched (errors.Is) by a *StrandedValueError.
var ErrStranded = errors.New("aio: a value received from a Go channel on a loop's behalf was never taken")

// A StrandedValueError reports, through the loop's error handler when the
// loop closes, a value that a GoRecvCase received from Chan after its Select
// had chosen another case (or was cancelled), and that no later GoRecv or
// GoRecvCase of Chan on the loop took. Value is the value; Chan the channel
// (a <-chan T, as an any).
type StrandedValueError struct {
	Chan  any
	Value any
}

// Error says which value was stranded.
func (e *StrandedValueError) Error() string {
	return fmt.Sprintf("%v: %T value %v", ErrStranded, e.Value, e.Value)
}

// Is makes a *StrandedValueError match ErrStranded.
func (e *StrandedValueError) Is(target error) bool { return target == ErrStranded }

// GoRecv receives a value from the Go channel ch, suspending the calling
// task (not the loop) until one is there, as v, ok := <-ch does. It returns
// the value and true; or the zero value and false if ch is closed; or the
// task's cancellation, and then nothing was received from ch. A value that
// was received in the turn the task was cancelled (or before its helper
// could be stopped) is returned, and the cancellation is delivered at the
// task's next suspension point: a value is never lost.
//
// A ready channel is received from at once, without a goroutine; otherwise
// a helper goroutine waits for the value and ends with the call. A value
// that an abandoned GoRecvCase of the same loop received from ch (see
// GoRecvCase) is returned first. A nil ch is refused with an error matching
// ErrInvalidState (Go would block forever); misuse (a call outside the task
// of c) returns the errors of Await.
func GoRecv[T any](c *Ctx, ch <-chan T) (v T, ok bool, err error) {
	var zero T
	if ch == nil {
		return zero, false, fmt.Errorf("%w: GoRecv on a nil channel", ErrInvalidState)
	}
	if err := c.begin("GoRecv"); err != nil {
		return zero, false, err
	}
	l := c.loop()
	for st := stashOf(l, ch); st != nil; st = stashOf(l, ch) {
		if v, ok := st.take(l, ch); ok {
			return v, true, nil
		}
		if len(st.inflight) == 0 {
			break
		}
		// Helpers of abandoned cases are out on ch: their values come
		// before any later one.
		if err := st.q.Park(c); err != nil {
			return zero, false, err
		}
	}
	select {
	case v, ok = <-ch:
		return v, ok, nil
	default:
	}
	o := newGoOp[T](c)
	o.recv = ch
	go o.runRecv(l)
	if err := o.wait(c); err != nil {
		o.release()
		return zero, false, err
	}
	v, ok = o.val, o.ok
	o.release()
	return v, ok, nil
}

// GoSend sends v on the Go channel ch, suspending the calling task (not the
// loop) until a receiver takes it or there is room in the buffer, as ch <- v
// does. It returns nil once v is sent; an error matching ErrChanClosed if ch
// is closed (where Go panics), and then v is not sent; or the task's
// cancellation, and then v is not sent. A send that completed in the turn
// the task was cancelled (or before its helper could be stopped) returns
// nil, and the cancellation is delivered at the task's next suspension
// point.
//
// A ready channel takes v at once, without a goroutine; otherwise a helper
// goroutine waits to send and ends with the call. A nil ch is refused with
// an error matching ErrInvalidState; misuse returns the errors of Await.
func GoSend[T any](c *Ctx, ch chan<- T, v T) error {
	if ch == nil {
		return fmt.Errorf("%w: GoSend on a nil channel", ErrInvalidState)
	}
	if err := c.begin("GoSend"); err != nil {
		return err
	}
	if sent, err := trySendGo(ch, v); sent || err != nil {
		return err
	}
	l := c.loop()
	o := newGoOp[T](c)
	o.send, o.val = ch, v
	go o.runSend(l)
	err := o.wait(c)
	if err == nil && o.closed {
		err = goSendClosed()
	}
	o.release()
	return err
}

// GoRecvCase is a Select case that receives from the Go channel ch into *v
// and *ok (either may be nil), as v, ok := <-ch does. A case on a nil ch is
// never ready, as in Go. A ready channel (or a value in the loop's stash for
// ch) is taken without a goroutine; otherwise a helper goroutine waits on
// ch while the Select waits, and is stopped when the Select ends.
//
// A value the helper received after another case won, or after the Select
// was cancelled, is not lost: it goes to the loop's stash for ch, and the
// next GoRecv or GoRecvCase of ch on the same loop gets it first (GoRecv
// also waits for a helper that is still being stopped, so that values keep
// their order; a GoRecvCase does not wait, and may take a later value from
// ch before a stashed one arrives). A stashed value that nobody on the loop
// takes, because nobody receives from ch there again, is stranded: it is
// reported, with the value, through the loop's error handler as a
// *StrandedValueError when the loop closes. Receive from a channel in a
// Select only where the loop receives from it again, or drains it with
// GoRecv, if every value matters.
//
// There is no send case for Go channels: a losing case must send nothing,
// and a helper goroutine blocked on ch <- v cannot promise that once
// another case has won. Send with GoSend, or through a Chan.
func GoRecvCase[T any](ch <-chan T, v *T, ok *bool) SelectCase {
	return &goRecvCase[T]{ch: ch, v: v, ok: ok}
}

type goRecvCase[T any] struct {
	ch <-chan T
	v  *T
	ok *bool
	o  *goOp[T]
}

func (rc *goRecvCase[T]) set(v T, ok bool) {
	if rc.v != nil {
		*rc.v = v
	}
	if rc.ok != nil {
		*rc.ok = ok
	}
}

func (rc *goRecvCase[T]) try(l *Loop) (bool, error) {
	if rc.ch == nil {
		return false, nil
	}
	if rc.o != nil {
		return true, errCaseBusy
	}
	if st := stashOf(l, rc.ch); st != nil {
		if v, ok := st.take(l, rc.ch); ok {
			rc.set(v, true)
			return true, nil
		}
	}
	select {
	case v, ok := <-rc.ch:
		rc.set(v, ok)
		return true, nil
	default:
		return false, nil
	}
}

func (rc *goRecvCase[T]) arm(s *selectState, i int) error {
	if rc.ch == nil {
		return nil
	}
	if rc.o != nil {
		return caseInUse(i)
	}
	l := s.task.loop()
	o := newGoOp[T](s.task)
	o.recv, o.sel, o.idx = rc.ch, s, i
	rc.o = o
	go o.runRecv(l)
	return nil
}

func (rc *goRecvCase[T]) disarm(l *Loop) {
	o := rc.o
	if o == nil {
		return
	}
	rc.o = nil
	if !o.in {
		// The helper is out: stop it; its value, if it got one after
		// all, goes to the stash.
		o.stop <- struct{}{}
		stashFor(l, o.recv).abandon(o)
		return
	}
	if o.done && !o.stashed {
		rc.set(o.val, o.ok) // this case won
	}
	o.release()
}

func (rc *goRecvCase[T]) finish(*selectState) (bool, error) { return true, nil }

// trySendGo sends v on ch if it can without blocking; a send on a closed
// channel returns an error matching ErrChanClosed.
func trySendGo[T any](ch chan<- T, v T) (sent bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			sent, err = false, goSendClosed()
		}
	}()
	select {
	case ch <- v:
		return true, nil
	default:
		return false, nil
	}
}

func goSendClosed() error { return fmt.Errorf("%w: send on a closed Go channel", ErrChanClosed) }

// goOp is one wait for a Go channel: the record that the helper goroutine
// fills and hands to the loop through the door.
type goOp[T any] struct {
	// Set by the loop before the helper starts; read-only for the helper.
	recv <-chan T
	send chan<- T
	sig  *goSignals

	// Written by the helper before it signals fin and sends the record;
	// read by the loop after.
	val    T    // the value to send, or the value received
	ok     bool // for a receive: val is a value (false: ch is closed)
	done   bool // the helper completed the operation (it was not stopped first)
	closed bool // for a send: ch was closed (the send panicked); nothing sent

	// Loop side.
	stop    chan<- struct{} // sig.stop
	task    *Ctx
	sel     *selectState // the Select of a GoRecvCase; nil for GoRecv and GoSend
	idx     int
	in      bool        // the verdict came through the door
	dead    bool        // the verdict was taken from fin: ignore the door item
	stashed bool        // the value went to the stash (the Select chose another case)
	stash   *goStash[T] // set when a Select abandoned the helper
}

// goSignals are a wait's two channels, pooled: stop (the loop to the
// helper) and fin (the helper's verdict is written). Both have a buffer of
// one and are empty when pooled.
type goSignals struct {
	stop chan struct{}
	fin  chan struct{}
}

var goSignalPool = sync.Pool{New: func() any {
	return &goSignals{stop: make(chan struct{}, 1), fin: make(chan struct{}, 1)}
}}

func newGoOp[T any](c *Ctx) *goOp[T] {
	sig := goSignalPool.Get().(*goSignals)
	return &goOp[T]{sig: sig, stop: sig.stop, task: c}
}

// runRecv is the helper of a receive.
func (o *goOp[T]) runRecv(l *Loop) {
	sig := o.sig
	select {
	case v, ok := <-o.recv:
		o.val, o.ok, o.done = v, ok, true
	case <-sig.stop:
	}
	sig.fin <- struct{}{}
	l.send(o) // the loop may reuse o from here on: touch nothing
}

// runSend is the helper of a send.
func (o *goOp[T]) runSend(l *Loop) {
	sig := o.sig
	o.sendOnce(sig.stop)
	sig.fin <- struct{}{}
	l.send(o)
}

func (o *goOp[T]) sendOnce(stop <-chan struct{}) {
	defer func() {
		if r := recover(); r != nil {
			o.closed, o.done = true, true
		}
	}()
	select {
	case o.send <- o.val:
		o.done = true
	case <-stop:
	}
}

// wake takes the helper's verdict in, on the loop (the door's waker).
func (o *goOp[T]) wake(l *Loop) {
	if o.dead {
		return
	}
	o.settle()
	switch {
	case o.stash != nil:
		o.stash.settled(l, o)
	case o.sel != nil:
		if !o.done {
			return // stopped: the Select is over
		}
		if o.sel.claim(o.idx) {
			o.task.wake(l)
			return
		}
		// Another case won in the meantime: keep a value for the next
		// receiver of the channel on this loop.
		o.stashed = true
		if o.ok {
			stashFor(l, o.recv).put(o.val)
		}
	default:
		o.task.wake(l)
	}
}

// settle marks the verdict in and empties the signal channels: fin holds
// the helper's signal, stop the token of a stop the helper did not take.
func (o *goOp[T]) settle() {
	o.in = true
	<-o.sig.fin
	select {
	case <-o.sig.stop:
	default:
	}
}

// waitFin takes the verdict from fin, blocking the loop's thread: only
// while the loop closes, when the door delivers nothing (the helper has
// been stopped, so the wait is short).
func (o *goOp[T]) waitFin() {
	<-o.sig.fin
	o.in, o.dead = true, true
	select {
	case <-o.sig.stop:
	default:
	}
}

// release returns the signals to the pool once the helper is done with
// them (the verdict is in).
func (o *goOp[T]) release() {
	if o.sig == nil {
		return
	}
	goSignalPool.Put(o.sig)
	o.sig = nil
}

// wait suspends c until the helper's verdict is in, and returns nil if the
// operation completed (with a cancellation that came meanwhile put back for
// the next suspension point), or the cancellation if it did not.
func (o *goOp[T]) wait(c *Ctx) error {
	var err error
	c.coro.waitOn = o // for the task dump (dump.go)
	for {
		err = c.suspend()
		if o.in {
			if err != nil {
				c.rearm(err)
			}
			return nil
		}
		if err != nil {
			break
		}
	}
	// Cancelled with the helper out: stop it and wait for its verdict.
	o.stop <- struct{}{}
	var later []error
	closing := errors.Is(err, ErrClosed)
	for !o.in && !closing {
		e := c.suspend()
		switch {
		case e == nil:
		case errors.Is(e, ErrClosed):
			closing = true
		default:
			later = append(later, e) // put back below
		}
	}
	if !o.in {
		o.waitFin() // the loop is closing: the door delivers nothing
	}
	for _, e := range later {
		c.rearm(e)
	}
	if o.done {
		c.rearm(err)
		return nil
	}
	return err
}

// Stashes: per loop, per channel, the values GoRecvCase helpers received
// after their Select had moved on, and the helpers still being stopped.

// goStash is the stash of one channel on one loop. Loop goroutine only.
type goStash[T any] struct {
	vals     []T
	inflight []*goOp[T] // abandoned helpers whose verdict is not in
	q        WaitQueue  // GoRecv calls waiting for those verdicts
}

// loopStashes is a loop's stashes, by channel (a <-chan T as an any).
type loopStashes struct {
	m map[any]any
}

// stashOf returns l's stash for ch, or nil. Loop goroutine.
func stashOf[T any](l *Loop, ch <-chan T) *goStash[T] {
	ls := l.goStashes
	if ls == nil {
		return nil
	}
	st, _ := ls.m[ch].(*goStash[T])
	return st
}

// stashFor returns l's stash for ch, making it. Loop goroutine.
func stashFor[T any](l *Loop, ch <-chan T) *goStash[T] {
	ls := l.goStashes
	if ls == nil {
		ls = &loopStashes{m: make(map[any]any)}
		// The hook cannot fail here: stashes are made by tasks and loop
		// callbacks, which all end before a loop runs its close hooks.
		_, _ = l.OnClose(func() { ls.strand(l) })
		l.goStashes = ls
	}
	st, _ := ls.m[ch].(*goStash[T])
	if st == nil {
		st = &goStash[T]{}
		ls.m[ch] = st
	}
	return st
}

func (st *goStash[T]) put(v T) { st.vals = append(st.vals, v) }

// take takes the oldest stashed value, and forgets the stash once it is
// empty and nobody waits on it.
func (st *goStash[T]) take(l *Loop, ch <-chan T) (T, bool) {
	var v T
	if len(st.vals) == 0 {
		return v, false
	}
	v = st.vals[0]
	var zero T
	st.vals[0] = zero
	st.vals = st.vals[1:]
	st.tidy(l, ch)
	return v, true
}

// abandon records a helper that a Select stopped before its verdict came.
func (st *goStash[T]) abandon(o *goOp[T]) {
	o.stash = st
	st.inflight = append(st.inflight, o)
}

// settled takes in the verdict of an abandoned helper.
func (st *goStash[T]) settled(l *Loop, o *goOp[T]) {
	for i, p := range st.inflight {
		if p == o {
			st.inflight = append(st.inflight[:i], st.inflight[i+1:]...)
			break
		}
	}
	if o.done && o.ok {
		st.put(o.val)
	}
	ch := o.recv
	o.release()
	if st.q.list.head != nil {
		st.q.WakeAll()
	}
	st.tidy(l, ch)
}

// tidy forgets an empty stash.
func (st *goStash[T]) tidy(l *Loop, ch <-chan T) {
	if len(st.vals) > 0 || len(st.inflight) > 0 || st.q.list.head != nil {
		return
	}
	ls := l.goStashes
	if ls == nil {
		return
	}
	delete(ls.m, ch)
	// The loop's entry and close hook stay until the loop closes.
}

// strander is a stash seen from the close hook, whatever its T.
type strander interface {
	strand(l *Loop, ch any)
}

// strand, at the close of l, waits for the verdicts of the helpers still
// out and reports every value left in l's stashes.
func (ls *loopStashes) strand(l *Loop) {
	l.goStashes = nil
	for ch, st := range ls.m {
		st.(strander).strand(l, ch)
	}
	clear(ls.m)
}

func (st *goStash[T]) strand(l *Loop, ch any) {
	for _, o := range st.inflight {
		o.waitFin()
		if o.done && o.ok {
			st.vals = append(st.vals, o.val)
		}
		o.release()
	}
	st.inflight = nil
	for _, v := range st.vals {
		l.reportNow(ErrorContext{
			Message: "aio: a value received from a Go channel was never taken",
			Err:     &StrandedValueError{Chan: ch, Value: v},
		})
	}
	st.vals = nil
}
