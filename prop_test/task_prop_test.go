package prop_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// Property tests of tasks: trees of tasks that sleep, spawn, await, fail,
// panic and cancel each other; submission from other goroutines; and the
// one-thread guarantee for task bodies. Helpers start with "tp". Nothing is
// asserted inside task bodies (rapid's failures panic, and a panic in a body
// becomes the task's error): bodies record, and the checks run afterwards on
// the test goroutine.

// tpRunLoop runs l with RunUntil(done) on the test goroutine, with a
// liveness bound: after 10 s a watchdog stops the loop and the check fails.
func tpRunLoop(t *rapid.T, l *aio.Loop, done func() bool) {
	timer := time.AfterFunc(10*time.Second, func() { l.Stop() })
	defer timer.Stop()
	if err := l.RunUntil(done); err != nil {
		t.Fatalf("RunUntil: %v", err)
	}
	if !done() {
		t.Fatal("the loop did not finish within 10 s")
	}
}

// ---------------------------------------------------------------------------
// TestPropTaskTrees

const (
	tpOK = iota
	tpFail
	tpPanic
)

// tpNode is the plan of one task of a tree.
type tpNode struct {
	id       int
	sleep    time.Duration
	outcome  int // tpOK, tpFail or tpPanic
	children []*tpNode
	awaited  []bool // per child: the parent awaits it
	cancelAt []int  // per child: yields before the parent cancels it; -1: never
}

// tpErr is the error a failing node returns.
type tpErr struct{ id int }

func (e tpErr) Error() string { return fmt.Sprintf("node %d failed", e.id) }

// tpCause is the cause with which a node's parent cancels it: one per node,
// so that a body can tell its own cancellation from a child's outcome.
type tpCause struct{ id int }

func (e tpCause) Error() string { return fmt.Sprintf("node %d cancelled by its parent", e.id) }

// tpPanicValue is what a panicking node panics with.
type tpPanicValue struct{ id int }

// tpPanicker panics; its name must appear in the task's PanicError stack.
func tpPanicker(id int) {
	panic(tpPanicValue{id})
}

func tpDrawNode(t *rapid.T, depth int, next *int) *tpNode {
	n := &tpNode{id: *next}
	*next++
	n.sleep = time.Duration(rapid.IntRange(0, 8).Draw(t, "sleep")) * 250 * time.Microsecond
	n.outcome = rapid.SampledFrom([]int{tpOK, tpOK, tpFail, tpPanic}).Draw(t, "outcome")
	if depth < 3 {
		k := rapid.IntRange(0, 4).Draw(t, "children")
		for range k {
			n.children = append(n.children, tpDrawNode(t, depth+1, next))
			n.awaited = append(n.awaited, rapid.Bool().Draw(t, "awaited"))
			c := rapid.IntRange(-4, 4).Draw(t, "cancelAt")
			n.cancelAt = append(n.cancelAt, max(c, -1))
		}
	}
	return n
}

type tpEvent struct {
	kind string // spawn, start, end, cancel, awaited
	id   int
}

type tpOutcome struct {
	v   int
	err error
}

// tpTree runs one tree and keeps what happened. Loop goroutine only, until
// the loop has stopped.
type tpTree struct {
	l         *aio.Loop
	events    []tpEvent
	tasks     map[int]*aio.Task[int]
	cancelled map[int]bool      // the parent's Cancel of the node reported true
	awaitedAs map[int]tpOutcome // what the parent's Await of the node returned
	order     []int             // spawned nodes, in order
}

func (tr *tpTree) log(kind string, id int) {
	tr.events = append(tr.events, tpEvent{kind, id})
}

func (tr *tpTree) spawn(n *tpNode) error {
	task, err := aio.Spawn(tr.l, tr.body(n), aio.WithName(fmt.Sprint("node-", n.id)))
	if err != nil {
		return err
	}
	tr.tasks[n.id] = task
	tr.order = append(tr.order, n.id)
	tr.log("spawn", n.id)
	return nil
}

