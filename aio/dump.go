package aio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The task dump: asyncio 3.14's call graph (asyncio.capture_call_graph,
// python -m asyncio ps and pstree) for a loop.
//
// What a task awaits is read, when a dump is made, from a seam that costs
// the waits one store: where a task suspends (Await of a future or task,
// WaitQueue.Park, an Awaitable's Poll, Sleep, GoRecv and GoSend), it leaves
// in its coroutine a pointer to what it waits on (coro.waitOn). The pointer
// is not cleared when the wait ends: the dump checks that it still holds
// (the task's waiter is still in that future's or queue's list, the timer
// still wakes that task, ...) and ignores a stale one. Waits that leave no
// pointer (Gather, Wait, Select, Chan) are found from the other side: the
// dump walks every live task's list of waiters, where their nodes are, and
// so learns who awaits whom. A WaitQueue says what it is through a label its
// owner gives it (WaitQueue.Describe); an Awaitable of the program's own
// through a DescribeWait method (WaitDescriber).
//
// The tree: a task's parent is the task whose group (or TaskSet) it was
// spawned into; a task spawned outside a group has as parent the task that
// awaits it (Await, Gather, Wait, Select), if one does, and is a root
// otherwise. The loop does not record who spawned a task (it would cost
// every Spawn a pointer and keep the spawner alive), so a task spawned from
// another and left to run alone is a root, as in asyncio's call graph,
// which also follows awaits.

// Kinds of wait (WaitInfo.Kind) that the package itself reports. Labels of
// WaitQueues (WaitLabel.Kind) and WaitDescribers add their own: the sibling
// packages report "lock", "semaphore", "event", "condition", "barrier",
// "queue", "socket" and "executor".
const (
	WaitFuture    = "future"    // Await of a plain future
	WaitTask      = "task"      // Await of another task (WaitInfo.Tasks)
	WaitSleep     = "sleep"     // Sleep (WaitInfo.Deadline)
	WaitGoChan    = "gochan"    // GoRecv, GoSend: a Go channel
	WaitGather    = "gather"    // Gather (WaitInfo.Tasks: the tasks not done)
	WaitAny       = "wait"      // Wait, AsCompleted
	WaitSelect    = "select"    // Select (WaitInfo.Tasks: the task cases)
	WaitGroupKind = "group"     // WithGroup waiting for its tasks (WaitInfo.Tasks)
	WaitQueueKind = "waitqueue" // a WaitQueue with no label
	WaitAwaitable = "awaitable" // an Awaitable of the program's own with no DescribeWait
	WaitUnknown   = "unknown"   // a wait the dump cannot name (a Chan, a Select with no task case)
)

// Task states in a dump (TaskInfo.State).
const (
	StateCreated   = "created"   // spawned, its first step not run yet
	StateRunning   = "running"   // its body is running (the dump was made from it)
	StateSuspended = "suspended" // waiting
	StateReady     = "ready"     // woken, or yielded: its next step is queued
)

// DumpOptions selects what a dump holds.
type DumpOptions struct {
	// Stacks adds each task's own stack: the goroutine of its coroutine,
	// cut out of runtime.Stack. It stops the world for a moment.
	Stacks bool
}

// A Dump is the state of every live task of a loop at one moment: the data
// of Loop.Dump, which String (or WriteText) formats as a tree and
// encoding/json as JSON.
type Dump struct {
	Time  time.Time  `json:"time"`  // the loop's clock when the dump was made
	Tasks []TaskInfo `json:"tasks"` // the live tasks, by ID
	Roots []uint64   `json:"roots"` // the IDs of the tasks with no parent, in order
	// StacksNote says why some stacks are missing, when Stacks was asked
	// for and not every task's could be found.
	StacksNote string `json:"stacks_note,omitempty"`
}

