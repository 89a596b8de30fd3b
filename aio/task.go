package aio

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync/atomic"
)

// Task states.
type taskState uint8

const (
	taskCreated   taskState = iota // spawned; its first step is queued
	taskRunning                    // its coroutine is running
	taskSuspended                  // suspended in a wait
	taskDone                       // its body returned (or never ran)
)

// taskIDs numbers tasks across all loops.
var taskIDs atomic.Uint64

// A Ctx is a task's handle, given to the task's body: the body passes it to
// Await, Sleep, Yield and to its own helper functions, and spawns child tasks
// with it (Spawn(c, ...)). It is not a context.Context. A Ctx is valid only
// inside its own task: using it from another task, a callback or another
// goroutine makes Await and the other suspending functions return an error
// matching ErrNotInTask.
type Ctx struct {
	fut  *futureBase // the task's future; fut.loop is the task's loop
	impl taskImpl    // the typed *Task[T] around this Ctx
	id   uint64
	name atomic.Pointer[string]
	coro *coro // the coroutine running the body; nil before the first step and after the end

	// One word: the step state and the cancellation count.
	state          taskState
	woken          bool  // a step is queued for the current suspension
	mustCancel     bool  // deliver a cancellation at the next suspension point
	errClaimed     bool  // a Gather that returned has claimed the task's error (see Gather)
	cancelRequests int32 // Cancelling(): requests not withdrawn by Uncancel

	x      *taskExtra // what few tasks need, made on first use
	waiter Waiter     // the task's node in the wait list it is parked in (wait.go)

	prev, next *Ctx // in the loop's table of live tasks
}

// taskExtra holds the state that most tasks never need, so that a task that
// is spawned, runs and completes stays small.
type taskExtra struct {
	cancelErr *CanceledError     // the cancellation to deliver (cancel.go)
	fail      *failure           // the record of the task's failure (failures.go)
	scope     *Scope             // the innermost cancel scope the body is in (scope.go)
	run       func(c *Ctx) error // the body as the loop's task hook wrapped it (SetTaskHook)
	site      *site              // where the task was spawned, in debug mode (debug.go)

	// Contexts (context.go): the parent given with WithContext and its
	// watch; the task's own context, made by the first Ctx.Context.
	parent     context.Context
	stopParent func() bool
	ctx        context.Context
	ctxCancel  context.CancelCauseFunc
}

func (c *Ctx) extra() *taskExtra {
	if c.x == nil {
		c.x = new(taskExtra)
	}
	return c.x
}

// taskImpl is implemented by every *Task[T].
type taskImpl interface {
	AnyTask
	runBody()
	abort(err error)
	plainBody() func(*Ctx) error
}

// AnyTask is the part of a task that does not depend on its result type:
// what introspection (Loop.Tasks, Loop.CurrentTask, Ctx.Task) returns.
// Every *Task[T] implements it; the methods are those of Task, documented
// there.
type AnyTask interface {
	// ID returns the task's ID, unique in the process.
	ID() uint64
	// Name returns the task's name; SetName renames it.
	Name() string
	SetName(name string)
	// Loop returns the loop the task runs on.
	Loop() *Loop
	// Cancel asks the task to stop (see Task.Cancel).
	Cancel(cause error) bool
	// Cancelling and Uncancel count the cancellation requests (loop only).
	Cancelling() int
	Uncancel() int
	// IsDone reports whether the task is done; Canceled whether it ended
	// canceled; Done returns a channel closed when it is done; Err its
	// error once done.
	IsDone() bool
	Canceled() bool
	Done() <-chan struct{}
	Err() error
	// String returns the task's name and ID, for logs.
	String() string
}

// A Task runs a function (its body) as a coroutine on a loop, and is a
// future of the body's result. The body is an ordinary Go function; it
// suspends when it calls Await, Sleep or Yield (at any depth of its call
// stack), and the loop runs other work until what it waits for is ready.
//
// Create tasks with Spawn. The loop keeps every task alive until it is done:
// nobody needs to hold a reference to a task for it to run to completion.
type Task[T any] struct {
	fut  Future[T]
	c    Ctx
	body func(*Ctx) (T, error)
}