func (tr *tpTree) body(n *tpNode) func(*aio.Ctx) (int, error) {
	return func(c *aio.Ctx) (_ int, err error) {
		tr.log("start", n.id)
		defer tr.log("end", n.id) // on a panic too
		// mine tells this node's own cancellation from a child's outcome.
		mine := func(err error) bool { return aio.Cause(err) == (tpCause{n.id}) }
		if err := aio.Sleep(c, n.sleep); err != nil {
			return 0, err
		}
		for _, ch := range n.children {
			if err := tr.spawn(ch); err != nil {
				return 0, err
			}
		}
		for i, ch := range n.children {
			if n.cancelAt[i] < 0 {
				continue
			}
			for range n.cancelAt[i] {
				if err := aio.Yield(c); err != nil {
					return 0, err
				}
			}
			tr.cancelled[ch.id] = tr.tasks[ch.id].Cancel(tpCause{ch.id})
			tr.log("cancel", ch.id)
		}
		for i, ch := range n.children {
			if !n.awaited[i] {
				continue
			}
			v, err := aio.Await[int](c, tr.tasks[ch.id])
			if mine(err) {
				return 0, err
			}
			tr.awaitedAs[ch.id] = tpOutcome{v, err}
			tr.log("awaited", ch.id)
		}
		switch n.outcome {
		case tpFail:
			return 0, tpErr{n.id}
		case tpPanic:
			tpPanicker(n.id)
		}
		return n.id * 10, nil
	}
}

func (tr *tpTree) allDone() bool {
	for _, task := range tr.tasks {
		if !task.IsDone() {
			return false
		}
	}
	return true
}

// index returns the position of the first event (kind, id), or -1.
func (tr *tpTree) index(kind string, id int) int {
	return slices.Index(tr.events, tpEvent{kind, id})
}

func (tr *tpTree) count(kind string, id int) int {
	n := 0
	for _, e := range tr.events {
		if e == (tpEvent{kind, id}) {
			n++
		}
	}
	return n
}

func TestPropTaskTrees(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		next := 0
		root := tpDrawNode(t, 0, &next)
		l, err := aio.NewLoop()
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var reports []aio.ErrorContext
		l.SetErrorHandler(func(_ *aio.Loop, c aio.ErrorContext) { reports = append(reports, c) })
		tr := &tpTree{
			l:         l,
			tasks:     map[int]*aio.Task[int]{},
			cancelled: map[int]bool{},
			awaitedAs: map[int]tpOutcome{},
		}
		if err := tr.spawn(root); err != nil {
			t.Fatal(err)
		}
		tpRunLoop(t, l, tr.allDone)
		// Shutdown reports the failures nobody retrieved (nothing has read a
		// task's outcome yet, apart from the parents' Awaits).
		if err := l.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}

		nodes := map[int]*tpNode{}
		parent := map[int]*tpNode{}
		var walk func(n *tpNode)
		walk = func(n *tpNode) {
			nodes[n.id] = n
			for _, ch := range n.children {
				parent[ch.id] = n
				walk(ch)
			}
		}
		walk(root)

		wantReported := map[int]bool{}
		for id, n := range nodes {
			task, spawned := tr.tasks[id]
			if !spawned {
				// Only a parent that ended before spawning leaves a node
				// unspawned, and only a cancellation ends it that early.
				p := parent[id]
				if pt, ok := tr.tasks[p.id]; ok && !pt.Canceled() {
					t.Fatalf("node %d was not spawned, though its parent %d ended %v", id, p.id, pt.Err())
				}
				continue
			}
			if !task.IsDone() {
				t.Fatalf("node %d is not done", id)
			}
			starts := tr.count("start", id)
			if starts > 1 || tr.count("end", id) != starts {
				t.Fatalf("node %d: %d starts, %d ends", id, starts, tr.count("end", id))
			}
			v, err := task.Result()
			if tr.cancelled[id] {
				// Cancelled by its parent while not done: it ends cancelled,
				// whatever it planned, with its parent's cause.
				if !task.Canceled() || !errors.Is(err, context.Canceled) || aio.Cause(err) != (tpCause{id}) {
					t.Fatalf("node %d was cancelled by its parent but ended %d, %v (cancelled=%v)", id, v, err, task.Canceled())
				}
				if starts == 1 && tr.index("start", id) > tr.index("cancel", id) {
					t.Fatalf("node %d started after its cancellation", id)
				}
			} else {
				if starts != 1 {
					t.Fatalf("node %d, never cancelled, did not run its body", id)
				}
				switch n.outcome {
				case tpOK:
					if v != id*10 || err != nil {
						t.Fatalf("node %d ended %d, %v; want %d, nil", id, v, err, id*10)
					}
				case tpFail:
					if err != (tpErr{id}) || task.Canceled() {
						t.Fatalf("node %d ended %v; want its failure", id, err)
					}
				case tpPanic:
					var pe *aio.PanicError
					if !errors.As(err, &pe) || pe.Value != (tpPanicValue{id}) || !strings.Contains(string(pe.Stack), "tpPanicker") {
						t.Fatalf("node %d ended %v; want its panic with the panicking function in the stack", id, err)
					}
				}
				if n.outcome != tpOK && tr.index("awaited", id) < 0 {
					wantReported[id] = true
				}
			}
			// Causal order.
			if id != root.id {
				if s := tr.index("start", id); s >= 0 && s < tr.index("spawn", id) {
					t.Fatalf("node %d started before it was spawned", id)
				}
			}
			if a := tr.index("awaited", id); a >= 0 {
				if got := tr.awaitedAs[id]; got.v != v || got.err != err {
					t.Fatalf("the parent's Await of node %d returned %v, %v; the task ended %v, %v", id, got.v, got.err, v, err)
				}
				if starts == 1 && a < tr.index("end", id) {
					t.Fatalf("node %d: awaited before its body ended: %v", id, tr.events)
				}
				if starts == 0 && a < tr.index("cancel", id) {
					t.Fatalf("node %d: awaited before it was cancelled", id)
				}
			}
		}
		gotReported := map[int]bool{}
		for _, r := range reports {
			if r.Task == nil || r.Message != "aio: task error was never retrieved" {
				t.Fatalf("unexpected report %+v", r)
			}
			var id int
			if _, err := fmt.Sscanf(r.Task.Name(), "node-%d", &id); err != nil || gotReported[id] {
				t.Fatalf("report for %q (twice?)", r.Task.Name())
			}
			gotReported[id] = true
		}
		if fmt.Sprint(gotReported) != fmt.Sprint(wantReported) {
			t.Fatalf("unretrieved failures reported for %v, want %v", gotReported, wantReported)
		}
	})
}

