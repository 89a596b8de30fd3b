package aio

import (
	"errors"
	"fmt"
)

// ErrTaskSetClosed is returned (wrapped) by TaskSet.Spawn after Close, and
// after the set's owner task has ended.
var ErrTaskSetClosed = errors.New("aio: task set is closed")

// errTaskSetCancel is the cause of the cancellations a task set makes.
var errTaskSetCancel = errors.New("aio: task set cancelled")

// A TaskSet is a set of tasks of one result type (tokio's JoinSet): Spawn
// adds a task, JoinNext waits for the next one to finish, in completion
// order, Len counts what the set holds, CancelAll cancels it all, and Close
// cancels and waits for what the set still holds. What a set owns does not
// outlive it: a set belongs to the task that made it, and when that task
// ends, the tasks still in the set are cancelled.
//
// A TaskSet is used on the loop goroutine and in its tasks only: Spawn and
// the methods with an error result return an error matching ErrNotOnLoop
// elsewhere, Len and CancelAll panic with one.
type TaskSet[T any] struct {
	owner   *Ctx
	loop    *Loop
	running setNode[T] // sentinel of the list of tasks not done
	done    []*Task[T] // done and not joined yet, in completion order
	q       WaitQueue  // JoinNext and Close wait here
	n       int        // running
	closed  bool
	ownerND ownerNode[T] // the set's node in its owner's waiters
}

// setNode is the set's node in one task's waiters.
type setNode[T any] struct {
	Waiter
	set        *TaskSet[T]
	task       *Task[T]
	prev, next *setNode[T]
}

func (n *setNode[T]) wake(l *Loop) {
	s := n.set
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
	s.n--
	s.done = append(s.done, n.task)
	s.q.list.wakeAll(l)
}

// ownerNode is the set's node in its owner task's waiters: when the owner
// ends, what the set holds is cancelled.
type ownerNode[T any] struct {
	Waiter
	set *TaskSet[T]
}

func (n *ownerNode[T]) wake(*Loop) {
	n.set.closed = true
	n.set.cancelAll(errTaskSetCancel)
}

// NewTaskSet returns an empty task set owned by the task of c.
func NewTaskSet[T any](c *Ctx) (*TaskSet[T], error) {
	if err := c.check("NewTaskSet"); err != nil {
		return nil, err
	}
	s := &TaskSet[T]{owner: c, loop: c.loop()}
	s.running.next, s.running.prev = &s.running, &s.running
	s.ownerND.set, s.ownerND.w = s, &s.ownerND
	c.fut.waiters.push(&s.ownerND.Waiter)
	return s, nil
}

// Spawn spawns body as a task of the set and returns it. It returns
// ErrTaskSetClosed after Close or the owner's end, and the errors of the
// package's Spawn.
func (s *TaskSet[T]) Spawn(body func(*Ctx) (T, error), opts ...TaskOption) (*Task[T], error) {
	if !s.loop.onLoop() {
		return nil, notOnLoop("TaskSet.Spawn")
	}
	if s.closed {
		return nil, fmt.Errorf("%w: Spawn", ErrTaskSetClosed)
	}
	t, err := Spawn(s.loop, body, opts...)
	if err != nil {
		return nil, err
	}
	n := &setNode[T]{set: s, task: t}
	n.w = n
	n.prev, n.next = s.running.prev, &s.running
	s.running.prev.next = n
	s.running.prev = n
	s.n++
	t.fut.waiters.push(&n.Waiter)
	return t, nil
}

// JoinNext waits, in the calling task, for the next task of the set to be
// done, in completion order, takes it out of the set and returns it; its
// outcome is t.Result(). On an empty set it returns nil, nil at once. The
// error is the calling task's cancellation (the set is left as it was), or
// misuse as for Await.
func (s *TaskSet[T]) JoinNext(c *Ctx) (*Task[T], error) {
	if err := s.q.CheckTask(c); err != nil {
		return nil, err
	}
	for len(s.done) == 0 {
		if s.n == 0 {
			return nil, nil
		}
		if err := s.q.Park(c); err != nil {
			return nil, err
		}
	}
	t := s.done[0]
	s.done[0] = nil
	s.done = s.done[1:]
	t.fut.markRetrieved()
	return t, nil
}

// Len returns the number of tasks the set holds: running, or done and not
// joined yet.
func (s *TaskSet[T]) Len() int {
	s.loop.mustBeOnLoop("TaskSet.Len")
	return s.n + len(s.done)
}

// CancelAll cancels every task of the set that is not done, with cause
// (an error of its own if nil); they stay in the set until joined.
func (s *TaskSet[T]) CancelAll(cause error) {
	s.loop.mustBeOnLoop("TaskSet.CancelAll")
	if cause == nil {
		cause = errTaskSetCancel
	}
	s.cancelAll(cause)
}

func (s *TaskSet[T]) cancelAll(cause error) {
	for n := s.running.next; n != &s.running; n = n.next {
		n.task.c.cancel(cause)
	}
}

// Close cancels every task of the set that is not done, waits for them all,
// and empties the set; their outcomes are dropped (their errors count as
// retrieved). The set takes no more tasks. If the calling task is cancelled
// while Close waits, Close goes on waiting (the tasks must not outlive the
// set) and returns the cancellation at the end.
func (s *TaskSet[T]) Close(c *Ctx) error {
	if err := s.q.CheckTask(c); err != nil {
		return err
	}
	s.closed = true
	s.cancelAll(errTaskSetCancel)
	var cerr error
	for s.n > 0 {
		if err := s.q.Park(c); err != nil && cerr == nil {
			cerr = err
		}
	}
	for _, t := range s.done {
		t.fut.markRetrieved()
	}
	clear(s.done)
	s.done = s.done[:0]
	if s.ownerND.queued() {
		s.owner.fut.waiters.remove(&s.ownerND.Waiter)
	}
	return cerr
}
