package aio

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Select: Go's select statement for the tasks of a loop, over Chan sends
// and receives, awaitables (futures, tasks, an Awaitable of the program's
// own), a timeout and a default, after runtime/select.go. Select polls the
// cases in a random order and takes the first that is ready, so that among
// several ready cases each is chosen with the same chance; with none ready
// it takes the default, or parks one waiter on every case and suspends. The
// first case to complete claims the Select (selectState.claim): a Chan
// counterpart that finds a claimed Select's waiter skips it, so a losing
// case takes nothing and loses nothing. When the task resumes it takes all
// its waiters off, and reads the outcome of the case that won.

// A SelectCase is one case of a Select, made by RecvCase, SendCase,
// AwaitCase, TimeoutCase or DefaultCase.
type SelectCase interface {
	// try completes the case now if it is ready, and reports whether it
	// did; err is an error the case ends the Select with (a send on a
	// closed Chan).
	try(l *Loop) (done bool, err error)
	// arm parks the case's waiter, for s's case i.
	arm(s *selectState, i int) error
	// disarm takes the waiter off, whatever happened.
	disarm(l *Loop)
	// finish completes a case that was claimed while the task was parked,
	// and reports whether it did (an awaitable that fired but is not ready
	// after all does not).
	finish(s *selectState) (done bool, err error)
}

// selectState is one Select call's shared state, which its waiters point
// to.
type selectState struct {
	task   *Ctx
	won    bool // a case completed: the Select is decided
	chosen int
	fired  []int // awaitable cases whose waiter was woken, to poll again
}

// claim decides the Select for case i, unless it is decided already.
func (s *selectState) claim(i int) bool {
	if s.won {
		return false
	}
	s.won, s.chosen = true, i
	return true
}

// Select waits, in the calling task, until one of cases can proceed, does
// it, and returns its index in cases. Among cases ready at the same time
// each has the same chance. A DefaultCase is taken at once if no other case
// is ready; a case on a nil Chan is never ready. The error is that of the
// case that proceeded (ErrChanClosed for a send on a closed Chan), the
// task's cancellation (then no case proceeded: nothing was sent or
// received, and the index is -1), or misuse (no cases, two defaults, a Chan
// of another loop, a call outside the task of c), with the index -1. A case
// that a counterpart completed in the turn the task was cancelled wins, and
// the cancellation waits for the next suspension point: a value is never
// lost.
//
// A case may be made once and passed to many Select calls, one call at a
// time: a loop that selects over the same cases again and again can make
// them before it, and then a Select that finds a case ready allocates
// nothing (a SendCase sends the value it was made with each time). A case
// that is waiting in another task's Select is refused with an error
// matching ErrInvalidState and the index -1, and so is a case passed twice
// to one Select that has to wait (a case passed twice and ready is simply
// taken once).
func Select(c *Ctx, cases ...SelectCase) (int, error) {
	if err := c.check("Select"); err != nil {
		return -1, err
	}
	def := -1
	for i, sc := range cases {
		switch sc.(type) {
		case nil:
			return -1, fmt.Errorf("%w: Select case %d is nil", ErrInvalidState, i)
		case defaultCase:
			if def >= 0 {
				return -1, fmt.Errorf("%w: Select with two default cases", ErrInvalidState)
			}
			def = i
		}
	}
	if len(cases) == 0 {
		return -1, fmt.Errorf("%w: Select with no cases", ErrInvalidState)
	}
	if err := c.takeCancel(); err != nil {
		return -1, err
	}
	// Poll in a random permutation: the first ready case wins, so each of
	// several ready cases has the same chance.
	l := c.loop()
	var small [8]int
	order := small[:0]
	if len(cases) > len(small) {
		order = make([]int, 0, len(cases))
	}
	for i := range cases {
		j := rand.IntN(i + 1)
		order = append(order, 0)
		order[i] = order[j]
		order[j] = i
	}
	for _, i := range order {
		if i == def {
			continue
		}
		if done, err := cases[i].try(l); done {
			switch {
			case err == nil || errors.Is(err, ErrChanClosed):
				return i, err // the case proceeded (a send on a closed Chan too)
			case err == errCaseBusy:
				return -1, caseInUse(i)
			default:
				return -1, err // misuse: a Chan or future of another loop, a nil awaitable
			}
		}
	}
	if def >= 0 {
		return def, nil
	}
	return selectWait(c, l, cases)
}

