package loops_test

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/loops"
)

// A runtime.Goexit in a task of one loop closes that loop only: the group
// reports the failure, the other loops go on serving, and without
// WithRestart the failed index stays closed (Pick passes over it).
func TestGoexitClosesOneLoop(t *testing.T) {
	var mu sync.Mutex
	var fails []loops.Failure
	got := make(chan struct{}, 1)
	g := startGroup(t, 3, loops.WithOnFailure(func(f loops.Failure) {
		mu.Lock()
		fails = append(fails, f)
		mu.Unlock()
		got <- struct{}{}
	}), loops.WithErrorHandler(func(int, *aio.Loop, aio.ErrorContext) {}))
	dead := g.Loop(1)
	aio.Spawn(dead, func(c *aio.Ctx) (struct{}, error) { runtime.Goexit(); return struct{}{}, nil })
	select {
	case <-got:
	case <-time.After(testTimeout):
		t.Fatal("no failure reported")
	}
	<-dead.Closed()
	mu.Lock()
	f := fails[0]
	mu.Unlock()
	if f.Index != 1 || f.Loop != dead || !errors.Is(f.Err, aio.ErrClosed) || f.Restarted != nil {
		t.Errorf("failure = %+v", f)
	}
	for _, i := range []int{0, 2} {
		if v, err := onLoop(t, g.Loop(i), func(c *aio.Ctx) (int, error) { return i, aio.Sleep(c, time.Millisecond) }); err != nil || v != i {
			t.Errorf("loop %d after the failure: %v, %v", i, v, err)
		}
	}
	for range 6 {
		if g.Pick() == dead {
			t.Error("Pick picked the dead loop")
		}
	}
	if g.Failures() != 1 {
		t.Errorf("Failures = %d", g.Failures())
	}
}

// With WithRestart a failed loop is replaced at its index by a new loop,
// set up by WithLoopStart, and the Failure names both.
func TestRestart(t *testing.T) {
	got := make(chan loops.Failure, 1)
	starts := make(chan int, 10)
	g := startGroup(t, 2, loops.WithRestart(),
		loops.WithOnFailure(func(f loops.Failure) { got <- f }),
		loops.WithLoopStart(func(i int, l *aio.Loop) { starts <- i }),
		loops.WithErrorHandler(func(int, *aio.Loop, aio.ErrorContext) {}))
	<-starts
	<-starts
	old := g.Loop(0)
	aio.Spawn(old, func(c *aio.Ctx) (struct{}, error) { runtime.Goexit(); return struct{}{}, nil })
	var f loops.Failure
	select {
	case f = <-got:
	case <-time.After(testTimeout):
		t.Fatal("no failure reported")
	}
	if f.Index != 0 || f.Loop != old || f.Restarted == nil || f.Restarted != g.Loop(0) {
		t.Errorf("failure = %+v", f)
	}
	if i := <-starts; i != 0 {
		t.Errorf("restart set up loop %d", i)
	}
	if _, err := onLoop(t, g.Loop(0), func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Millisecond) }); err != nil {
		t.Errorf("restarted loop: %v", err)
	}
}

// With WithFailOnPanic a panic in a callback fails the loop (it would
// otherwise be reported and the loop would go on).
func TestFailOnPanic(t *testing.T) {
	got := make(chan loops.Failure, 1)
	g := startGroup(t, 2, loops.WithFailOnPanic(), loops.WithRestart(),
		loops.WithOnFailure(func(f loops.Failure) { got <- f }),
		loops.WithErrorHandler(func(int, *aio.Loop, aio.ErrorContext) {}))
	old := g.Loop(1)
	old.CallSoon(func() { panic("boom") })
	select {
	case f := <-got:
		var pe *aio.PanicError
		if f.Index != 1 || !errors.As(f.Err, &pe) || pe.Value != "boom" {
			t.Errorf("failure = %+v", f)
		}
	case <-time.After(testTimeout):
		t.Fatal("no failure reported")
	}
	if g.Loop(1) == old || !old.IsClosed() {
		t.Error("the loop was not replaced")
	}
}

// In Acceptor mode, a failure of the acceptor's loop (the first) stops
// accepting until the restart, which listens again on the same address:
// connections are served again, by every loop.
func TestKilledAcceptorRestarts(t *testing.T) {
	got := make(chan loops.Failure, 1)
	g := startGroup(t, 2, loops.WithRestart(),
		loops.WithOnFailure(func(f loops.Failure) { got <- f }),
		loops.WithErrorHandler(func(int, *aio.Loop, aio.ErrorContext) {}))
	srv, err := loops.ServeStream(g, "tcp", "127.0.0.1:0", echoStream, loops.WithAcceptor())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	exercise(t, srv.Addr().String(), 4, 2, 100)
	aio.Spawn(g.Loop(0), func(c *aio.Ctx) (struct{}, error) { runtime.Goexit(); return struct{}{}, nil })
	select {
	case <-got:
	case <-time.After(testTimeout):
		t.Fatal("no failure reported")
	}
	// The restarted loop listens once it has run its first iteration.
	deadline := time.Now().Add(testTimeout)
	for {
		cn, err := net.Dial("tcp", srv.Addr().String())
		if err == nil {
			cn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not listening again: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	before := srv.Served()
	exercise(t, srv.Addr().String(), 10, 2, 100)
	after := srv.Served()
	for i := range after {
		if after[i] == before[i] {
			t.Errorf("loop %d served nothing after the restart: %v -> %v", i, before, after)
		}
	}
}