// TaskInfo is one task of a Dump.
type TaskInfo struct {
	ID    uint64 `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"` // StateCreated, StateRunning, StateSuspended, StateReady
	// Parent is the ID of the parent task, 0 for a root; Link says what
	// makes it the parent: "group", "taskset" (spawned into one of its
	// groups or task sets), or "awaited" (it awaits this task).
	Parent   uint64   `json:"parent,omitempty"`
	Link     string   `json:"link,omitempty"`
	Children []uint64 `json:"children,omitempty"` // in order of ID
	// Created is where the task was spawned ("file:line"), if the loop
	// was in debug mode then (see CreationSite); "" otherwise.
	Created string `json:"created,omitempty"`
	// Waited is how long the task has been suspended, when the loop
	// tracks it (debug mode, Loop.TrackWaits); 0 otherwise.
	Waited time.Duration `json:"waited_ns,omitempty"`
	// Awaits is what a suspended (or woken) task waits for; nil for a
	// task that runs, has not started, or yielded.
	Awaits     *WaitInfo `json:"awaits,omitempty"`
	Cancelling int       `json:"cancelling,omitempty"` // cancellation requests not withdrawn
	// Goroutine is the id of the goroutine of the task's coroutine, and
	// Stack its stack (with DumpOptions.Stacks), when they are known.
	Goroutine uint64 `json:"goroutine,omitempty"`
	Stack     string `json:"stack,omitempty"`
}

// WaitInfo says what a task waits for.
type WaitInfo struct {
	Kind string `json:"kind"`           // WaitFuture, WaitTask, WaitSleep, ..., or a label's kind
	What string `json:"what,omitempty"` // the thing waited for, in words
	// Tasks are the IDs of the tasks awaited (Await of a task, Gather,
	// Wait, Select), in order of ID.
	Tasks []uint64 `json:"tasks,omitempty"`
	// Deadline is when a Sleep ends, or the earliest deadline of the cancel
	// scopes (timeouts) the task is in; zero if none.
	Deadline time.Time `json:"deadline,omitzero"`
	// Object is the address of what is waited on (a future, a WaitQueue),
	// so that tasks waiting on the same one can be told: "0xc000123456".
	Object string `json:"object,omitempty"`
	// Waiters counts the tasks and other waiters parked on the same
	// WaitQueue or future, this one included; 0 if not known.
	Waiters int `json:"waiters,omitempty"`
}

// A WaitLabel says what the tasks parked on a WaitQueue wait for, for the
// task dump (WaitQueue.Describe).
type WaitLabel struct {
	Kind string // the kind of wait, WaitInfo.Kind: "lock", "queue", "socket", ...
	What string // what is waited for, WaitInfo.What: "locks.Lock", "queue.Queue.Get", ...
	// Detail, if not nil, is called when a dump is made (on the loop) and
	// what it returns is added to What: an address, a state.
	Detail func() string
}

// A WaitDescriber is an Awaitable that says, for the task dump, what a task
// awaiting it waits for. DescribeWait is called on the loop, when a dump is
// made.
type WaitDescriber interface {
	DescribeWait() (kind, what string)
}

// Describe labels q for the task dump: a task parked on q is shown as
// waiting for label's Kind and What. It costs one pointer store, so a
// primitive may call it where it parks with a label made once (a package
// variable), or once when it makes q with a label of its own (with a
// Detail). A nil label removes it. Loop goroutine, or before q is shared.
func (q *WaitQueue) Describe(label *WaitLabel) { q.label = label }

// dumpState is what the dump, the wait clock and the stuck report keep per
// loop (Loop.dumpx); nil until one of them is turned on.
type dumpState struct {
	track bool // TrackWaits: step records when each task suspends
	gids  bool // record the goroutine id of new coroutines, for stacks
	stuck stuckState
}

// dumpStateOf returns l's dump state, making it. Loop goroutine, or
// before the loop runs.
func (l *Loop) dumpStateOf() *dumpState {
	if l.dumpx == nil {
		l.dumpx = &dumpState{}
	}
	return l.dumpx
}

// stepped is called by step, when the loop has a dump state, after each
// step: it records when the task suspended.
func (d *dumpState) stepped(l *Loop, c *Ctx) {
	d.stuck.steps++
	if d.track && c.state == taskSuspended && c.coro != nil {
		c.coro.since = l.timers.now()
	}
}

