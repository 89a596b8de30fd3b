package aio

import (
	"context"
	"errors"
	"fmt"
)

// Task groups: asyncio's TaskGroup, trio's nursery, errgroup's shape, on the
// cancel scope (scope.go) of the task that runs the group.

// ErrGroupClosed is returned (wrapped) by Spawn and Group.Go into a group
// that no longer takes tasks: it has ended, or it is cancelling its tasks
// after a failure or a Cancel.
var ErrGroupClosed = errors.New("aio: task group is closed")

// errGroupCancel is the cause of the cancellations a group makes itself: of
// its tasks and of its body, when a task fails or the group is cancelled.
var errGroupCancel = errors.New("aio: task group cancelled")

// A TaskError is a task's error as a task group returns it: which task
// failed, and how. errors.Is and errors.As see through it to Err.
type TaskError struct {
	Task AnyTask
	Err  error
}

// Error returns "task NAME#ID: " and the task's error.
func (e *TaskError) Error() string { return "task " + e.Task.String() + ": " + e.Err.Error() }

// Unwrap returns the task's error.
func (e *TaskError) Unwrap() error { return e.Err }

// A Group is a task group: a scope of the task that runs it, made by
// WithGroup, into which tasks are spawned (Spawn(g, body), or g.Go(fn) for a
// body with no result), and which waits for all of them before it ends.
//
// The first task to fail cancels the others and the group's body; so does
// an error returned by the body, and Cancel. A task that ends cancelled is
// not a failure, whoever cancelled it. The group's methods and Spawn into it
// must be called on the loop goroutine or in one of its tasks (any task of
// the loop, the group's children included).
type Group struct {
	c        *Ctx
	scope    *Scope
	children groupChild // sentinel of the list of live children
	live     int
	errs     []error
	q        WaitQueue    // the group's task, waiting for the children
	spare    []groupChild // nodes not used yet, allocated in chunks
	free     *groupChild  // nodes of children that are done, linked through next
	closed   bool         // takes no more tasks
	ended    bool
}

// groupChild is a group's node in one child's waiters: its completion
// counts down, and a failure aborts the group.
type groupChild struct {
	Waiter
	g          *Group
	task       *Ctx
	prev, next *groupChild
}

func (n *groupChild) wake(l *Loop) { n.g.childDone(n) }

// WithGroup runs body with a new task group g of the calling task, waits for
// every task spawned into g, and returns:
//   - the cancellation, if the calling task was cancelled from outside (its
//     tasks are cancelled and waited for; the outside cancellation is never
//     swallowed nor converted, and the errors of tasks that failed go to the
//     loop's error handler instead);
//   - otherwise errors.Join of the errors of the tasks that failed, each a
//     *TaskError naming the task, and of body's error (a task's panic is a
//     *PanicError there), or nil.
//
// The group's own cancellation of its body (on a failure, or Cancel) is
// absorbed: it does not come out of WithGroup. Groups nest; a group's task
// can run groups of its own. WithGroup returns ErrNilFunc for a nil body and
// an error matching ErrNotInTask if c is not the running task's Ctx.
func WithGroup(c *Ctx, body func(g *Group) error) error {
	s, err := enterScope(c, "WithGroup", body == nil)
	if err != nil {
		return err
	}
	s.exposed = true // the Group keeps it
	g := &Group{c: c, scope: s}
	g.children.next, g.children.prev = &g.children, &g.children
	defer func() {
		if !g.ended { // body panicked: the children go, the scope ends
			g.closed, g.ended = true, true
			g.abort()
			s.leaveOnPanic()
		}
	}()
	berr := body(g)
	var outside error
	if berr != nil {
		switch ce := asCanceled(berr); {
		case ce == nil:
			g.errs = append(g.errs, berr)
			g.abort()
		case ce.scope != s:
			outside = berr
		}
	}
	if outside != nil {
		g.abort()
	}
	for g.live > 0 {
		if err := g.q.Park(c); err != nil {
			if ce := asCanceled(err); ce != nil && ce.scope == s {
				continue // the group's own abort reached its waiting body
			}
			if outside == nil {
				outside = err
			}
			g.abort()
		}
	}
	g.closed, g.ended = true, true
	err = s.exit(outside, false)
	if err == nil && len(g.errs) > 0 {
		// A cancellation from outside that arrived with the failures, and
		// was not delivered because the group's own came first, wins too.
		err = c.takeCancel()
	}
	if err != nil {
		g.dropErrors()
		return err
	}
	return errors.Join(g.errs...)
}

