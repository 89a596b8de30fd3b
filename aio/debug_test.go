//go:build linux

package aio_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
	"github.com/aiogo/aio/aio/stream"
	"github.com/aiogo/aio/aio/subprocess"
	"github.com/aiogo/aio/aio/transport"
)

// The tests of debug mode and of the error handler's fields. Durations are
// checked against loose bounds only: at least what the test slept, and
// under 10 s.

// reports collects what reaches an error handler; it is called from the
// loop and, for the watchdog's reports, from the watchdog's goroutine.
type reports struct {
	mu   sync.Mutex
	list []aio.ErrorContext
}

func (r *reports) handle(_ *aio.Loop, ec aio.ErrorContext) {
	r.mu.Lock()
	r.list = append(r.list, ec)
	r.mu.Unlock()
}

// matching returns the reports whose error matches target.
func (r *reports) matching(target error) []aio.ErrorContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []aio.ErrorContext
	for _, ec := range r.list {
		if errors.Is(ec.Err, target) {
			out = append(out, ec)
		}
	}
	return out
}

func (r *reports) all() []aio.ErrorContext {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]aio.ErrorContext(nil), r.list...)
}

// runDebug runs body with aio.Run in debug mode, reports going to r.
func runDebug(t *testing.T, r *reports, body func(c *aio.Ctx) error, opts ...aio.RunOption) {
	t.Helper()
	leakCheck(t)
	opts = append([]aio.RunOption{aio.WithDebug(), aio.WithErrorHandler(r.handle), aio.WithoutInterrupt()}, opts...)
	if _, err := aio.Run(func(c *aio.Ctx) (struct{}, error) { return struct{}{}, body(c) }, opts...); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// lineAbove returns "file:line" of the line above its call: the site of
// what that line created.
func lineAbove() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", file, line-1)
}

func sleep150ms() { time.Sleep(150 * time.Millisecond) }

// checkHeld checks a reported duration: at least min, and bounded.
func checkHeld(t *testing.T, ec aio.ErrorContext, min time.Duration) {
	t.Helper()
	if ec.Duration < min || ec.Duration > 10*time.Second {
		t.Errorf("Duration = %v, want at least %v (and under 10s): %s", ec.Duration, min, ec)
	}
}

// A callback that holds the loop for 150 ms in debug mode is reported once
// it returns, as a slow callback: with its function's name, the file:line
// of the CallSoon that scheduled it, and a duration of at least 150 ms.
func TestDebugSlowCallback(t *testing.T) {
	var r reports
	var site string
	runDebug(t, &r, func(c *aio.Ctx) error {
		_, err := c.Loop().CallSoon(sleep150ms)
		site = lineAbove()
		if err != nil {
			return err
		}
		return aio.Sleep(c, time.Millisecond)
	})
	slow := r.matching(aio.ErrSlowCallback)
	if len(slow) != 1 {
		t.Fatalf("slow-callback reports: %d, want 1: %v", len(slow), r.all())
	}
	ec := slow[0]
	if !strings.HasSuffix(ec.Callback, "aio_test.sleep150ms") {
		t.Errorf("Callback = %q, want the function's name", ec.Callback)
	}
	if ec.Site != site {
		t.Errorf("Site = %q, want %q", ec.Site, site)
	}
	if ec.Message != "aio: slow callback" || ec.Task != nil {
		t.Errorf("report: %s", ec)
	}
	checkHeld(t, ec, 150*time.Millisecond)
}