// wantGid reports whether a new coroutine should record its goroutine id.
func (l *Loop) wantGid() bool { return l.dumpx != nil && l.dumpx.gids }

// TrackWaits makes the loop record when each task suspends (one read of the
// clock per task step), so that a dump says how long each task has waited
// (TaskInfo.Waited); off, Waited is 0. It also has the coroutines the loop
// makes from then on record their goroutine ids, so that a dump with stacks
// finds each task's stack for sure (see Dump). Debug mode and SetStuckReport
// turn it on. Loop goroutine and its tasks, or any goroutine before the
// loop first runs; elsewhere it panics with an error matching ErrNotOnLoop.
func (l *Loop) TrackWaits(on bool) {
	l.mustBeOwned("TrackWaits")
	d := l.dumpStateOf()
	d.track = on
	if on {
		d.gids = true
	}
}

// mustBeOwned panics unless the caller may touch loop-only state: it is on
// the loop, or the loop has never run.
func (l *Loop) mustBeOwned(method string) {
	if l == nil || l.poller == nil {
		panic(noLoop(method))
	}
	if l.thread.loopG.Load() != 0 && !l.onLoop() {
		panic(notOnLoop(method))
	}
}

// Dump returns the state of every live task of l (see Dump and TaskInfo).
// It must be called on the loop goroutine or in one of its tasks (it panics
// with an error matching ErrNotOnLoop elsewhere); DumpWait is for other
// goroutines. With opts.Stacks it adds each task's stack: the loop finds a
// task's goroutine by the id its coroutine recorded when it started, which
// coroutines do in debug mode, with TrackWaits, and once a dump with stacks
// has been made (reading a goroutine id costs microseconds, too much for
// every coroutine); a coroutine started before that is found by the name
// of its task's body function if that is unique, and otherwise its stack
// is left out, with a note (Dump.StacksNote).
func (l *Loop) Dump(opts DumpOptions) *Dump {
	l.mustBeOnLoop("Loop.Dump")
	return l.dump(opts)
}

// DumpWait makes a dump from any goroutine: on the loop it is Dump; from
// another goroutine it sends the request through the loop's door and waits
// for the loop to answer, or for ctx to be done. It returns ErrClosed for a
// closed loop, and ctx's error, wrapped with a note, if the loop did not
// answer in time: it is not running, or something holds it (a task that
// blocks its thread: debug mode's watchdog names it). Called from a task of
// another loop, it blocks that loop until the answer comes.
func (l *Loop) DumpWait(ctx context.Context, opts DumpOptions) (*Dump, error) {
	if l == nil || l.poller == nil {
		return nil, noLoop("DumpWait")
	}
	if ctx == nil {
		return nil, fmt.Errorf("%w: DumpWait", ErrNilContext)
	}
	if l.onLoop() {
		return l.dump(opts), nil
	}
	ch := make(chan *Dump, 1)
	if err := l.post(func() { ch <- l.dump(opts) }); err != nil {
		return nil, err
	}
	select {
	case d := <-ch:
		return d, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("aio: the loop did not answer the dump request (not running, or its thread is held): %w", ctx.Err())
	}
}

// dumpEdge is a wait of one task on another, found in the awaited task's
// waiters.
type dumpEdge struct {
	from *Ctx   // the task that waits
	kind string // WaitTask, WaitGather, WaitAny, WaitSelect, or "group", "taskset" (a parent link)
}