// selectWait is Select with no case ready: it arms the cases, suspends
// until one completes, and takes the waiters off again. Only the cases it
// armed are disarmed, also when an arm, a Poll or a finish panics: a case
// after the one that decided the Select at arm may be waiting in another
// task's Select.
func selectWait(c *Ctx, l *Loop, cases []SelectCase) (int, error) {
	s := &selectState{task: c}
	armed := 0 // cases[:armed] are armed by this Select
	defer func() {
		for _, sc := range cases[:armed] {
			sc.disarm(l)
		}
	}()
	for i, sc := range cases {
		if err := sc.arm(s, i); err != nil {
			return -1, err // the deferred function disarms cases[:i]
		}
		armed = i + 1
		if s.won {
			break // an awaitable was ready when armed
		}
	}
	var err error
	for !s.won {
		if err = c.suspend(); err != nil {
			break
		}
		// Awaitable cases that fired: the first ready one wins.
		fired := s.fired
		s.fired = s.fired[:0]
		for _, i := range fired {
			if s.claim(i) {
				if ok, ferr := cases[i].finish(s); !ok {
					s.won = false // not ready after all: wait on
				} else {
					return i, ferr // the deferred function disarms them all
				}
			}
		}
	}
	for _, sc := range cases[:armed] {
		sc.disarm(l)
	}
	armed = 0
	if !s.won {
		return -1, err
	}
	if err != nil {
		c.rearm(err) // the case won in the same turn: its outcome stands
	}
	_, ferr := cases[s.chosen].finish(s)
	return s.chosen, ferr
}

// RecvCase is a Select case that receives from ch into *v and *ok (either
// may be nil), as v, ok := <-ch does.
func RecvCase[T any](ch *Chan[T], v *T, ok *bool) SelectCase {
	return &recvCase[T]{ch: ch, v: v, ok: ok}
}

type recvCase[T any] struct {
	ch *Chan[T]
	v  *T
	ok *bool
	w  *chanWaiter[T]
}

func (rc *recvCase[T]) set(v T, ok bool) {
	if rc.v != nil {
		*rc.v = v
	}
	if rc.ok != nil {
		*rc.ok = ok
	}
}

func (rc *recvCase[T]) try(l *Loop) (bool, error) {
	if rc.ch == nil {
		return false, nil
	}
	if rc.w != nil {
		return true, errCaseBusy
	}
	if err := rc.ch.bind(l); err != nil {
		return true, err
	}
	v, ok, ready := rc.ch.tryRecv()
	if ready {
		rc.set(v, ok)
	}
	return ready, nil
}

func (rc *recvCase[T]) arm(s *selectState, i int) error {
	if rc.ch == nil {
		return nil
	}
	if rc.w != nil {
		return caseInUse(i)
	}
	w := rc.ch.waiter(s.task)
	w.sel, w.idx = s, i
	rc.w = w
	rc.ch.recvq.push(&w.Waiter)
	return nil
}

func (rc *recvCase[T]) disarm(*Loop) {
	w := rc.w
	if w == nil {
		return
	}
	if w.queued() {
		rc.ch.recvq.remove(&w.Waiter)
	}
	if w.done {
		rc.set(w.val, w.ok)
	}
	rc.ch.release(w)
	rc.w = nil
}

func (rc *recvCase[T]) finish(*selectState) (bool, error) { return true, nil }

// SendCase is a Select case that sends v on ch, as ch <- v does. On a
// closed Chan it is ready, and Select returns its index with an error
// matching ErrChanClosed (Go panics).
func SendCase[T any](ch *Chan[T], v T) SelectCase {
	return &sendCase[T]{ch: ch, v: v}
}

type sendCase[T any] struct {
	ch     *Chan[T]
	v      T
	w      *chanWaiter[T]
	closed bool
}

func (sc *sendCase[T]) try(l *Loop) (bool, error) {
	if sc.ch == nil {
		return false, nil
	}
	if sc.w != nil {
		return true, errCaseBusy
	}
	if err := sc.ch.bind(l); err != nil {
		return true, err
	}
	if sc.ch.closed {
		return true, sendClosed()
	}
	return sc.ch.trySend(sc.v), nil
}

func (sc *sendCase[T]) arm(s *selectState, i int) error {
	if sc.ch == nil {
		return nil
	}
	if sc.w != nil {
		return caseInUse(i)
	}
	sc.closed = false // a reused case: what an earlier Select saw
	w := sc.ch.waiter(s.task)
	w.sel, w.idx, w.val = s, i, sc.v
	sc.w = w
	sc.ch.sendq.push(&w.Waiter)
	return nil
}

func (sc *sendCase[T]) disarm(*Loop) {
	w := sc.w
	if w == nil {
		return
	}
	if w.queued() {
		sc.ch.sendq.remove(&w.Waiter)
	}
	sc.closed = w.closed
	sc.ch.release(w)
	sc.w = nil
}

func (sc *sendCase[T]) finish(*selectState) (bool, error) {
	if sc.closed {
		return true, sendClosed()
	}
	return true, nil
}

// AwaitCase is a Select case that proceeds when a is ready, with a's result
// in *v and its error in *err (either may be nil). Nothing is taken from a
// future or a task by a case that loses; an Awaitable of the program's own
// is polled again only by the case that wins.
func AwaitCase[T any](a Awaitable[T], v *T, err *error) SelectCase {
	return &awaitCase[T]{a: a, v: v, err: err}
}

type awaitCase[T any] struct {
	a     Awaitable[T]
	v     *T
	err   *error
	node  *selectNode
	ready bool // the outcome is set
}

// selectNode is an awaitable case's Waiter: its wake records the case as
// fired and wakes the task, which polls it again.
type selectNode struct {
	Waiter
	s   *selectState
	idx int
}

