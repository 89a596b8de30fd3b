package aio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/executor"
	"github.com/aiogo/aio/aio/locks"
	"github.com/aiogo/aio/aio/queue"
	"github.com/aiogo/aio/aio/socket"
)

// dumpTree spawns on l the known tree of the dump tests: a main task that
// holds a lock and runs a group of four (one sleeping, one waiting for the
// lock, one in a socket Recv, one awaiting another task, which waits in a
// queue.Get), a task in an executor call, and a task in a GoRecv. It runs l
// on a goroutine and returns the first dump in which all of them wait,
// with the loop still running; stop ends it all.
func dumpTree(t *testing.T, l *aio.Loop, opts aio.DumpOptions) (d *aio.Dump, stop func()) {
	t.Helper()
	release := make(chan struct{})
	var lk locks.Lock
	q := queue.NewFIFO[int](0)
	gochan := make(chan int)
	main, err := aio.Spawn(l, func(c *aio.Ctx) (struct{}, error) {
		if err := lk.Acquire(c); err != nil {
			return struct{}{}, err
		}
		ln, err := socket.Listen(c, "tcp", "127.0.0.1:0")
		if err != nil {
			return struct{}{}, err
		}
		defer ln.Close()
		client, err := socket.Connect(c, "tcp", ln.LocalAddr().String())
		if err != nil {
			return struct{}{}, err
		}
		defer client.Close()
		server, err := ln.Accept(c)
		if err != nil {
			return struct{}{}, err
		}
		defer server.Close()
		target, _ := aio.Spawn(c, dumpTarget(q), aio.WithName("target"))
		aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			return executor.Run(c, func(context.Context) (int, error) { <-release; return 0, nil })
		}, aio.WithName("exec"))
		aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			v, _, err := aio.GoRecv(c, gochan)
			return v, err
		}, aio.WithName("gorecv"))
		return struct{}{}, aio.WithGroup(c, func(g *aio.Group) error {
			aio.Spawn(g, dumpSleeper, aio.WithName("sleeper"))
			aio.Spawn(g, func(c *aio.Ctx) (struct{}, error) { return struct{}{}, lk.Acquire(c) }, aio.WithName("locker"))
			aio.Spawn(g, func(c *aio.Ctx) ([]byte, error) { return server.Recv(c, 10) }, aio.WithName("receiver"))
			aio.Spawn(g, func(c *aio.Ctx) (int, error) { return aio.Await(c, target) }, aio.WithName("awaiter"))
			return nil
		})
	}, aio.WithName("main"))
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	stopLoop := goLoop(t, l)
	stop = func() {
		close(release) // before the loop closes: the executor's close waits for its calls
		main.Cancel(nil)
		select { // main closes its sockets on the loop
		case <-main.Done():
		case <-time.After(5 * time.Second):
			t.Errorf("main did not end")
		}
		stopLoop()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		d, err = l.DumpWait(ctx, opts)
		cancel()
		if err != nil {
			stop()
			t.Fatalf("DumpWait: %v", err)
		}
		if allWaiting(d, 8) {
			return d, stop
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("the tasks were not all waiting after 5s:\n%s", d)
		}
		time.Sleep(time.Millisecond)
	}
}

// allWaiting reports whether d has n tasks, all suspended, and the executor
// call has started.
func allWaiting(d *aio.Dump, n int) bool {
	if len(d.Tasks) != n {
		return false
	}
	for _, ti := range d.Tasks {
		if ti.State != aio.StateSuspended || ti.Awaits == nil {
			return false
		}
		if ti.Awaits.Kind == "executor" && !strings.Contains(ti.Awaits.What, "(running)") {
			return false
		}
	}
	return true
}

//go:noinline
func dumpSleeper(c *aio.Ctx) (struct{}, error) { return struct{}{}, aio.Sleep(c, time.Hour) }

func dumpTarget(q *queue.Queue[int]) func(c *aio.Ctx) (int, error) {
	return func(c *aio.Ctx) (int, error) { return q.Get(c) }
}