// dropErrors reports the tasks' failures that WithGroup does not return,
// because a cancellation from outside goes on in their place: an error is
// never lost without a trace.
func (g *Group) dropErrors() {
	l := g.c.loop()
	for _, err := range g.errs {
		ec := ErrorContext{Message: "aio: a task of a group failed while the group was cancelled from outside", Err: err}
		if te, ok := err.(*TaskError); ok {
			ec.Task, ec.Err = te.Task, te.Err
		}
		l.report(ec)
	}
}

func (g *Group) spawnLoop() *Loop { return g.c.loop() }

// adopt takes c in as a child of g.
func (g *Group) adopt(c *Ctx) error {
	if g.closed {
		return fmt.Errorf("%w: Spawn into a group that has ended or is cancelling its tasks", ErrGroupClosed)
	}
	if c.loop() != g.c.loop() {
		return fmt.Errorf("%w: Spawn into a group of another loop", ErrInvalidState)
	}
	n := g.node()
	n.g, n.task, n.w = g, c, n
	n.prev, n.next = g.children.prev, &g.children
	g.children.prev.next = n
	g.children.prev = n
	g.live++
	c.fut.waiters.push(&n.Waiter)
	return nil
}

// groupChunk is how many child nodes a group allocates at once.
const groupChunk = 32

// node returns a free child node: one a done child left, or a new one from
// the group's current chunk, so that a spawn into a group costs no
// allocation of its own.
func (g *Group) node() *groupChild {
	if n := g.free; n != nil {
		g.free = n.next
		*n = groupChild{}
		return n
	}
	if len(g.spare) == 0 {
		g.spare = make([]groupChild, min(groupChunk, max(1, g.live)))
	}
	n := &g.spare[0]
	g.spare = g.spare[1:]
	return n
}

// Go spawns fn as a task of g, as errgroup's Go does: a body with no result.
// It returns ErrGroupClosed if g no longer takes tasks, and the errors of
// Spawn.
func (g *Group) Go(fn func(*Ctx) error) error {
	if fn == nil {
		return ErrNilFunc
	}
	_, err := Spawn(g, func(c *Ctx) (struct{}, error) { return struct{}{}, fn(c) })
	return err
}

// Cancel cancels every task of the group and the group's body (the scope
// WithGroup runs it in), with cause; the group then ends without an error
// of its own (asyncio 3.15's TaskGroup.cancel). Tasks that failed before
// still count. Loop goroutine and its tasks only.
func (g *Group) Cancel(cause error) {
	g.c.mustBeOnLoop("Group.Cancel")
	if g.ended {
		return
	}
	if cause == nil {
		cause = errGroupCancel
	}
	g.abortWith(cause)
}

// Len returns the number of the group's tasks that are not done. Loop
// goroutine and its tasks only.
func (g *Group) Len() int {
	g.c.mustBeOnLoop("Group.Len")
	return g.live
}

// childDone counts a child's completion, at that moment.
func (g *Group) childDone(n *groupChild) {
	n.prev.next, n.next.prev = n.next, n.prev
	g.live--
	task := n.task
	// The node is free again: the future's completion unlinked its
	// waiter, and this call is the wake.
	n.task, n.prev = nil, nil
	n.next, g.free = g.free, n
	if err := task.fut.err; err != nil && !errors.Is(err, context.Canceled) {
		task.fut.markRetrieved() // the group returns it
		g.errs = append(g.errs, &TaskError{Task: task.impl, Err: err})
		g.abort()
	}
	if g.live == 0 {
		g.q.list.wakeAll(g.c.loop())
	}
}

// abort cancels the group's tasks and its body, once, and closes the group
// to new tasks.
func (g *Group) abort() { g.abortWith(errGroupCancel) }

func (g *Group) abortWith(cause error) {
	if g.closed && g.scope.requested {
		return
	}
	g.closed = true
	for n := g.children.next; n != &g.children; n = n.next {
		n.task.cancel(cause)
	}
	if !g.ended {
		g.scope.cancel(cause)
	}
}
