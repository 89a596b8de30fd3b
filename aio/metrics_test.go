package aio_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/aiotest"
)

// Tasks spawned from another goroutine are counted three times over: as
// spawned, as door submissions (each Spawn from another goroutine is one item
// of the door), and by their steps (a task that yields k times takes k+1
// steps); once they are done, none is live.
func TestMetricsTasksAndDoor(t *testing.T) {
	l := newLoop(t)
	const n, k = 50, 3
	done := 0
	for range n {
		_, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			for range k {
				aio.Yield(c)
			}
			done++
			return 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	runUntil(t, l, func() bool { return done == n })
	m := l.Metrics()
	if m.TasksSpawned != n || m.DoorSubmissions != n || m.TaskSteps != n*(k+1) || m.LiveTasks != 0 {
		t.Errorf("spawned %d, door %d, steps %d, live %d; want %d, %d, %d, 0",
			m.TasksSpawned, m.DoorSubmissions, m.TaskSteps, m.LiveTasks, n, n, n*(k+1))
	}
	if m.Running {
		t.Errorf("Running after the run")
	}
}

// Callbacks counts the callbacks that ran, from the door and from the loop,
// and not those cancelled before they ran; loop-side work that travels
// through the door behind other goroutines' work is not a door submission.
func TestMetricsCallbacks(t *testing.T) {
	l := newLoop(t)
	ran := 0
	fn := func() { ran++ }
	var hs []aio.Handle
	for range 10 {
		h, err := l.CallSoon(fn)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	hs[3].Cancel() // cancelled in the door
	_, err := l.CallSoon(func() {
		var mine []aio.Handle
		for range 20 {
			h, _ := l.CallSoon(fn)
			mine = append(mine, h)
		}
		for _, h := range mine[:5] {
			h.Cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	runUntil(t, l, func() bool { return ran == 9+15 })
	m := l.Metrics()
	if m.Callbacks != 9+15+1 {
		t.Errorf("Callbacks = %d, want %d", m.Callbacks, 9+15+1)
	}
	// Eleven CallSoon calls, and the Cancel, from this goroutine.
	if m.DoorSubmissions != 12 {
		t.Errorf("DoorSubmissions = %d, want 12", m.DoorSubmissions)
	}
	if m.TaskSteps != 0 || m.TasksSpawned != 0 {
		t.Errorf("TaskSteps %d, TasksSpawned %d; want 0, 0", m.TaskSteps, m.TasksSpawned)
	}
}

// Iterations counts the loop's iterations: a run of one iteration (Stop
// before RunForever) adds one, and so does each link of a chain of
// callbacks that each schedule the next.
func TestMetricsIterations(t *testing.T) {
	l := newLoop(t)
	for range 5 {
		iterate(t, l, nil)
	}
	if got := l.Metrics().Iterations; got != 5 {
		t.Errorf("Iterations = %d after five one-iteration runs, want 5", got)
	}
	iter := 0
	var link func()
	link = func() { l.CallSoon(link) }
	l.CallSoon(link)
	runUntil(t, l, counted(&iter, func() bool { return iter == 8 }))
	// RunUntil asks before the first iteration and after each: 7 more.
	if got := l.Metrics().Iterations; got != 5+7 {
		t.Errorf("Iterations = %d, want %d", got, 5+7)
	}
}

// The gauges: on the loop, ReadyDepth is what is queued for the next batch,
// and every gauge is exact; from another goroutine, a loop parked in the
// poller shows its live tasks, timers and watched descriptors exactly.
func TestMetricsGauges(t *testing.T) {
	l := newLoop(t)
	r, _ := pipe(t)
	gate := aio.NewFuture[int](l)
	var onLoop aio.Metrics
	l.CallSoon(func() {
		for range 7 {
			l.CallSoon(func() {})
		}
		for range 3 {
			l.CallLater(time.Hour, func() {})
		}
		if err := l.AddReader(r, func() {}); err != nil {
			t.Errorf("AddReader: %v", err)
		}
		for range 5 {
			aio.Spawn(l, func(c *aio.Ctx) (int, error) { return aio.Await(c, gate) })
		}
		onLoop = l.Metrics()
	})
	stop := goLoop(t, l)
	defer stop()
	// The five tasks' first steps are queued with the seven callbacks,
	// behind goLoop's callback, which came in through the door with this
	// one.
	if onLoop.ReadyDepth != 1+7+5 || onLoop.PendingTimers != 3 || onLoop.FDs != 1 || onLoop.LiveTasks != 5 || !onLoop.Running {
		t.Errorf("on the loop: %+v; want ReadyDepth 13, PendingTimers 3, FDs 1, LiveTasks 5, Running", onLoop)
	}
	// Parked, from here.
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := l.Metrics()
		if m.ReadyDepth == 0 && m.PendingTimers == 3 && m.FDs == 1 && m.LiveTasks == 5 && m.TaskSteps == 5 && m.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("parked loop, seen from another goroutine: %+v", m)
		}
		time.Sleep(time.Millisecond)
	}
	gate.SetResult(1)
	for l.Metrics().LiveTasks != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("tasks still live after the gate opened: %+v", l.Metrics())
		}
		time.Sleep(time.Millisecond)
	}
	stop() // ends the run and closes the loop
	m := l.Metrics()
	if m.Running || m.FDs != 1 || m.PendingTimers != 3 {
		t.Errorf("after the run: %+v", m)
	}
}

// A timer that falls due while a callback blocks the loop for 60 ms fires
// at least 50 ms late, and the lag histogram says so: one lag, in a bucket
// at or above 50 ms, the maximum and the median at least 50 ms (and under
// 10 s).
func TestMetricsLagBlockedLoop(t *testing.T) {
	l := newLoop(t)
	fired := false
	l.CallSoon(func() {
		l.CallLater(time.Millisecond, func() { fired = true })
		time.Sleep(60 * time.Millisecond) // blocks the loop
	})
	runUntil(t, l, func() bool { return fired })
	lag := l.Metrics().Lag
	if lag.Count() != 1 || lag.CountAtLeast(50*time.Millisecond) != 1 {
		t.Fatalf("lags %d, of which >= 50ms %d; want 1, 1 (%v)", lag.Count(), lag.CountAtLeast(50*time.Millisecond), lag.Buckets())
	}
	if lag.Max() < 50*time.Millisecond || lag.Max() > 10*time.Second || lag.Quantile(0.5) < 50*time.Millisecond {
		t.Errorf("max %v, median %v; want at least 50ms, under 10s", lag.Max(), lag.Quantile(0.5))
	}
	if lag.Sum() != lag.Max() || lag.Mean() != lag.Max() {
		t.Errorf("one lag: sum %v, mean %v, max %v should be equal", lag.Sum(), lag.Mean(), lag.Max())
	}
	b := lag.Buckets()
	if len(b) != 1 || b[0].Low > lag.Max() || lag.Max() >= b[0].High || b[0].Count != 1 {
		t.Errorf("buckets %v do not hold the one lag %v", b, lag.Max())
	}
}

// On the virtual clock a timer fires exactly at its deadline: ten sleeps of
// an hour give ten lags of zero. A timer the clock was advanced past fires
// late by exactly the advance beyond its deadline.
func TestMetricsLagVirtualClock(t *testing.T) {
	aiotest.Run(t, func(c *aio.Ctx) error {
		l := c.Loop()
		for range 10 {
			aio.Sleep(c, time.Hour)
		}
		lag := l.Metrics().Lag
		if lag.Count() != 10 || lag.Max() != 0 || lag.Sum() != 0 {
			t.Errorf("after ten sleeps: %d lags, max %v, sum %v; want 10, 0, 0", lag.Count(), lag.Max(), lag.Sum())
		}
		l.CallLater(time.Second, func() {})
		l.AdvanceClock(time.Second + 3*time.Millisecond)
		aio.Yield(c)
		lag = l.Metrics().Lag
		if lag.Count() != 11 || lag.Max() != 3*time.Millisecond || lag.Sum() != 3*time.Millisecond {
			t.Errorf("after the advance: %d lags, max %v, sum %v; want 11, 3ms, 3ms", lag.Count(), lag.Max(), lag.Sum())
		}
		if q := lag.Quantile(1); q != 3*time.Millisecond {
			t.Errorf("Quantile(1) = %v, want the max, 3ms", q)
		}
		if q := lag.Quantile(0.5); q > time.Microsecond+24*time.Nanosecond {
			t.Errorf("Quantile(0.5) = %v, want the first bucket's bound (about 1µs)", q)
		}
		return nil
	})
}

// Utilization is between 0 and 1: above 0.5 for a loop that spins in its
// callbacks, below 0.5 for one that sleeps in its poller. RunTime counts
// only the time in runs, and PollTime is a part of it.
func TestMetricsUtilization(t *testing.T) {
	busy := newLoop(t)
	start := time.Now()
	var spin func()
	spin = func() {
		for t0 := time.Now(); time.Since(t0) < time.Millisecond; {
		}
		if time.Since(start) < 200*time.Millisecond {
			busy.CallSoon(spin)
		} else {
			busy.Stop()
		}
	}
	busy.CallSoon(spin)
	runForever(t, busy)
	mb := busy.Metrics()
	if u := mb.Utilization(); u <= 0.5 || u > 1 {
		t.Errorf("busy loop: utilization %v (run %v, poll %v); want in (0.5, 1]", u, mb.RunTime, mb.PollTime)
	}
	if mb.RunTime < 150*time.Millisecond || mb.RunTime > 10*time.Second {
		t.Errorf("busy loop: RunTime %v, want at least 150ms, under 10s", mb.RunTime)
	}

	idle := newLoop(t)
	slept := false
	idle.CallLater(200*time.Millisecond, func() { slept = true })
	runUntil(t, idle, func() bool { return slept })
	mi := idle.Metrics()
	if u := mi.Utilization(); u < 0 || u >= 0.5 {
		t.Errorf("idle loop: utilization %v (run %v, poll %v); want in [0, 0.5)", u, mi.RunTime, mi.PollTime)
	}
	if mi.PollTime < 150*time.Millisecond || mi.PollTime > mi.RunTime {
		t.Errorf("idle loop: PollTime %v, RunTime %v; want the poll at least 150ms, within the run", mi.PollTime, mi.RunTime)
	}
	// Between runs, time does not count.
	time.Sleep(20 * time.Millisecond)
	if again := idle.Metrics(); again.RunTime != mi.RunTime || again.PollTime != mi.PollTime {
		t.Errorf("between runs: RunTime %v -> %v, PollTime %v -> %v; want no change", mi.RunTime, again.RunTime, mi.PollTime, again.PollTime)
	}
	// The interval's figures: Sub.
	d := mb.Sub(mb)
	if d.Iterations != 0 || d.RunTime != 0 || d.Utilization() != 0 || d.Lag.Count() != 0 {
		t.Errorf("m.Sub(m) = %+v, want zero counters", d)
	}
}

// Sub gives the counts of the interval between two snapshots, and keeps the
// later snapshot's gauges.
func TestMetricsSub(t *testing.T) {
	aiotest.Run(t, func(c *aio.Ctx) error {
		l := c.Loop()
		before := l.Metrics()
		for range 4 {
			t2, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { aio.Sleep(c, time.Second); return 0, nil })
			aio.Await(c, t2)
		}
		after := l.Metrics()
		d := after.Sub(before)
		if d.TasksSpawned != 4 || d.Lag.Count() != 4 || d.LiveTasks != after.LiveTasks || d.LiveTasks != 1 {
			t.Errorf("interval: spawned %d, lags %d, live %d; want 4, 4, 1", d.TasksSpawned, d.Lag.Count(), d.LiveTasks)
		}
		// Each child: a first step and one after its sleep; main: one
		// after each Await.
		if d.TaskSteps != 4*2+4 {
			t.Errorf("interval: steps %d, want %d", d.TaskSteps, 4*2+4)
		}
		return nil
	})
}