// A task step that holds the loop for 150 ms is reported with the task
// (its name and ID) and where it was spawned.
func TestDebugSlowTaskStep(t *testing.T) {
	var r reports
	var site string
	var id uint64
	runDebug(t, &r, func(c *aio.Ctx) error {
		task, err := aio.Spawn(c, func(c *aio.Ctx) (int, error) { sleep150ms(); return 1, nil }, aio.WithName("sleeper"))
		site = lineAbove()
		if err != nil {
			return err
		}
		id = task.ID()
		if got := aio.CreationSite(task); got != site {
			t.Errorf("CreationSite = %q, want %q", got, site)
		}
		_, err = aio.Await(c, task)
		return err
	})
	var found []aio.ErrorContext
	for _, ec := range r.matching(aio.ErrSlowCallback) {
		if ec.TaskID == id {
			found = append(found, ec)
		}
	}
	if len(found) != 1 {
		t.Fatalf("slow-step reports of the task: %d, want 1: %v", len(found), r.all())
	}
	ec := found[0]
	if ec.Task == nil || ec.Task.Name() != "sleeper" || ec.TaskName != "sleeper" {
		t.Errorf("task of the report: %v / %q", ec.Task, ec.TaskName)
	}
	if ec.Site != site || ec.Message != "aio: slow task step" {
		t.Errorf("report: %s; want site %s", ec, site)
	}
	checkHeld(t, ec, 150*time.Millisecond)
}

// blockedOnChannel blocks its goroutine, the loop's thread when a task or
// callback calls it, in a channel operation until ch is closed (10 s at
// most).
func blockedOnChannel(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(10 * time.Second):
		return false
	}
}

// The watchdog reports a task step blocked in a Go channel operation while
// it is blocked: the report arrives before the step ends (the handler's
// reaction is what unblocks it), names the task, and carries the stacks of
// the task's coroutine, which is in the blocking function, and of the loop
// goroutine. Once the step ends it is reported as slow too.
func TestDebugWatchdogReportsBlockedStep(t *testing.T) {
	var (
		mu     sync.Mutex
		events []string
		once   sync.Once
		ch     = make(chan struct{})
		r      reports
	)
	note := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	handler := func(l *aio.Loop, ec aio.ErrorContext) {
		r.handle(l, ec)
		if errors.Is(ec.Err, aio.ErrLoopBlocked) {
			note("blocked report")
			once.Do(func() { close(ch) })
		}
	}
	var id uint64
	runDebug(t, &r, func(c *aio.Ctx) error {
		task, err := aio.Spawn(c, func(c *aio.Ctx) (bool, error) {
			ok := blockedOnChannel(ch)
			note("step ended")
			return ok, nil
		}, aio.WithName("blocker"))
		if err != nil {
			return err
		}
		id = task.ID()
		ok, err := aio.Await(c, task)
		if !ok {
			t.Error("the watchdog did not unblock the step within 10 s")
		}
		return err
	}, aio.WithErrorHandler(handler))
	mu.Lock()
	got := strings.Join(events, ", ")
	mu.Unlock()
	if got != "blocked report, step ended" {
		t.Errorf("events: %s; want the report before the end of the step", got)
	}
	blocked := r.matching(aio.ErrLoopBlocked)
	if len(blocked) != 1 {
		t.Fatalf("blocked reports: %d, want 1", len(blocked))
	}
	ec := blocked[0]
	if ec.Task == nil || ec.TaskID != id || ec.TaskName != "blocker" {
		t.Errorf("task of the report: %s", ec)
	}
	checkHeld(t, ec, aio.DefaultSlowCallbackDuration)
	if !strings.Contains(ec.Stack, "aio_test.blockedOnChannel") || !strings.Contains(ec.Stack, "[select") {
		t.Errorf("the stack does not show the blocking function:\n%s", ec.Stack)
	}
	if strings.Count(ec.Stack, "goroutine ") < 2 || !strings.Contains(ec.Stack, "(*Loop).runReadyDebug") {
		t.Errorf("the stack does not show both the coroutine and the loop goroutine:\n%s", ec.Stack)
	}
	var slow int
	for _, s := range r.matching(aio.ErrSlowCallback) {
		if s.TaskID == id {
			slow++
			checkHeld(t, s, aio.DefaultSlowCallbackDuration)
		}
	}
	if slow != 1 {
		t.Errorf("slow-step reports of the task: %d, want 1", slow)
	}
}