// ---------------------------------------------------------------------------
// TestPropThreadsafeSubmission

type tpSubmission struct {
	sleep  time.Duration
	yields int
}

func TestPropThreadsafeSubmission(t *testing.T) {
	if _, err := lpTid(); err != nil {
		t.Skipf("cannot read the thread id: %v", err)
	}
	rapid.Check(t, func(t *rapid.T) {
		// The plan is drawn on the test goroutine; rapid.T is not for
		// other goroutines.
		nG := rapid.IntRange(1, 8).Draw(t, "goroutines")
		plans := make([][]tpSubmission, nG)
		for g := range plans {
			k := rapid.IntRange(1, 6).Draw(t, "tasks")
			for range k {
				plans[g] = append(plans[g], tpSubmission{
					sleep:  time.Duration(rapid.IntRange(0, 4).Draw(t, "sleep")) * 100 * time.Microsecond,
					yields: rapid.IntRange(0, 3).Draw(t, "yields"),
				})
			}
		}

		l, err := aio.NewLoop()
		if err != nil {
			t.Fatal(err)
		}
		var loopTid atomic.Int64
		started := make(chan struct{})
		l.CallSoon(func() { loopTid.Store(int64(tpGettid())); close(started) })
		loopDone := make(chan error, 1)
		go func() {
			err := l.RunForever()
			if cerr := l.Close(); err == nil {
				err = cerr
			}
			loopDone <- err
		}()
		<-started

		runs := make([][]atomic.Int32, nG)
		badTid := make([][]atomic.Int64, nG)
		problems := make(chan string, 64)
		var wg sync.WaitGroup
		for g, plan := range plans {
			runs[g] = make([]atomic.Int32, len(plan))
			badTid[g] = make([]atomic.Int64, len(plan))
			wg.Go(func() {
				tasks := make([]*aio.Task[string], len(plan))
				for i, p := range plan {
					task, err := aio.Spawn(l, func(c *aio.Ctx) (string, error) {
						runs[g][i].Add(1)
						check := func() {
							if tid := int64(tpGettid()); tid != loopTid.Load() {
								badTid[g][i].Store(tid)
							}
						}
						check()
						if err := aio.Sleep(c, p.sleep); err != nil {
							return "", err
						}
						check()
						for range p.yields {
							if err := aio.Yield(c); err != nil {
								return "", err
							}
							check()
						}
						return fmt.Sprintf("%d/%d", g, i), nil
					})
					if err != nil {
						problems <- fmt.Sprintf("Spawn from goroutine %d: %v", g, err)
						return
					}
					tasks[i] = task
				}
				for i, task := range tasks {
					v, err := task.Wait(context.Background())
					if want := fmt.Sprintf("%d/%d", g, i); v != want || err != nil {
						problems <- fmt.Sprintf("task %d/%d: Wait = %q, %v; want %q", g, i, v, err, want)
					}
					select {
					case <-task.Done():
					default:
						problems <- fmt.Sprintf("task %d/%d: Done open after Wait", g, i)
					}
				}
			})
		}
		wg.Wait()
		l.Stop()
		if err := <-loopDone; err != nil {
			t.Fatalf("loop goroutine: %v", err)
		}
		close(problems)
		for p := range problems {
			t.Fatal(p)
		}
		for g := range runs {
			for i := range runs[g] {
				if n := runs[g][i].Load(); n != 1 {
					t.Fatalf("task %d/%d: body ran %d times", g, i, n)
				}
				if tid := badTid[g][i].Load(); tid != 0 {
					t.Fatalf("task %d/%d ran on thread %d, the loop on %d", g, i, tid, loopTid.Load())
				}
			}
		}
	})
}