// dump makes the dump. Loop goroutine.
func (l *Loop) dump(opts DumpOptions) *Dump {
	now := l.timers.now()
	d := &Dump{Time: l.timers.timeAt(now)}
	var cs []*Ctx
	for c := l.tasks.head; c != nil; c = c.next {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b *Ctx) int { return cmpUint64(a.id, b.id) })
	index := make(map[*Ctx]int, len(cs))
	for i, c := range cs {
		index[c] = i
	}

	// Who waits on whom, from the awaited side: edges[i] are the waits
	// on task i; waitsOn[c] the tasks c waits on, by kind.
	parent := make([]int, len(cs))
	link := make([]string, len(cs))
	for i := range parent {
		parent[i] = -1
	}
	type onKey struct {
		c    *Ctx
		kind string
	}
	waitsOn := map[onKey][]uint64{}
	groupQs := map[*WaitQueue]bool{} // the queues on which groups' tasks wait for their children
	for i, c := range cs {
		for w := c.fut.waiters.head; w != nil; w = w.next {
			e, ok := edgeOf(w.w)
			if !ok || e.from == nil {
				continue
			}
			if n, ok := w.w.(*groupChild); ok {
				groupQs[&n.g.q] = true
			}
			j, live := index[e.from]
			if !live {
				continue
			}
			switch e.kind {
			case "group", "taskset":
				parent[i], link[i] = j, e.kind
			default:
				if parent[i] < 0 || link[i] == "awaited" && index[e.from] < parent[i] {
					parent[i], link[i] = j, "awaited"
				}
				k := onKey{e.from, e.kind}
				waitsOn[k] = append(waitsOn[k], c.id)
			}
		}
	}
	breakCycles(parent, link)

	d.Tasks = make([]TaskInfo, len(cs))
	for i, c := range cs {
		ti := &d.Tasks[i]
		ti.ID, ti.Name = c.id, c.Name()
		ti.Created = c.debugSite().String()
		ti.Cancelling = int(c.cancelRequests)
		switch {
		case c.coro == nil:
			ti.State = StateCreated
		case c.state == taskRunning:
			ti.State = StateRunning
		case c.woken:
			ti.State = StateReady
		default:
			ti.State = StateSuspended
		}
		if c.coro != nil {
			ti.Goroutine = c.coro.gid
			if c.state != taskRunning && c.coro.since != 0 && l.dumpx != nil && l.dumpx.track {
				ti.Waited = time.Duration(now - c.coro.since)
			}
			if c.state == taskSuspended {
				ti.Awaits = l.describeWait(c)
				if q, ok := c.coro.waitOn.(*WaitQueue); ok && ti.Awaits != nil && groupQs[q] {
					ti.Awaits.Kind, ti.Awaits.What = WaitGroupKind, "" // its Tasks are filled below
				}
				if ti.Awaits == nil {
					for _, kind := range []string{WaitGather, WaitAny, WaitSelect, WaitTask} {
						if ids := waitsOn[onKey{c, kind}]; len(ids) > 0 {
							slices.Sort(ids)
							ti.Awaits = &WaitInfo{Kind: kind, Tasks: ids, What: taskList(kind, ids)}
							break
						}
					}
				}
				if ti.Awaits == nil && !c.woken {
					ti.Awaits = &WaitInfo{Kind: WaitUnknown}
				}
				if ti.Awaits != nil && ti.Awaits.Deadline.IsZero() {
					if dl, ok := scopeDeadline(c); ok {
						ti.Awaits.Deadline = l.timers.timeAt(dl)
					}
				}
			}
		}
		if p := parent[i]; p >= 0 {
			ti.Parent, ti.Link = cs[p].id, link[i]
		}
	}
	for i := range cs {
		if p := parent[i]; p >= 0 {
			d.Tasks[p].Children = append(d.Tasks[p].Children, cs[i].id)
			if a := d.Tasks[p].Awaits; a != nil && a.Kind == WaitGroupKind && link[i] == "group" {
				a.Tasks = append(a.Tasks, cs[i].id)
				a.What = taskList(WaitGroupKind, a.Tasks)
			}
		} else {
			d.Roots = append(d.Roots, cs[i].id)
		}
	}
	if opts.Stacks {
		l.dumpStateOf().gids = true // coroutines made from now on are found for sure
		d.StacksNote = addStacks(d, cs)
	}
	return d
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// taskList is the What of a wait on tasks.
func taskList(kind string, ids []uint64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = "#" + strconv.FormatUint(id, 10)
	}
	switch kind {
	case WaitTask:
		return "task " + strings.Join(s, ", ")
	default:
		return kind + " of " + strings.Join(s, ", ")
	}
}