// TaskOption configures a task at Spawn.
type TaskOption func(*taskConfig)

type taskConfig struct {
	name   string
	eager  bool
	parent context.Context
}

// WithName names a task. Without it a task is named "Task-N", with N its ID.
func WithName(name string) TaskOption {
	return func(c *taskConfig) { c.name = name }
}

// WithEagerStart makes Spawn, when it is called on the loop goroutine (from
// a task or a callback), run the new task's body at once, inside the call,
// until its first suspension (asyncio 3.12's eager_start): a body that never
// suspends completes before Spawn returns, without a round through the
// ready queue. From another goroutine the option has no effect. The task
// runs before whatever was queued before it; its later steps take their
// turns as any task's do.
func WithEagerStart() TaskOption {
	return func(c *taskConfig) { c.eager = true }
}

// A Spawner is where a task can be spawned: a *Loop, a task's *Ctx (the
// task's own loop), or a *Group (the group's task's loop, the task a child
// of the group), so that a body spawns with Spawn(c, ...) or Spawn(g, ...).
type Spawner interface {
	spawnLoop() *Loop
	// adopt takes the new task c in before it starts, on the loop
	// goroutine, or refuses it with an error.
	adopt(c *Ctx) error
}

func (l *Loop) spawnLoop() *Loop   { return l }
func (l *Loop) adopt(c *Ctx) error { return nil }

func (c *Ctx) spawnLoop() *Loop {
	if c == nil {
		return nil
	}
	return c.fut.loop
}
func (c *Ctx) adopt(*Ctx) error { return nil }

// Spawn creates a task that runs body on the loop of s (a *Loop, or a task's
// *Ctx) and returns it. The task starts at the loop's next iteration, not
// during Spawn (use Yield or Await to let it run). The loop keeps the task
// alive until it is done.
//
// Spawn may be called from any goroutine: from the loop goroutine and its
// tasks (asyncio's create_task), or from any other goroutine, which then
// waits for the task's result with Task.Wait or Task.Done (asyncio's
// run_coroutine_threadsafe). It returns ErrNilFunc for a nil body,
// ErrNoLoop for a nil or zero loop (or a nil Ctx), and ErrClosed on a
// closed loop.
func Spawn[T any](s Spawner, body func(*Ctx) (T, error), opts ...TaskOption) (*Task[T], error) {
	if body == nil {
		return nil, ErrNilFunc
	}
	var l *Loop
	if s != nil {
		l = s.spawnLoop()
	}
	if l == nil || l.poller == nil {
		return nil, noLoop("Spawn")
	}
	t := &Task[T]{body: body}
	eager := false
	if len(opts) > 0 {
		// Only here: &cfg escapes through the option funcs.
		cfg := new(taskConfig)
		for _, o := range opts {
			o(cfg)
		}
		if cfg.name != "" {
			t.c.name.Store(&cfg.name)
		}
		eager = cfg.eager
		if cfg.parent != nil {
			t.c.extra().parent = cfg.parent // published to the loop by startTask's post
		}
	}
	t.fut.loop = l
	t.fut.owner = &t.c
	c := &t.c
	c.fut, c.impl = &t.fut.futureBase, t
	c.waiter.w = c
	c.id = taskIDs.Add(1)
	if d := l.debug.on.Load(); d != nil {
		d.noteTask(c) // debug mode: keep the site (debug.go)
	}
	if l.onLoop() {
		if l.state.Load() == stateClosed { // a close hook (closehooks.go)
			return nil, fmt.Errorf("%w: Spawn", ErrClosed)
		}
		if err := s.adopt(c); err != nil {
			return nil, err
		}
		if eager && !l.direct {
			l.startEager(c)
		} else {
			l.startTask(c)
		}
		return t, nil
	}
	if _, ok := s.(*Group); ok {
		return nil, notOnLoop("Spawn into a Group")
	}
	if err := l.post(func() { l.startTask(c) }); err != nil {
		return nil, err
	}
	return t, nil
}