// A callback blocked on the loop is reported likewise, by its function's
// name and its site, with the loop goroutine's stack in the blocking
// function, at the slow-callback duration set on the loop.
func TestDebugWatchdogReportsBlockedCallback(t *testing.T) {
	var (
		r    reports
		once sync.Once
		ch   = make(chan struct{})
		site string
	)
	handler := func(l *aio.Loop, ec aio.ErrorContext) {
		r.handle(l, ec)
		if errors.Is(ec.Err, aio.ErrLoopBlocked) {
			once.Do(func() { close(ch) })
		}
	}
	runDebug(t, &r, func(c *aio.Ctx) error {
		l := c.Loop()
		l.SetSlowCallbackDuration(50 * time.Millisecond)
		if got := l.SlowCallbackDuration(); got != 50*time.Millisecond {
			t.Errorf("SlowCallbackDuration = %v", got)
		}
		done := aio.NewFuture[bool](l)
		_, err := l.CallSoon(func() { done.SetResult(blockedOnChannel(ch)) })
		site = lineAbove()
		if err != nil {
			return err
		}
		ok, err := aio.Await(c, done)
		if !ok {
			t.Error("the watchdog did not unblock the callback within 10 s")
		}
		return err
	}, aio.WithErrorHandler(handler))
	blocked := r.matching(aio.ErrLoopBlocked)
	if len(blocked) != 1 {
		t.Fatalf("blocked reports: %d, want 1: %v", len(blocked), r.all())
	}
	ec := blocked[0]
	if !strings.Contains(ec.Callback, "TestDebugWatchdogReportsBlockedCallback.func") || ec.Site != site {
		t.Errorf("report: %s; want the closure, created at %s", ec, site)
	}
	checkHeld(t, ec, 50*time.Millisecond)
	if !strings.Contains(ec.Stack, "aio_test.blockedOnChannel") {
		t.Errorf("the stack does not show the blocking function:\n%s", ec.Stack)
	}
}

// A future still pending when the loop closes is reported with where it was
// made; a completed one is not.
func TestDebugFutureNeverCompleted(t *testing.T) {
	var r reports
	var site string
	runDebug(t, &r, func(c *aio.Ctx) error {
		_ = aio.NewFuture[int](c.Loop())
		site = lineAbove()
		done := aio.NewFuture[int](c.Loop())
		return done.SetResult(1)
	})
	pending := r.matching(aio.ErrNeverCompleted)
	if len(pending) != 1 {
		t.Fatalf("never-completed reports: %d, want 1: %v", len(pending), r.all())
	}
	if ec := pending[0]; ec.Site != site || ec.Message != "aio: future never completed" {
		t.Errorf("report: %s; want the site %s", ec, site)
	}
}

var errBoom = errors.New("boom")

// The error of a failed task that nobody retrieved is reported with the
// task's ID and name and, in debug mode, where it was spawned.
func TestDebugUnretrievedErrorHasSite(t *testing.T) {
	var r reports
	var site string
	var id uint64
	runDebug(t, &r, func(c *aio.Ctx) error {
		task, err := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, errBoom }, aio.WithName("failing"))
		site = lineAbove()
		if err != nil {
			return err
		}
		id = task.ID()
		return aio.Sleep(c, time.Millisecond)
	})
	failed := r.matching(errBoom)
	if len(failed) != 1 {
		t.Fatalf("reports of the failure: %d, want 1: %v", len(failed), r.all())
	}
	ec := failed[0]
	if ec.Site != site || ec.TaskID != id || ec.TaskName != "failing" {
		t.Errorf("report: %s; want task failing#%d created at %s", ec, id, site)
	}
}

// A resource registered with TrackResource and not done when the loop
// closes is reported with its kind, its description and where it was
// registered; one whose done was called (twice) is not.
func TestDebugTrackResource(t *testing.T) {
	var r reports
	var site string
	runDebug(t, &r, func(c *aio.Ctx) error {
		c.Loop().TrackResource("widget", func() string { return "w1" })
		site = lineAbove()
		done := c.Loop().TrackResource("widget", nil)
		done()
		done()
		return nil
	})
	open := r.matching(aio.ErrNotClosed)
	if len(open) != 1 {
		t.Fatalf("not-closed reports: %d, want 1: %v", len(open), r.all())
	}
	ec := open[0]
	if ec.Message != "aio: widget never closed" || !strings.Contains(ec.Err.Error(), "widget w1") || ec.Site != site {
		t.Errorf("report: %s; want widget w1 at %s", ec, site)
	}
}