// edgeOf tells what a waiter in a task's waiters is: another task awaiting
// it, or a combinator's or group's node, and whose.
func edgeOf(w waker) (dumpEdge, bool) {
	switch n := w.(type) {
	case *Ctx:
		return dumpEdge{n, WaitTask}, true
	case *groupChild:
		if n.g != nil {
			return dumpEdge{n.g.c, "group"}, true
		}
	case *gatherNode:
		if n.g != nil {
			return dumpEdge{n.g.c, WaitGather}, true
		}
	case *waitNode:
		return dumpEdge{n.c, WaitAny}, true
	case *selectNode:
		if n.s != nil {
			return dumpEdge{n.s.task, WaitSelect}, true
		}
	case interface{ dumpOwner() *Ctx }: // a TaskSet's node (setNode[T])
		return dumpEdge{n.dumpOwner(), "taskset"}, true
	}
	return dumpEdge{}, false
}

func (n *setNode[T]) dumpOwner() *Ctx {
	if n.set == nil {
		return nil
	}
	return n.set.owner
}

// breakCycles cuts the parent links that make a cycle (tasks awaiting each
// other: a deadlock the dump must show, not loop on): the task of each cycle
// with the lowest index becomes a root.
func breakCycles(parent []int, link []string) {
	state := make([]uint8, len(parent)) // 0 unseen, 1 on the path, 2 done
	for i := range parent {
		var path []int
		j := i
		for j >= 0 && state[j] == 0 {
			state[j] = 1
			path = append(path, j)
			j = parent[j]
		}
		if j >= 0 && state[j] == 1 { // a cycle through j
			low := j
			for k := parent[j]; k != j; k = parent[k] {
				low = min(low, k)
			}
			parent[low], link[low] = -1, ""
		}
		for _, k := range path {
			state[k] = 2
		}
	}
}

// scopeDeadline returns the earliest deadline of the cancel scopes c is in.
func scopeDeadline(c *Ctx) (int64, bool) {
	if c.x == nil {
		return 0, false
	}
	var dl int64
	found := false
	for s := c.x.scope; s != nil; s = s.parent {
		if s.timer != nil && !s.ended && (!found || s.deadline < dl) {
			dl, found = s.deadline, true
		}
	}
	return dl, found
}

// describeWait reads what the suspended task c waits on from the pointer
// its wait left (see the top of this file), if it still holds; nil if not.
func (l *Loop) describeWait(c *Ctx) *WaitInfo {
	w := &c.waiter
	switch x := c.coro.waitOn.(type) {
	case nil:
	case *futureBase:
		if w.list != &x.waiters {
			return nil
		}
		return describeFuture(l, x)
	case *WaitQueue:
		if w.list != &x.list {
			return nil
		}
		return describeQueue(x)
	case *callback: // Sleep
		if !x.timer.Queued() || x.timer.Value != waker(c) {
			return nil
		}
		return &WaitInfo{Kind: WaitSleep, What: "sleep", Deadline: l.timers.timeAt(x.timer.When())}
	case goWait:
		if !x.waitingFor(c) {
			return nil
		}
		return &WaitInfo{Kind: WaitGoChan, What: x.describeGo()}
	default: // an Awaitable polled (awaitPoll)
		if w.list == nil {
			return nil
		}
		if f, ok := x.(interface{ base() *futureBase }); ok {
			return describeFuture(l, f.base())
		}
		wi := &WaitInfo{Kind: WaitAwaitable, What: fmt.Sprintf("%T", x), Object: fmt.Sprintf("%p", x)}
		if d, ok := x.(WaitDescriber); ok {
			wi.Kind, wi.What = d.DescribeWait()
		}
		return wi
	}
	return nil
}

func (f *Future[T]) base() *futureBase { return &f.futureBase }
func (t *Task[T]) base() *futureBase   { return &t.fut.futureBase }