// startTask registers a new task and queues its first step. A task spawned
// while Shutdown runs is cancelled at once, as Shutdown cancelled the tasks
// before it, so it never runs. Loop goroutine.
func (l *Loop) startTask(c *Ctx) {
	l.register(c)
	l.soonStep(c)
}

// startEager registers a new task and runs its first step now, from the
// caller's loop turn (WithEagerStart).
func (l *Loop) startEager(c *Ctx) {
	l.register(c)
	l.step(c)
}

// register adds a new task to the loop's table, ready for its first step.
func (l *Loop) register(c *Ctx) {
	l.tasks.add(c)
	l.met.spawned++
	c.woken = true
	if h := l.hook; h != nil {
		c.extra().run = h(c.impl, c.impl.plainBody())
	}
	c.watchParent()
	if l.down.active {
		c.cancel(ErrShutdown)
	}
}

// soonStep queues a step of c. Loop goroutine.
func (l *Loop) soonStep(c *Ctx) {
	l.queue(ready{task: c})
}

// wake is c's side of the waker contract (wait.go): it queues a step of c if
// c is suspended and no step is queued yet. Futures, timers, wait queues,
// cancellation and the combinators resume a task through it: it only marks
// and queues, so it is safe at the moment the event happens.
func (c *Ctx) wake(l *Loop) {
	if c.state != taskSuspended || c.woken {
		return
	}
	c.woken = true
	l.soonStep(c)
}

func (c *Ctx) loopOf() *Loop { return c.fut.loop }

// loop returns the task's loop.
func (c *Ctx) loop() *Loop { return c.fut.loop }

// step resumes c's coroutine (starting it on the first step) until the body
// suspends or returns. It runs as a loop callback.
func (l *Loop) step(c *Ctx) {
	if !c.woken || c.state == taskDone {
		return // stale: the suspension this step was for has ended
	}
	c.woken = false
	if c.coro == nil {
		if c.mustCancel {
			// Cancelled before it started: the body never runs.
			c.impl.abort(c.x.cancelErr)
			return
		}
		c.coro = l.cpool.get(l)
		c.coro.task = c
	}
	l.met.steps++
	c.state = taskRunning
	prev := l.current
	prevG := l.thread.taskG.Load()
	l.current = c
	// taskG names the coroutine being resumed (a new one stores its own).
	// It is not cleared afterwards: a parked coroutine runs no code, so the
	// stale value lets nobody in, and not clearing it saves an atomic
	// exchange per step. It is cleared when a coroutine ends (endCoro),
	// since the runtime may then give its g to a new goroutine.
	if g := c.coro.g; g != 0 && l.thread.taskG.Load() != g {
		l.thread.taskG.Store(g)
	}
	c.coro.next()
	if d := l.dumpx; d != nil {
		d.stepped(l, c) // TrackWaits (dump.go)
	}
	l.current = prev
	if prev != nil && prevG != l.thread.taskG.Load() {
		// An eager step from inside a task: the task that spawned runs on.
		l.thread.taskG.Store(prevG)
	}
	if c.state == taskDone {
		co := c.coro
		c.coro, co.task, co.waitOn = nil, nil, nil
		l.cpool.put(l, co)
	}
}