// ---------------------------------------------------------------------------
// TestPropTasksOnLoopThread

const (
	tpOpYield = iota
	tpOpSleep
	tpOpSpawn    // spawn a child running the op's program, not awaited yet
	tpOpAwaitAll // await every child spawned so far
	tpOpGosched
	tpOpBlock // a short blocking sleep of the thread itself
	tpOpGC
)

type tpOp struct {
	kind  int
	sleep time.Duration
	child []tpOp
}

func tpDrawProgram(t *rapid.T, depth int) []tpOp {
	n := rapid.IntRange(0, 6).Draw(t, "ops")
	ops := make([]tpOp, 0, n)
	for range n {
		op := tpOp{kind: rapid.IntRange(tpOpYield, tpOpGC).Draw(t, "op")}
		switch op.kind {
		case tpOpSleep:
			op.sleep = time.Duration(rapid.IntRange(0, 5).Draw(t, "sleep")) * 100 * time.Microsecond
		case tpOpSpawn:
			if depth >= 2 {
				op.kind = tpOpYield
			} else {
				op.child = tpDrawProgram(t, depth+1)
			}
		case tpOpGC:
			if !rapid.Bool().Draw(t, "gc") {
				op.kind = tpOpGosched
			}
		}
		ops = append(ops, op)
	}
	return ops
}

func TestPropTasksOnLoopThread(t *testing.T) {
	if _, err := lpTid(); err != nil {
		t.Skipf("cannot read the thread id: %v", err)
	}
	rapid.Check(t, func(t *rapid.T) {
		tops := rapid.IntRange(1, 5).Draw(t, "tasks")
		programs := make([][]tpOp, tops)
		for i := range programs {
			programs[i] = tpDrawProgram(t, 0)
		}
		tids := map[int]int{} // thread -> observations; loop goroutine only
		var loopTid, bodies int
		var run func(c *aio.Ctx, ops []tpOp) (int, error)
		run = func(c *aio.Ctx, ops []tpOp) (int, error) {
			bodies++
			tids[tpGettid()]++
			var children []aio.Awaitable[int]
			for _, op := range ops {
				var err error
				switch op.kind {
				case tpOpYield:
					err = aio.Yield(c)
				case tpOpSleep:
					err = aio.Sleep(c, op.sleep)
				case tpOpSpawn:
					var child *aio.Task[int]
					child, err = aio.Spawn(c.Loop(), func(c *aio.Ctx) (int, error) { return run(c, op.child) })
					children = append(children, child)
				case tpOpAwaitAll:
					_, err = aio.Gather(c, children...)
					children = nil
				case tpOpGosched:
					runtime.Gosched()
				case tpOpBlock:
					time.Sleep(50 * time.Microsecond)
				case tpOpGC:
					runtime.GC()
				}
				if err != nil {
					return 0, err
				}
				tids[tpGettid()]++
			}
			_, err := aio.Gather(c, children...)
			tids[tpGettid()]++
			return 1, err
		}
		want := 0
		var count func(ops []tpOp) int
		count = func(ops []tpOp) int {
			n := 1
			for _, op := range ops {
				if op.kind == tpOpSpawn {
					n += count(op.child)
				}
			}
			return n
		}
		for _, p := range programs {
			want += count(p)
		}
		_, err := aio.Run(func(c *aio.Ctx) (int, error) {
			ready := aio.NewFuture[int](c.Loop())
			c.Loop().CallSoon(func() { loopTid = tpGettid(); ready.SetResult(0) })
			if _, err := aio.Await(c, ready); err != nil {
				return 0, err
			}
			var tasks []aio.Awaitable[int]
			for _, p := range programs {
				task, err := aio.Spawn(c.Loop(), func(c *aio.Ctx) (int, error) { return run(c, p) })
				if err != nil {
					return 0, err
				}
				tasks = append(tasks, task)
			}
			_, err := aio.Gather(c, tasks...)
			tids[tpGettid()]++
			return 0, err
		})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if bodies != want {
			t.Fatalf("%d bodies ran, want %d", bodies, want)
		}
		if len(tids) != 1 || tids[loopTid] == 0 {
			t.Fatalf("task bodies ran on threads %v; the loop on %d", tids, loopTid)
		}
	})
}