// describeFuture describes a wait on f: a task's future, or a plain one.
func describeFuture(l *Loop, f *futureBase) *WaitInfo {
	if o := f.owner; o != nil {
		return &WaitInfo{Kind: WaitTask, What: "task " + o.String(), Tasks: []uint64{o.id},
			Object: fmt.Sprintf("%p", f), Waiters: int(f.waiters.n)}
	}
	what := "future"
	if s := l.futureSite(f); s != "" {
		what += " created at " + s
	}
	return &WaitInfo{Kind: WaitFuture, What: what, Object: fmt.Sprintf("%p", f), Waiters: int(f.waiters.n)}
}

// describeQueue describes a wait on q, by its label.
func describeQueue(q *WaitQueue) *WaitInfo {
	wi := &WaitInfo{Kind: WaitQueueKind, What: "WaitQueue", Object: fmt.Sprintf("%p", q), Waiters: int(q.list.n)}
	if lb := q.label; lb != nil {
		if lb.Kind != "" {
			wi.Kind = lb.Kind
		}
		if lb.What != "" {
			wi.What = lb.What
		}
		if lb.Detail != nil {
			if s := lb.Detail(); s != "" {
				wi.What += " " + s
			}
		}
	}
	return wi
}

// goWait is a GoRecv's or GoSend's record (goOp[T]) seen from the dump.
type goWait interface {
	waitingFor(c *Ctx) bool
	describeGo() string
}

func (o *goOp[T]) waitingFor(c *Ctx) bool { return o.task == c && !o.in }

func (o *goOp[T]) describeGo() string {
	if o.recv != nil {
		return fmt.Sprintf("receive from %T", o.recv)
	}
	return fmt.Sprintf("send to %T", o.send)
}

// Stacks.

// addStacks fills the Stack of each task from runtime.Stack of every
// goroutine, and returns a note on those it could not find.
func addStacks(d *Dump, cs []*Ctx) string {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	byID := splitStacks(buf)
	claimed := map[uint64]bool{}
	for i := range d.Tasks {
		if g := d.Tasks[i].Goroutine; g != 0 {
			claimed[g] = true
		}
	}
	// Coroutines whose id is unknown: by the name of the body function, if
	// exactly one unclaimed coroutine goroutine runs it.
	var unknown []int
	for i := range d.Tasks {
		ti := &d.Tasks[i]
		if ti.State == StateCreated {
			continue
		}
		if s, ok := byID[ti.Goroutine]; ok && ti.Goroutine != 0 {
			ti.Stack = s
			continue
		}
		unknown = append(unknown, i)
	}
	missing := 0
	for _, i := range unknown {
		ti := &d.Tasks[i]
		name := bodyName(cs[i])
		var found uint64
		count := 0
		for g, s := range byID {
			if claimed[g] || name == "" || !strings.Contains(s, "\n"+name+"(") {
				continue
			}
			found, count = g, count+1
		}
		if count == 1 {
			ti.Goroutine, ti.Stack = found, byID[found]
			claimed[found] = true
			continue
		}
		missing++
	}
	if missing == 0 {
		return ""
	}
	return fmt.Sprintf("%d task stacks not found: their coroutines started before stacks were asked for (debug mode, TrackWaits or a dump with stacks has new coroutines record their goroutine ids) and their bodies' functions are not unique", missing)
}