// Metrics on a zero Loop panics with ErrNoLoop.
func TestMetricsZeroLoop(t *testing.T) {
	var l aio.Loop
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, aio.ErrNoLoop) {
			t.Errorf("Metrics panicked with %v, want ErrNoLoop", err)
		}
	}()
	l.Metrics()
}

// Metrics may be read from any number of goroutines while the loop runs,
// without a data race (go test -race), and what they read is coherent: the
// counters never go back, PollTime is within RunTime, the utilization is
// between 0 and 1, and the live tasks are never more than the spawned.
func TestMetricsConcurrentReaders(t *testing.T) {
	l := newLoop(t)
	var stopWork atomic.Bool
	var work func()
	work = func() {
		if stopWork.Load() {
			return
		}
		aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			aio.Yield(c)
			aio.Sleep(c, 100*time.Microsecond)
			return 0, nil
		})
		l.CallLater(50*time.Microsecond, work)
	}
	l.CallSoon(work)
	stop := goLoop(t, l)
	defer stop()
	var wg sync.WaitGroup
	end := time.Now().Add(200 * time.Millisecond)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var prev aio.Metrics
			for time.Now().Before(end) {
				m := l.Metrics()
				if m.Iterations < prev.Iterations || m.Callbacks < prev.Callbacks || m.TaskSteps < prev.TaskSteps ||
					m.TasksSpawned < prev.TasksSpawned || m.RunTime < prev.RunTime || m.PollTime < prev.PollTime ||
					m.Lag.Count() < prev.Lag.Count() {
					t.Errorf("a counter went back: %+v after %+v", m, prev)
					return
				}
				if m.PollTime > m.RunTime || m.Utilization() < 0 || m.Utilization() > 1 || uint64(m.LiveTasks) > m.TasksSpawned {
					t.Errorf("incoherent snapshot: %+v", m)
					return
				}
				prev = m
			}
		}()
	}
	// Another goroutine spawning too: door submissions.
	for range 100 {
		aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, nil })
	}
	wg.Wait()
	stopWork.Store(true)
	stop()
	m := l.Metrics()
	if m.DoorSubmissions < 100 || m.TasksSpawned < 101 || m.Lag.Count() == 0 {
		t.Errorf("after the run: %+v", m)
	}
}

// BenchmarkMetrics measures a read of the metrics from another goroutine
// (what an expvar scrape does per loop) while the loop runs.
func BenchmarkMetrics(b *testing.B) {
	l := benchLoop(b)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.RunForever()
	}()
	l.CallSoon(func() {}) // the loop runs
	b.ReportAllocs()
	b.ResetTimer()
	var sink uint64
	for range b.N {
		sink += l.Metrics().Iterations
	}
	b.StopTimer()
	close(stop)
	l.Stop()
	<-done
	_ = sink
}