var dumpNormalisers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`#\d+`), "#N"},
	{regexp.MustCompile(`0x[0-9a-f]+`), "ADDR"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)`), "TIME"},
	{regexp.MustCompile(`\(in [^)]*\)`), "(in D)"},
	{regexp.MustCompile(`fd \d+`), "fd N"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "127.0.0.1:P"},
	{regexp.MustCompile(`\.func[\d.]+`), ".funcN"},
	{regexp.MustCompile(`(suspended|ready) [0-9.]+(ns|µs|ms|s|m|h)[0-9.a-zµ]*`), "$1"}, // waited: debug mode
	{regexp.MustCompile(`, created at \S+`), ""},                                       // debug mode
	{regexp.MustCompile(`future created at \S+`), "future"},                            // debug mode
}

func normaliseDump(s string) string {
	for _, n := range dumpNormalisers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// The dump of a known tree names every task, its state and what it awaits
// (a group, a timer with its deadline, a lock, a socket with its
// addresses, another task, a queue, an executor call, a Go channel), and
// shows it as a tree: a group's tasks under the group's task, a task
// awaited by another under its awaiter, the rest as roots.
func TestDumpKnownTree(t *testing.T) {
	l := newLoop(t)
	d, stop := dumpTree(t, l, aio.DumpOptions{})
	defer stop()
	got := normaliseDump(d.String())
	want := `aio task dump: 8 tasks at TIME
main#N suspended: awaits group: group of #N, #N, #N, #N (1 waiting, ADDR)
├── sleeper#N [group] suspended: awaits sleep, deadline TIME (in D)
├── locker#N [group] suspended: awaits lock: locks.Lock.Acquire (1 waiting, ADDR)
├── receiver#N [group] suspended: awaits socket: fd N readable 127.0.0.1:P -> 127.0.0.1:P (1 waiting, ADDR)
└── awaiter#N [group] suspended: awaits task: task target#N (1 waiting, ADDR)
    └── target#N suspended: awaits queue: queue.Queue.Get (1 waiting, ADDR)