// splitStacks splits the output of runtime.Stack(all) by goroutine id.
func splitStacks(buf []byte) map[uint64]string {
	m := map[uint64]string{}
	for _, block := range bytes.Split(buf, []byte("\n\n")) {
		block = bytes.TrimSpace(block)
		rest, ok := bytes.CutPrefix(block, []byte("goroutine "))
		if !ok {
			continue
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		id, err := strconv.ParseUint(string(rest[:i]), 10, 64)
		if err != nil {
			continue
		}
		m[id] = string(block)
	}
	return m
}

// bodyName returns the full name of the function of c's body, as stack
// traces print it, or "".
func bodyName(c *Ctx) string {
	b, ok := c.impl.(interface{ bodyPC() uintptr })
	if !ok {
		return ""
	}
	pc := b.bodyPC()
	if pc == 0 {
		return ""
	}
	return funcName(pc)
}

func (t *Task[T]) bodyPC() uintptr {
	if t.body == nil {
		return 0
	}
	return reflect.ValueOf(t.body).Pointer()
}

// Text and JSON.

// String formats d as WriteText does.
func (d *Dump) String() string {
	var b strings.Builder
	_ = d.WriteText(&b)
	return b.String()
}

// WriteText writes d as a tree (as python -m asyncio pstree does), one
// line per task: its name and ID, its state and how long it has waited,
// what it awaits, where it was created; with its stack below, indented, if
// the dump has stacks.
//
//	aio task dump: 3 tasks at 2000-01-01T00:00:00Z
//	main#1 suspended: awaits task: group of #2
//	└── worker#2 [group] suspended 1.5s: awaits lock: locks.Lock (1 waiting, 0xc00001c0c0), created at main.go:12
func (d *Dump) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "aio task dump: %d tasks at %s\n", len(d.Tasks), d.Time.Format(time.RFC3339Nano))
	byID := make(map[uint64]*TaskInfo, len(d.Tasks))
	for i := range d.Tasks {
		byID[d.Tasks[i].ID] = &d.Tasks[i]
	}
	var walk func(id uint64, prefix, branch, stem string)
	walk = func(id uint64, prefix, branch, stem string) {
		t := byID[id]
		if t == nil {
			return
		}
		b.WriteString(prefix + branch)
		b.WriteString(t.line(d.Time))
		b.WriteByte('\n')
		if t.Stack != "" {
			for _, ln := range strings.Split(t.Stack, "\n") {
				b.WriteString(prefix + stem + "    | " + ln + "\n")
			}
		}
		for k, ch := range t.Children {
			if k == len(t.Children)-1 {
				walk(ch, prefix+stem, "└── ", "    ")
			} else {
				walk(ch, prefix+stem, "├── ", "│   ")
			}
		}
	}
	for _, r := range d.Roots {
		walk(r, "", "", "")
	}
	if d.StacksNote != "" {
		b.WriteString("note: " + d.StacksNote + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// line formats one task, without its stack.
func (t *TaskInfo) line(now time.Time) string {
	var b strings.Builder
	b.WriteString(t.Name + "#" + strconv.FormatUint(t.ID, 10))
	if t.Link != "" && t.Link != "awaited" {
		b.WriteString(" [" + t.Link + "]")
	}
	b.WriteString(" " + t.State)
	if t.Waited > 0 {
		b.WriteString(" " + t.Waited.Round(time.Microsecond).String())
	}
	if a := t.Awaits; a != nil {
		b.WriteString(": awaits " + a.Kind)
		if a.What != "" && a.What != a.Kind {
			b.WriteString(": " + a.What)
		}
		var extra []string
		if a.Waiters > 0 {
			extra = append(extra, strconv.Itoa(a.Waiters)+" waiting")
		}
		if a.Object != "" {
			extra = append(extra, a.Object)
		}
		if len(extra) > 0 {
			b.WriteString(" (" + strings.Join(extra, ", ") + ")")
		}
		if !a.Deadline.IsZero() {
			fmt.Fprintf(&b, ", deadline %s (in %v)", a.Deadline.Format(time.RFC3339Nano), a.Deadline.Sub(now).Round(time.Microsecond))
		}
	}
	if t.Cancelling > 0 {
		fmt.Fprintf(&b, ", cancelling %d", t.Cancelling)
	}
	if t.Created != "" {
		b.WriteString(", created at " + t.Created)
	}
	return b.String()
}

// JSON returns d as indented JSON (the same as json.Marshal gives, indented).
func (d *Dump) JSON() ([]byte, error) { return json.MarshalIndent(d, "", "  ") }

// Task returns the task of d with the given ID, or nil.
func (d *Dump) Task(id uint64) *TaskInfo {
	for i := range d.Tasks {
		if d.Tasks[i].ID == id {
			return &d.Tasks[i]
		}
	}
	return nil
}