// runBody runs the body on its coroutine and completes the task with what it
// returns. A panic becomes a *PanicError with the stack at the panic (the
// recover is here, inside the coroutine, because iter.Pull would re-panic in
// the loop with the stack lost). runtime.Goexit cannot be stopped: the task
// fails, and the loop goroutine exits after it (see Loop.RunForever).
func (t *Task[T]) runBody() {
	c := &t.c
	var v T
	var err error
	normal := false
	defer func() {
		if !normal {
			if r := recover(); r != nil {
				err = newPanicError(r)
			} else {
				err = fmt.Errorf("aio: task %s called runtime.Goexit", c.String())
				c.fut.loop.runErr = fmt.Errorf("%w: task %s called runtime.Goexit, which ends the loop goroutine", ErrClosed, c.String())
			}
		}
		t.complete(v, err)
	}()
	if c.x != nil && c.x.run != nil {
		err = c.x.run(c) // the hook's wrapper; plainBody stores the result
		v = t.fut.result
	} else {
		v, err = t.body(c)
	}
	normal = true
}

// plainBody returns the body as a func(*Ctx) error that keeps its result in
// the task's future, for the loop's task hook to wrap.
func (t *Task[T]) plainBody() func(*Ctx) error {
	return func(c *Ctx) error {
		v, err := t.body(c)
		t.fut.result = v
		return err
	}
}

// complete ends the task with the body's outcome. Loop goroutine only.
func (t *Task[T]) complete(v T, err error) {
	c := &t.c
	c.state = taskDone
	c.fut.loop.tasks.remove(c)
	c.endContexts()
	isCancel := err != nil && errors.Is(err, context.Canceled)
	t.fut.result = v
	t.fut.err = err
	if err != nil && !isCancel && !c.errClaimed {
		c.fut.loop.noteFailed(c) // before finish publishes the outcome
	}
	t.fut.finish(err, isCancel)
}

// abort ends a task whose body never ran.
func (t *Task[T]) abort(err error) {
	var zero T
	t.complete(zero, err)
}

func newPanicError(r any) *PanicError {
	return &PanicError{Value: r, Stack: debug.Stack()}
}

// Poll implements Awaitable: it returns the task's outcome and true if the
// task is done; otherwise it adds w to the task's waiters and returns false.
// Loop goroutine only.
func (t *Task[T]) Poll(w *Waiter) (T, bool, error) { return t.fut.Poll(w) }

// ID returns the task's ID, unique in the process. Any goroutine.
func (t *Task[T]) ID() uint64 { return t.c.id }

// Name returns the task's name. Any goroutine.
func (t *Task[T]) Name() string { return t.c.Name() }

// SetName renames the task. Any goroutine.
func (t *Task[T]) SetName(name string) { t.c.name.Store(&name) }

// String returns the task's name and ID, for logs.
func (t *Task[T]) String() string { return t.c.String() }

// Loop returns the loop the task runs on.
func (t *Task[T]) Loop() *Loop { return t.c.fut.loop }

// Cancel asks the task to stop, with cause (context.Canceled if nil). The
// wait that the task is suspended in (or, if it is not suspended, the next
// one it calls) returns a *CanceledError that matches context.Canceled and
// unwraps to cause. The body may handle the error and go on, or return it; a
// task whose body returns an error matching context.Canceled ends canceled.
// A task canceled before it started never runs its body. What the task
// awaits is not canceled with it.
//
// Cancel reports false if the task is done, true otherwise, and counts the
// request (see Cancelling). It may be called from any goroutine; from
// another goroutine the request travels through the loop's door and the
// result only says that the task was not done when Cancel was called.
func (t *Task[T]) Cancel(cause error) bool {
	c := &t.c
	if !c.fut.loop.onLoop() {
		if t.fut.isDone() {
			return false
		}
		return c.fut.loop.post(func() { c.cancel(cause) }) == nil
	}
	return c.cancel(cause)
}

// Cancelling returns the number of cancellation requests that have not been
// withdrawn with Uncancel (asyncio's Task.cancelling). Loop goroutine or its
// tasks only: it panics with an error matching ErrNotOnLoop elsewhere.
func (t *Task[T]) Cancelling() int {
	t.c.mustBeOnLoop("Task.Cancelling")
	return int(t.c.cancelRequests)
}