// notClosedAt returns the not-closed reports of kind made at site.
func notClosedAt(r *reports, kind, site string) int {
	n := 0
	for _, ec := range r.matching(aio.ErrNotClosed) {
		if ec.Message == "aio: "+kind+" never closed" && ec.Site == site {
			n++
		}
	}
	return n
}

// A transport, a stream, a socket and a subprocess left open when Run
// returns are each reported with where the program made them; the server
// the test closed is not reported.
func TestDebugUnclosedResources(t *testing.T) {
	var r reports
	var trSite, stSite, skSite, spSite string
	var st *stream.Stream
	var sk *socket.Socket
	defer func() {
		// A loop's close does not close its sockets: after it, any
		// goroutine may.
		if st != nil {
			st.Socket().Close()
		}
		if sk != nil {
			sk.Close()
		}
	}()
	runDebug(t, &r, func(c *aio.Ctx) error {
		srv, err := transport.Serve(c, "tcp", "127.0.0.1:0", func() transport.BaseProtocol { return transport.BaseProtocol{} })
		if err != nil {
			return err
		}
		addr := srv.Addr().String()
		_, _, err = transport.Connect(c, "tcp", addr, func() transport.BaseProtocol { return transport.BaseProtocol{} })
		trSite = lineAbove()
		if err != nil {
			return err
		}
		st, err = stream.Open(c, "tcp", addr)
		stSite = lineAbove()
		if err != nil {
			return err
		}
		sk, err = socket.Listen(c, "tcp", "127.0.0.1:0")
		skSite = lineAbove()
		if err != nil {
			return err
		}
		_, err = subprocess.Command("sleep", "10").Start(c)
		spSite = lineAbove()
		if err != nil {
			return err
		}
		if err := srv.Close(); err != nil {
			return err
		}
		return aio.Sleep(c, 10*time.Millisecond) // let the server accept
	})
	for _, k := range []struct{ kind, site string }{
		{"transport", trSite}, {"socket", trSite}, // the transport's socket
		{"stream", stSite}, {"socket", stSite},
		{"socket", skSite},
		{"subprocess", spSite},
	} {
		if n := notClosedAt(&r, k.kind, k.site); n != 1 {
			t.Errorf("reports of the %s made at %s: %d, want 1", k.kind, k.site, n)
		}
	}
	for _, ec := range r.matching(aio.ErrNotClosed) {
		if strings.Contains(ec.Message, "server") {
			t.Errorf("the closed server is reported: %s", ec)
		}
	}
	if t.Failed() {
		for _, ec := range r.all() {
			t.Log(ec)
		}
	}
}

// AIODEBUG=1 in the environment turns debug mode on in every new loop (and
// so in Run's); another value leaves it off.
func TestDebugFromEnvironment(t *testing.T) {
	leakCheck(t)
	for _, c := range []struct {
		v  string
		on bool
	}{{"1", true}, {"true", true}, {"0", false}, {"", false}, {"yes please", false}} {
		t.Setenv("AIODEBUG", c.v)
		l, err := aio.NewLoop()
		if err != nil {
			t.Fatal(err)
		}
		if l.Debug() != c.on {
			t.Errorf("AIODEBUG=%q: Debug() = %v, want %v", c.v, l.Debug(), c.on)
		}
		l.Close()
	}
	t.Setenv("AIODEBUG", "1")
	var r reports
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		_ = aio.NewFuture[int](c.Loop())
		return 0, nil
	}, aio.WithErrorHandler(r.handle), aio.WithoutInterrupt())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(r.matching(aio.ErrNeverCompleted)); n != 1 {
		t.Errorf("Run under AIODEBUG=1: never-completed reports %d, want 1", n)
	}
}

