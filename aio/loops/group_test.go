package loops_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/loops"
)

// testTimeout bounds every wait of the tests.
const testTimeout = 30 * time.Second

// startGroup starts a group of n loops and closes it at the end of the test.
func startGroup(t *testing.T, n int, opts ...loops.Option) *loops.Group {
	t.Helper()
	g, err := loops.New(n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return g
}

// onLoop runs body in a task of l and waits for it from the test goroutine.
func onLoop[T any](t *testing.T, l *aio.Loop, body func(c *aio.Ctx) (T, error)) (T, error) {
	t.Helper()
	task, err := aio.Spawn(l, body)
	if err != nil {
		var zero T
		return zero, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return task.Wait(ctx)
}

// A group of fewer than one loop is refused with ErrNoLoops.
func TestNewRefusesZeroLoops(t *testing.T) {
	for _, n := range []int{0, -1} {
		if _, err := loops.New(n); !errors.Is(err, loops.ErrNoLoops) {
			t.Errorf("New(%d) = %v, want ErrNoLoops", n, err)
		}
	}
}

// NewPerCore makes one loop per GOMAXPROCS.
func TestNewPerCore(t *testing.T) {
	g, err := loops.NewPerCore()
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Len() != runtime.GOMAXPROCS(0) {
		t.Errorf("Len = %d, want %d", g.Len(), runtime.GOMAXPROCS(0))
	}
}

// Each runs its function once on every loop, in a task of that loop, and
// waits for all; Close closes every loop.
func TestEachRunsOnEveryLoop(t *testing.T) {
	g := startGroup(t, 3)
	var seen [3]atomic.Int32
	err := g.Each(func(i int, c *aio.Ctx) error {
		if c.Loop() != g.Loop(i) {
			t.Errorf("Each %d ran on another loop", i)
		}
		seen[i].Add(1)
		return aio.Sleep(c, time.Millisecond)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Errorf("loop %d ran %d times", i, seen[i].Load())
		}
	}
	ls := g.Loops()
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	for i, l := range ls {
		if !l.IsClosed() {
			t.Errorf("loop %d not closed", i)
		}
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := g.Each(func(int, *aio.Ctx) error { return nil }); !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Each after Close = %v, want ErrClosed", err)
	}
}

// Each joins the errors of the loops, each naming its loop; before Start
// it returns ErrNotStarted, and from a loop ErrOnLoop.
func TestEachErrors(t *testing.T) {
	g, err := loops.New(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Each(func(int, *aio.Ctx) error { return nil }); !errors.Is(err, loops.ErrNotStarted) {
		t.Errorf("Each before Start = %v", err)
	}
	g.Start()
	defer g.Close()
	boom := errors.New("boom")
	err = g.Each(func(i int, c *aio.Ctx) error {
		if i == 1 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("Each = %v, want boom", err)
	}
	_, err = onLoop(t, g.Loop(0), func(c *aio.Ctx) (struct{}, error) {
		return struct{}{}, g.Each(func(int, *aio.Ctx) error { return nil })
	})
	if !errors.Is(err, aio.ErrOnLoop) {
		t.Errorf("Each from a loop = %v, want ErrOnLoop", err)
	}
	_, err = onLoop(t, g.Loop(0), func(c *aio.Ctx) (struct{}, error) { return struct{}{}, g.Close() })
	if !errors.Is(err, aio.ErrOnLoop) {
		t.Errorf("Close from a loop = %v, want ErrOnLoop", err)
	}
	if err := g.Start(); !errors.Is(err, aio.ErrRunning) {
		t.Errorf("second Start = %v", err)
	}
}

// Pick goes round robin over the loops and passes over a closed one;
// PickLeast returns a loop with the least load.
func TestPick(t *testing.T) {
	g := startGroup(t, 3)
	var got []*aio.Loop
	for range 6 {
		got = append(got, g.Pick())
	}
	for i := range 3 {
		if got[i] != got[i+3] {
			t.Errorf("Pick is not round robin: %v", got)
		}
	}
	if got[0] == got[1] || got[1] == got[2] || got[0] == got[2] {
		t.Errorf("Pick repeated a loop in a round: %v", got)
	}
	// Load loop 0 with parked tasks: PickLeast avoids it.
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		aio.Spawn(g.Loop(0), func(c *aio.Ctx) (struct{}, error) {
			defer wg.Done()
			_, _, err := aio.GoRecv(c, release)
			return struct{}{}, err
		})
	}
	// Let loop 0 take them in and publish (it publishes when it parks).
	onLoop(t, g.Loop(0), func(c *aio.Ctx) (struct{}, error) { return struct{}{}, aio.Sleep(c, time.Millisecond) })
	time.Sleep(10 * time.Millisecond)
	for range 6 {
		if l := g.PickLeast(); l == g.Loop(0) {
			t.Errorf("PickLeast picked the loaded loop")
		}
	}
	close(release)
	wg.Wait()
}

// A group closed before Start closes its loops; Start after Close fails.
func TestCloseBeforeStart(t *testing.T) {
	g, err := loops.New(2)
	if err != nil {
		t.Fatal(err)
	}
	ls := g.Loops()
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if !l.IsClosed() {
			t.Error("loop not closed")
		}
	}
	if err := g.Start(); !errors.Is(err, loops.ErrGroupClosed) || !errors.Is(err, aio.ErrClosed) {
		t.Errorf("Start after Close = %v", err)
	}
}

// Close shuts each loop down: its tasks are cancelled with ErrShutdown and
// finish before the loop closes.
func TestCloseShutsDownTasks(t *testing.T) {
	g, _ := loops.New(2)
	g.Start()
	var ended atomic.Int32
	for i := range 2 {
		aio.Spawn(g.Loop(i), func(c *aio.Ctx) (struct{}, error) {
			err := aio.Sleep(c, time.Hour)
			if errors.Is(err, aio.ErrShutdown) {
				ended.Add(1)
			}
			return struct{}{}, nil
		})
	}
	// Both tasks have started once Each has run after them.
	g.Each(func(int, *aio.Ctx) error { return nil })
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if ended.Load() != 2 {
		t.Errorf("%d tasks saw the shutdown, want 2", ended.Load())
	}
}