// Uncancel withdraws one cancellation request and returns the number left
// (asyncio's Task.uncancel). When none is left, a cancellation that has not
// been delivered yet is dropped too. Timeouts and task groups use it to tell
// their own cancellation from one that came from outside. Loop goroutine or
// its tasks only: it panics with an error matching ErrNotOnLoop elsewhere.
func (t *Task[T]) Uncancel() int {
	t.c.mustBeOnLoop("Task.Uncancel")
	return t.c.uncancel()
}

// IsDone reports whether the task is done. Any goroutine.
func (t *Task[T]) IsDone() bool { return t.fut.isDone() }

// Canceled reports whether the task ended canceled. Any goroutine.
func (t *Task[T]) Canceled() bool { return t.fut.Canceled() }

// Done returns a channel closed when the task is done. Any goroutine.
func (t *Task[T]) Done() <-chan struct{} { return t.fut.Done() }

// Result returns what the body returned, once the task is done; see
// Future.Result. Any goroutine.
func (t *Task[T]) Result() (T, error) { return t.fut.Result() }

// Err returns the task's error once it is done; see Future.Err.
func (t *Task[T]) Err() error { return t.fut.Err() }

// Wait blocks a goroutine other than the loops' until the task is done; see
// Future.Wait.
func (t *Task[T]) Wait(ctx context.Context) (T, error) { return t.fut.Wait(ctx) }

// AddDoneCallback arranges for fn to run on the loop once the task is done;
// see Future.AddDoneCallback.
func (t *Task[T]) AddDoneCallback(fn func()) (remove func() bool, err error) {
	return t.fut.addDoneCallback(fn)
}

// Loop returns the loop the task runs on.
func (c *Ctx) Loop() *Loop { return c.fut.loop }

// Task returns the task this Ctx belongs to.
func (c *Ctx) Task() AnyTask { return c.impl }

// Name returns the task's name.
func (c *Ctx) Name() string {
	if p := c.name.Load(); p != nil {
		return *p
	}
	return "Task-" + strconv.FormatUint(c.id, 10)
}

// String returns the task's name and ID, for logs.
func (c *Ctx) String() string {
	return c.Name() + "#" + strconv.FormatUint(c.id, 10)
}

func (c *Ctx) mustBeOnLoop(method string) {
	c.fut.loop.mustBeOnLoop(method)
}

// CurrentTask returns the task that is running, or nil when the caller is
// not a task of l (a callback, or another goroutine). Any goroutine.
func (l *Loop) CurrentTask() AnyTask {
	if g := curg(); g == 0 || g != l.thread.taskG.Load() {
		return nil
	}
	if c := l.current; c != nil {
		return c.impl
	}
	return nil
}

// Tasks returns the loop's live tasks: spawned and not done, in no
// particular order. Loop goroutine or its tasks only: it panics with an
// error matching ErrNotOnLoop elsewhere.
func (l *Loop) Tasks() []AnyTask {
	l.mustBeOnLoop("Loop.Tasks")
	return l.tasks.all()
}

// A TaskHook sees every task spawned on a loop (asyncio's task factory), as
// the task is registered, and returns the body to run in its place: body
// itself, or a wrapper around it (for tracing, metrics, logging). body runs
// the task's own body and keeps its result; its error is the task's.
type TaskHook func(t AnyTask, body func(*Ctx) error) func(*Ctx) error

// SetTaskHook sets the loop's task hook; nil removes it. Tasks spawned
// before keep the body they had. Loop goroutine and its tasks, or any
// goroutine before the loop first runs; elsewhere it panics with an error
// matching ErrNotOnLoop.
func (l *Loop) SetTaskHook(h TaskHook) {
	if l.poller == nil {
		panic(noLoop("SetTaskHook"))
	}
	if l.thread.loopG.Load() != 0 && !l.onLoop() {
		panic(notOnLoop("SetTaskHook"))
	}
	l.hook = h
}