exec#N suspended: awaits executor: call of github.com/aiogo/aio/aio_test.dumpTree.funcN (running) (ADDR)
gorecv#N suspended: awaits gochan: receive from <-chan int
`
	if got != want {
		t.Errorf("dump:\n%s\nwant:\n%s\nraw:\n%s", got, want, d)
	}
	// The data behind the text: parents, links, deadlines.
	byName := map[string]*aio.TaskInfo{}
	for i := range d.Tasks {
		byName[d.Tasks[i].Name] = &d.Tasks[i]
	}
	main, target := byName["main"], byName["target"]
	for _, n := range []string{"sleeper", "locker", "receiver", "awaiter"} {
		if ti := byName[n]; ti.Parent != main.ID || ti.Link != "group" {
			t.Errorf("%s: parent %d link %q, want %d group", n, ti.Parent, ti.Link, main.ID)
		}
	}
	if target.Parent != byName["awaiter"].ID || target.Link != "awaited" {
		t.Errorf("target: parent %d link %q, want the awaiter", target.Parent, target.Link)
	}
	if a := byName["awaiter"].Awaits; len(a.Tasks) != 1 || a.Tasks[0] != target.ID {
		t.Errorf("awaiter awaits tasks %v, want [%d]", a.Tasks, target.ID)
	}
	if dl := byName["sleeper"].Awaits.Deadline.Sub(d.Time); dl < 59*time.Minute || dl > time.Hour {
		t.Errorf("sleeper's deadline is %v from the dump, want about an hour", dl)
	}
	if len(d.Roots) != 3 || d.Roots[0] != main.ID {
		t.Errorf("roots %v, want main, exec, gorecv", d.Roots)
	}
}

// A dump survives a round trip through JSON: decoded and encoded again, it
// gives the same bytes, and the decoded dump has the tasks, the tree and
// what they await.
func TestDumpJSONRoundTrip(t *testing.T) {
	l := newLoop(t)
	d, stop := dumpTree(t, l, aio.DumpOptions{})
	defer stop()
	b, err := d.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back aio.Dump
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal: %v\n%s", err, b)
	}
	b2, err := back.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Errorf("round trip changed the JSON:\n%s\nthen:\n%s", b, b2)
	}
	if got, want := normaliseDump(back.String()), normaliseDump(d.String()); got != want {
		t.Errorf("decoded dump's text:\n%s\nwant:\n%s", got, want)
	}
	for _, key := range []string{`"name": "sleeper"`, `"kind": "sleep"`, `"deadline":`, `"link": "group"`, `"roots":`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("JSON lacks %s:\n%s", key, b)
		}
	}
}

// With Stacks, each task's stack is its coroutine's goroutine stack, which
// holds the task's body; without tracking, coroutines that started before
// are found by their body's function, and the first dump with stacks makes
// later coroutines record their goroutine ids.
func TestDumpStacks(t *testing.T) {
	l := newLoop(t)
	d, stop := dumpTree(t, l, aio.DumpOptions{Stacks: true})
	defer stop()
	for _, ti := range d.Tasks {
		if ti.Name == "sleeper" {
			if !strings.Contains(ti.Stack, "aio_test.dumpSleeper(") || !strings.Contains(ti.Stack, "aio.Sleep(") {
				t.Errorf("sleeper's stack lacks its body and Sleep:\n%s", ti.Stack)
			}
			if ti.Goroutine == 0 || !strings.HasPrefix(ti.Stack, "goroutine ") {
				t.Errorf("sleeper: goroutine %d, stack %q", ti.Goroutine, ti.Stack)
			}
		}
	}
	if !strings.Contains(d.String(), "    | goroutine ") {
		t.Errorf("the text has no stacks:\n%s", d)
	}
	// Tasks spawned after a dump with stacks record their goroutine ids.
	started := make(chan struct{})
	l.CallSoon(func() {
		aio.Spawn(l, func(c *aio.Ctx) (struct{}, error) {
			close(started)
			return struct{}{}, aio.Sleep(c, time.Hour)
		}, aio.WithName("late"))
	})
	<-started
	d2, err := l.DumpWait(context.Background(), aio.DumpOptions{Stacks: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range d2.Tasks {
		if ti.Stack == "" {
			t.Errorf("task %s has no stack (note %q)", ti.Name, d2.StacksNote)
		}
	}
}

// With TrackWaits, a dump says how long each task has waited: at least the
// time the test waited, and not more than the test's whole run.
func TestDumpWaited(t *testing.T) {
	l := newLoop(t)
	l.TrackWaits(true)
	begin := time.Now()
	runTask(t, l, func(c *aio.Ctx) (struct{}, error) {
		f := aio.NewFuture[int](l)
		w, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return aio.Await(c, f) }, aio.WithName("waiter"))
		if err := aio.Sleep(c, 50*time.Millisecond); err != nil {
			return struct{}{}, err
		}
		d := l.Dump(aio.DumpOptions{})
		ti := d.Task(w.ID())
		if ti == nil || ti.Awaits == nil || ti.Awaits.Kind != aio.WaitFuture {
			t.Errorf("waiter: %+v", ti)
		} else if ti.Waited < 50*time.Millisecond || ti.Waited > time.Since(begin) {
			t.Errorf("waiter waited %v, want between 50ms and %v", ti.Waited, time.Since(begin))
		}
		if self := d.Task(c.Task().ID()); self == nil || self.State != aio.StateRunning {
			t.Errorf("the dumping task: %+v, want running", self)
		}
		f.SetResult(1)
		_, err := aio.Await(c, w)
		return struct{}{}, err
	})
}

// What a task awaited before is not shown once it waits on something else:
// a task that awaited a future and then gathers two tasks is shown in the
// gather, with the two tasks as its children.
func TestDumpStaleWait(t *testing.T) {
	l := newLoop(t)
	runTask(t, l, func(c *aio.Ctx) (struct{}, error) {
		f := aio.NewFuture[int](l)
		gate := aio.NewFuture[int](l)
		body := func(c *aio.Ctx) (int, error) { return aio.Await(c, gate) }
		g, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			f.SetResult(1)
			if _, err := aio.Await(c, f); err != nil {
				return 0, err
			}
			a, _ := aio.Spawn(c, body, aio.WithName("a"))
			b, _ := aio.Spawn(c, body, aio.WithName("b"))
			_, err := aio.Gather(c, a, b)
			return 0, err
		}, aio.WithName("gatherer"))
		for range 5 {
			aio.Yield(c)
		}
		d := l.Dump(aio.DumpOptions{})
		gi := d.Task(g.ID())
		if gi == nil || gi.Awaits == nil || gi.Awaits.Kind != aio.WaitGather || len(gi.Awaits.Tasks) != 2 {
			t.Errorf("gatherer: %+v\n%s", gi, d)
		} else if len(gi.Children) != 2 {
			t.Errorf("gatherer's children %v, want the two gathered\n%s", gi.Children, d)
		}
		gate.SetResult(2)
		_, err := aio.Await(c, g)
		return struct{}{}, err
	})
}

// lockedBuffer is a bytes.Buffer safe for a writer on the loop and a reader
// in the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// DumpOnSignal writes the dump when the process receives the signal (here
// SIGUSR1 sent to itself), and refuses SIGQUIT, which is Go's.
func TestDumpOnSignal(t *testing.T) {
	l := newLoop(t)
	if _, err := l.DumpOnSignal(syscall.SIGQUIT, nil, aio.DumpOptions{}); !errors.Is(err, aio.ErrInvalidState) {
		t.Errorf("DumpOnSignal(SIGQUIT): %v, want ErrInvalidState", err)
	}
	_, stop := dumpTree(t, l, aio.DumpOptions{})
	defer stop()
	var buf lockedBuffer
	remove, err := l.DumpOnSignal(nil, &buf, aio.DumpOptions{Stacks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "gorecv#") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	out := buf.String()
	for _, s := range []string{"aio task dump: 8 tasks", "main#", "└── awaiter#", "awaits lock: locks.Lock.Acquire", "aio_test.dumpSleeper("} {
		if !strings.Contains(out, s) {
			t.Errorf("the dump written on SIGUSR1 lacks %q:\n%s", s, out)
		}
	}
}

// DumpWait from another goroutine times out, saying so, on a loop that is
// not running, and returns ErrClosed on a closed loop.
func TestDumpWaitNotRunning(t *testing.T) {
	l := newLoop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.DumpWait(ctx, aio.DumpOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DumpWait of an idle loop: %v, want DeadlineExceeded", err)
	}
	l.Close()
	if _, err := l.DumpWait(context.Background(), aio.DumpOptions{}); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("DumpWait of a closed loop: %v, want ErrClosed", err)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Errorf("Dump off the loop did not panic")
		}
	}()
	l2 := newLoop(t)
	l2.Dump(aio.DumpOptions{})
}

// The stuck report: Run whose main task awaits a future nobody completes,
// with no timer and no fd, is reported once the threshold has passed,
// naming the task and the future; after the handler completes the future,
// a second such wait is reported again.
func TestStuckReport(t *testing.T) {
	leakCheck(t)
	var mu sync.Mutex
	var reports []*aio.StuckError
	var futs [2]*aio.Future[int]
	// A bound: if no report comes, complete the futures from here.
	rescue := time.AfterFunc(10*time.Second, func() {
		mu.Lock()
		defer mu.Unlock()
		for _, f := range futs {
			if f != nil {
				f.SetError(errors.New("no stuck report in 10s"))
			}
		}
	})
	defer rescue.Stop()
	begin := time.Now()
	v, err := aio.Run(func(c *aio.Ctx) (int, error) {
		c.Loop().SetStuckReport(100 * time.Millisecond)
		mu.Lock()
		futs[0], futs[1] = aio.NewFuture[int](c.Loop()), aio.NewFuture[int](c.Loop())
		mu.Unlock()
		a, err := aio.Await(c, futs[0])
		if err != nil {
			return 0, err
		}
		b, err := aio.Await(c, futs[1])
		return a + b, err
	}, aio.WithoutInterrupt(), aio.WithErrorHandler(func(l *aio.Loop, ec aio.ErrorContext) {
		var se *aio.StuckError
		if !errors.As(ec.Err, &se) {
			return // another report (debug mode's, under AIODEBUG=1)
		}
		mu.Lock()
		reports = append(reports, se)
		n := len(reports)
		mu.Unlock()
		futs[n-1].SetResult(n)
	}))
	if err != nil || v != 3 {
		t.Fatalf("Run: %d, %v", v, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 2 {
		t.Fatalf("%d stuck reports, want 2", len(reports))
	}
	for _, se := range reports {
		if se.Idle < 100*time.Millisecond || se.Idle > time.Since(begin) {
			t.Errorf("idle %v, want at least 100ms and at most %v", se.Idle, time.Since(begin))
		}
		msg := se.Error()
		for _, s := range []string{"loop stuck", "1 tasks", "main#", "awaits future", "(1 waiting, 0x"} {
			if !strings.Contains(msg, s) {
				t.Errorf("report lacks %q:\n%s", s, msg)
			}
		}
		if mt := se.Dump.Task(se.Dump.Roots[0]); mt == nil || mt.Name != "main" || mt.Waited < 100*time.Millisecond {
			t.Errorf("main in the dump: %+v", mt)
		}
		if !errors.Is(se, aio.ErrStuck) {
			t.Errorf("a StuckError does not match ErrStuck")
		}
	}
}

// The stuck report does not fire while a timer is pending: a task sleeping
// longer than the threshold can wake the one that awaits it.
func TestStuckReportNotWithTimer(t *testing.T) {
	leakCheck(t)
	var mu sync.Mutex
	var got []aio.ErrorContext
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		c.Loop().SetStuckReport(50 * time.Millisecond)
		s, _ := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
			return struct{}{}, aio.Sleep(c, 300*time.Millisecond)
		})
		return aio.Await(c, s)
	}, aio.WithoutInterrupt(), aio.WithErrorHandler(func(l *aio.Loop, ec aio.ErrorContext) {
		if errors.Is(ec.Err, aio.ErrStuck) {
			mu.Lock()
			got = append(got, ec)
			mu.Unlock()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 0 {
		t.Errorf("reports with a timer pending: %v", got)
	}
}

//go:noinline
func dumpParkForever(c *aio.Ctx) (int, error) {
	return aio.Await(c, aio.NewFuture[int](c.Loop()))
}

// Coroutines that started before any dump asked for stacks (no debug mode,
// no TrackWaits) have no goroutine id: the dump finds such a task's stack by
// its body's function when only one goroutine runs it, and otherwise says
// that it could not.
func TestDumpStacksByBody(t *testing.T) {
	l := newLoop(t)
	if l.Debug() {
		t.Skip("debug mode (AIODEBUG) records every goroutine id")
	}
	runTask(t, l, func(c *aio.Ctx) (struct{}, error) {
		s, _ := aio.Spawn(c, dumpSleeper, aio.WithName("sleeper"))
		p1, _ := aio.Spawn(c, dumpParkForever, aio.WithName("p1"))
		p2, _ := aio.Spawn(c, dumpParkForever, aio.WithName("p2"))
		for range 3 {
			aio.Yield(c)
		}
		d := l.Dump(aio.DumpOptions{Stacks: true})
		if st := d.Task(s.ID()).Stack; !strings.Contains(st, "aio_test.dumpSleeper(") {
			t.Errorf("sleeper's stack, found by its body:\n%s", st)
		}
		if d.Task(p1.ID()).Stack != "" || d.Task(p2.ID()).Stack != "" || !strings.Contains(d.StacksNote, "2 task stacks not found") {
			t.Errorf("two tasks with one body: stacks %q %q, note %q", d.Task(p1.ID()).Stack, d.Task(p2.ID()).Stack, d.StacksNote)
		}
		for _, tk := range []aio.AnyTask{s, p1, p2} {
			tk.Cancel(nil)
		}
		return struct{}{}, nil
	})
}

// In debug mode (which turns the stuck report on), the report names where
// the stuck task and the future it awaits were created.
func TestStuckReportDebugSites(t *testing.T) {
	leakCheck(t)
	var mu sync.Mutex
	var report string
	var f *aio.Future[int]
	rescue := time.AfterFunc(10*time.Second, func() {
		mu.Lock()
		defer mu.Unlock()
		f.SetError(errors.New("no stuck report in 10s"))
	})
	defer rescue.Stop()
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		c.Loop().SetStuckReport(100 * time.Millisecond) // debug mode's is DefaultStuckThreshold
		mu.Lock()
		f = aio.NewFuture[int](c.Loop())
		mu.Unlock()
		return aio.Await(c, f)
	}, aio.WithDebug(), aio.WithoutInterrupt(), aio.WithErrorHandler(func(l *aio.Loop, ec aio.ErrorContext) {
		if errors.Is(ec.Err, aio.ErrStuck) {
			mu.Lock()
			report = ec.Err.Error()
			mu.Unlock()
			f.SetResult(1)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !regexp.MustCompile(`main#\d+ suspended [0-9.]+m?s: awaits future: future created at \S*dump_test.go:\d+ \(1 waiting, 0x[0-9a-f]+\), created at \S*dump_test.go:\d+`).MatchString(report) {
		t.Errorf("the report does not name the sites:\n%s", report)
	}
}