// With debug mode off nothing of it is reported and no site is kept: a slow
// callback, a pending future, an open resource and a task pass silently.
func TestDebugOffReportsNothing(t *testing.T) {
	leakCheck(t)
	t.Setenv("AIODEBUG", "")
	var r reports
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		l := c.Loop()
		if l.Debug() {
			t.Error("debug mode on by default")
		}
		if _, err := l.CallSoon(sleep150ms); err != nil {
			return 0, err
		}
		_ = aio.NewFuture[int](l)
		l.TrackResource("widget", nil)()
		l.TrackResource("widget", nil)
		task, err := aio.Spawn(c, func(c *aio.Ctx) (int, error) { sleep150ms(); return 0, nil })
		if err != nil {
			return 0, err
		}
		if s := aio.CreationSite(task); s != "" {
			t.Errorf("CreationSite with debug off = %q", s)
		}
		return aio.Await(c, task)
	}, aio.WithErrorHandler(r.handle), aio.WithoutInterrupt())
	if err != nil {
		t.Fatal(err)
	}
	if all := r.all(); len(all) != 0 {
		t.Errorf("reports with debug off: %v", all)
	}
}

// Debug mode can be turned off and on on a loop run by hand; Debug says
// which.
func TestDebugSetDebug(t *testing.T) {
	l := newLoop(t)
	l.SetDebug(true)
	if !l.Debug() {
		t.Error("Debug() = false after SetDebug(true)")
	}
	l.SetDebug(false)
	if l.Debug() {
		t.Error("Debug() = true after SetDebug(false)")
	}
	var zero aio.Loop
	if zero.Debug() {
		t.Error("a zero Loop in debug mode")
	}
	if done := zero.TrackResource("x", nil); done == nil {
		t.Error("TrackResource on a zero Loop returned nil")
	} else {
		done()
	}
}

// DefaultErrorHandler logs the fields of the report as slog attributes:
// the task's name#ID, ID and name, the site, the duration; a slow callback
// at level WARN with its callback's name.
func TestDefaultErrorHandlerAttributes(t *testing.T) {
	leakCheck(t)
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	defer slog.SetDefault(prev)
	var site string
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		_, err := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, errBoom }, aio.WithName("failing"))
		site = lineAbove()
		if err != nil {
			return 0, err
		}
		if _, err := c.Loop().CallSoon(sleep150ms); err != nil {
			return 0, err
		}
		return 0, aio.Sleep(c, time.Millisecond)
	}, aio.WithDebug(), aio.WithoutInterrupt())
	if err != nil {
		t.Fatal(err)
	}
	var failed, slow map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch msg := fmt.Sprint(m["msg"]); {
		case strings.HasPrefix(msg, "aio: task error was never retrieved"): // "(... garbage collected)" if it was
			failed = m
		case msg == "aio: slow callback":
			slow = m
		}
	}
	if failed == nil || slow == nil {
		t.Fatalf("log lines missing:\n%s", buf.String())
	}
	if failed["level"] != "ERROR" || failed["task_name"] != "failing" || failed["site"] != site ||
		failed["err"] != "boom" || failed["task_id"] == nil {
		t.Errorf("the failure's attributes: %v; want site %s", failed, site)
	}
	if slow["level"] != "WARN" || !strings.HasSuffix(fmt.Sprint(slow["callback"]), "sleep150ms") || slow["duration"] == nil || slow["site"] == nil {
		t.Errorf("the slow callback's attributes: %v", slow)
	}
}

// ErrorContext.String names every field that is set.
func TestErrorContextString(t *testing.T) {
	ec := aio.ErrorContext{
		Message: "aio: slow callback", Err: errBoom, TaskID: 7, TaskName: "t",
		Callback: "pkg.f", Site: "x.go:3", Duration: 150 * time.Millisecond, Stack: "goroutine 1 [running]:",
	}
	want := "aio: slow callback: boom (task t#7, callback pkg.f, created at x.go:3, held the loop 150ms)\ngoroutine 1 [running]:"
	if got := ec.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
}