func (n *selectNode) wake(l *Loop) {
	n.s.fired = append(n.s.fired, n.idx)
	n.s.task.wake(l)
}

func (n *selectNode) loopOf() *Loop { return n.s.task.loop() }

func (ac *awaitCase[T]) set(v T, err error) {
	ac.ready = true
	if ac.v != nil {
		*ac.v = v
	}
	if ac.err != nil {
		*ac.err = err
	}
}

func (ac *awaitCase[T]) try(l *Loop) (bool, error) {
	if ac.node != nil {
		return true, errCaseBusy
	}
	f, isNil := futureOf[T](ac.a)
	switch {
	case isNil:
		return true, fmt.Errorf("%w: Select of a nil awaitable", ErrInvalidState)
	case f != nil:
		if f.loop != l {
			return true, fmt.Errorf("%w: Select of a future of another loop", ErrInvalidState)
		}
		if f.isDone() {
			ac.set(f.Result())
			return true, nil
		}
	}
	return false, nil // an Awaitable of one's own is polled when armed
}

func (ac *awaitCase[T]) arm(s *selectState, i int) error {
	if ac.node != nil {
		return caseInUse(i)
	}
	ac.ready = false // a reused case: the outcome of an earlier Select
	n := &selectNode{s: s, idx: i}
	n.w = n
	if f, _ := futureOf[T](ac.a); f != nil {
		if f.owner == s.task {
			return fmt.Errorf("%w: task %s selects on itself", ErrInvalidState, s.task.String())
		}
		ac.node = n
		f.waiters.push(&n.Waiter)
		return nil
	}
	v, ok, err := ac.a.Poll(&n.Waiter)
	if ok {
		n.used()
		if s.claim(i) {
			ac.set(v, err)
		}
		return nil
	}
	if n.list == nil {
		return fmt.Errorf("%w: %T.Poll reported not ready without adding the Waiter to a WaitQueue", ErrInvalidState, ac.a)
	}
	ac.node = n
	return nil
}

func (ac *awaitCase[T]) disarm(l *Loop) {
	if ac.node != nil {
		ac.node.drop(l)
		ac.node = nil
	}
}

func (ac *awaitCase[T]) finish(s *selectState) (bool, error) {
	if ac.ready {
		return true, nil // ready when armed: the outcome is set
	}
	n := ac.node
	if f, _ := futureOf[T](ac.a); f != nil {
		if !f.isDone() {
			return false, nil
		}
		ac.set(f.Result())
		return true, nil
	}
	if n.wasPicked() {
		n.used()
	} else {
		n.drop(s.task.loop())
	}
	v, ok, err := ac.a.Poll(&n.Waiter)
	if !ok {
		return false, nil // queued again: wait on
	}
	n.used()
	ac.set(v, err)
	return true, nil
}

// TimeoutCase is a Select case that proceeds when d has passed on the
// loop's clock, if no other case did first. A zero or negative d is ready at
// once, though not before a ready case that the random order polls first.
func TimeoutCase(d time.Duration) SelectCase { return &timeoutCase{d: d} }

type timeoutCase struct {
	d     time.Duration
	timer *callback
	node  *timeoutNode
}

// timeoutNode is a timeout case's timer waker: the deadline claims the
// Select.
type timeoutNode struct {
	s   *selectState
	idx int
}

func (n *timeoutNode) wake(l *Loop) {
	if n.s.claim(n.idx) {
		n.s.task.wake(l)
	}
}

func (tc *timeoutCase) try(*Loop) (bool, error) {
	if tc.timer != nil {
		return true, errCaseBusy
	}
	return tc.d <= 0, nil
}

func (tc *timeoutCase) arm(s *selectState, i int) error {
	if tc.timer != nil {
		return caseInUse(i)
	}
	l := s.task.loop()
	tc.node = &timeoutNode{s: s, idx: i}
	tc.timer = l.pool.get(l, nil)
	l.timers.add(tc.timer, l.timers.after(tc.d), tc.node)
	return nil
}

func (tc *timeoutCase) disarm(l *Loop) {
	if tc.timer != nil {
		if tc.timer.timer.Queued() {
			l.timers.remove(tc.timer)
		}
		l.pool.put(tc.timer)
		tc.timer = nil
	}
}

func (tc *timeoutCase) finish(*selectState) (bool, error) { return true, nil }

// errCaseBusy is what a case's try returns while the case is armed by
// another Select; Select turns it into caseInUse with the index.
var errCaseBusy = errors.New("aio: Select case in use")

// caseInUse is the error of a case armed twice: by a Select still waiting
// (of another task), or twice in one Select.
func caseInUse(i int) error {
	return fmt.Errorf("%w: Select case %d is waiting in another Select (a case serves one Select at a time)", ErrInvalidState, i)
}

// DefaultCase is a Select case taken at once if no other case is ready.
func DefaultCase() SelectCase { return defaultCase{} }

type defaultCase struct{}

func (defaultCase) try(*Loop) (bool, error)           { return false, nil }
func (defaultCase) arm(*selectState, int) error       { return nil }
func (defaultCase) disarm(*Loop)                      {}
func (defaultCase) finish(*selectState) (bool, error) { return true, nil }
