package prop_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// Property test of the loop's metrics (Loop.Metrics): rapid draws a program
// for a loop on the virtual clock, in two phases, and the metrics after it
// must be those of a model that counts what the program does.
//
// Phase one, late timers: a chain of timers, each scheduled for a drawn
// delay, after which the callback advances the clock past the deadline by a
// drawn lag (from nanoseconds to minutes, AdvanceClock), so the timer fires
// exactly that late; the lag histogram must hold every lag in a bucket that
// contains it, with the exact count, sum and maximum, buckets at most a
// quarter as wide as their lower bound, and quantiles bounded by the
// bucket of the true quantile.
//
// Phase two, tasks and callbacks with random cancellation: tasks that yield
// a drawn number of times and sleep a drawn time, some cancelled before they
// start, some cancelled by a timer while they sleep (or after they ended);
// callbacks of which some are cancelled before they run. The model counts
// the task steps (none for a task cancelled before it starts, else one per
// yield, one to start and one to end its sleep), the callbacks that ran,
// the tasks spawned, the timers fired (each on time, lag zero), and the
// submissions of the door (the first callback, and a last timer if some
// cancelling timers were left, both from the test goroutine).
// Helpers start with "mp".

// TestPropMetrics checks the property.
func TestPropMetrics(t *testing.T) { rapid.Check(t, mpCheck) }

type mpTask struct {
	yields      int
	sleep       time.Duration
	cancelFirst bool          // cancelled in the callback that spawns it
	cancelAt    time.Duration // -1: never; else a timer cancels it then (half-way between milliseconds)
}

type mpCallback struct{ cancel bool }

func mpCheck(rt *rapid.T) {
	lags := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) time.Duration {
		// Log-uniform: from 1ns to 2^40ns (about 18 minutes).
		e := rapid.IntRange(0, 40).Draw(rt, "exp")
		return time.Duration(rapid.Int64Range(0, int64(1)<<e).Draw(rt, "lag"))
	}), 0, 30).Draw(rt, "lags")
	delays := rapid.SliceOfN(rapid.IntRange(0, 1000), len(lags), len(lags)).Draw(rt, "delays")
	tasks := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) mpTask {
		tk := mpTask{
			yields:      rapid.IntRange(0, 4).Draw(rt, "yields"),
			sleep:       time.Duration(rapid.IntRange(1, 20).Draw(rt, "sleep")) * time.Millisecond,
			cancelFirst: rapid.IntRange(0, 5).Draw(rt, "cancelFirst") == 0,
			cancelAt:    -1,
		}
		if !tk.cancelFirst && rapid.Bool().Draw(rt, "cancel") {
			tk.cancelAt = time.Duration(rapid.IntRange(0, 25).Draw(rt, "cancelAt"))*time.Millisecond + 500*time.Microsecond
		}
		return tk
	}), 0, 12).Draw(rt, "tasks")
	cbs := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) mpCallback {
		return mpCallback{cancel: rapid.IntRange(0, 3).Draw(rt, "cancelCb") == 0}
	}), 0, 12).Draw(rt, "callbacks")

	l, err := aio.NewLoop()
	if err != nil {
		rt.Fatal(err)
	}
	defer l.Close()
	if err := l.SetVirtualClock(); err != nil {
		rt.Fatal(err)
	}

	ran := 0 // callbacks of the program that ran
	finished := false
	var live []*aio.Task[int]
	phaseTwo := func() {
		for _, tk := range tasks {
			task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
				for range tk.yields {
					aio.Yield(c)
				}
				return 0, aio.Sleep(c, tk.sleep)
			})
			live = append(live, task)
			if tk.cancelFirst {
				task.Cancel(nil)
			}
			if tk.cancelAt >= 0 {
				l.CallLater(tk.cancelAt, func() { ran++; task.Cancel(nil) })
			}
		}
		for _, cb := range cbs {
			h, _ := l.CallSoon(func() { ran++ })
			if cb.cancel {
				h.Cancel()
			}
		}
		l.CallSoon(func() { ran++; finished = true })
	}
	var next func(i int)
	next = func(i int) {
		if i == len(lags) {
			phaseTwo()
			return
		}
		d := time.Duration(delays[i]) * time.Microsecond
		l.CallLater(d, func() { ran++; next(i + 1) })
		if err := l.AdvanceClock(d + lags[i]); err != nil {
			rt.Errorf("AdvanceClock: %v", err)
		}
	}
	if _, err := l.CallSoon(func() { ran++; next(0) }); err != nil {
		rt.Fatal(err)
	}
	done := func() bool {
		if !finished {
			return false
		}
		for _, task := range live {
			if !task.IsDone() {
				return false
			}
		}
		return true
	}
	errc := make(chan error, 1)
	go func() { errc <- l.RunUntil(done) }()
	select {
	case err := <-errc:
		if err != nil {
			rt.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		l.Stop()
		<-errc
		rt.Fatal("the program did not end")
	}
	// Wait for the timers of cancellations that come after their task
	// ended: they fire, and count.
	pending := l.Metrics().PendingTimers
	if pending > 0 {
		stop := false
		l.CallLater(time.Hour, func() { ran++; stop = true })
		if err := l.RunUntil(func() bool { return stop }); err != nil {
			rt.Fatal(err)
		}
	}

	// The model.
	wantSteps, wantTimers := uint64(0), uint64(len(lags))
	wantCallbacks := 1 + len(lags) + 1 // the first, the chain, the last of phase two
	for _, tk := range tasks {
		if tk.cancelFirst {
			continue
		}
		wantSteps += uint64(tk.yields) + 2
		if tk.cancelAt >= 0 {
			wantTimers++ // the cancelling timer
			wantCallbacks++
		}
		if tk.cancelAt < 0 || tk.cancelAt > tk.sleep {
			wantTimers++ // the sleep's timer fired
		}
	}
	for _, cb := range cbs {
		if !cb.cancel {
			wantCallbacks++
		}
	}
	wantDoor := uint64(1)
	if pending > 0 {
		wantTimers++
		wantCallbacks++
		wantDoor++ // the CallLater from this goroutine
	}

	m := l.Metrics()
	if m.Callbacks != uint64(ran) || ran != wantCallbacks {
		rt.Errorf("Callbacks = %d, ran %d, model %d", m.Callbacks, ran, wantCallbacks)
	}
	if m.TaskSteps != wantSteps {
		rt.Errorf("TaskSteps = %d, model %d", m.TaskSteps, wantSteps)
	}
	if m.TasksSpawned != uint64(len(tasks)) || m.LiveTasks != 0 {
		rt.Errorf("TasksSpawned %d, LiveTasks %d; model %d, 0", m.TasksSpawned, m.LiveTasks, len(tasks))
	}
	if m.DoorSubmissions != wantDoor {
		rt.Errorf("DoorSubmissions = %d, model %d", m.DoorSubmissions, wantDoor)
	}
	if m.PendingTimers != 0 || m.ReadyDepth != 0 || m.Running {
		rt.Errorf("after the runs: %+v", m)
	}

	h := m.Lag
	if h.Count() != wantTimers {
		rt.Errorf("Lag.Count() = %d, model %d", h.Count(), wantTimers)
	}
	var sum, mx time.Duration
	for _, d := range lags {
		sum += d
		mx = max(mx, d)
	}
	if h.Sum() != sum || h.Max() != mx {
		rt.Errorf("Lag sum %v, max %v; model %v, %v", h.Sum(), h.Max(), sum, mx)
	}
	// Every lag in a bucket that holds it, and the bucket counts add up:
	// the lags of phase two are all zero, in the first bucket.
	all := append(slices.Clone(lags), make([]time.Duration, wantTimers-uint64(len(lags)))...)
	slices.Sort(all)
	bs := h.Buckets()
	counts := make([]uint64, len(bs))
	for _, d := range all {
		i := slices.IndexFunc(bs, func(b aio.LagBucket) bool { return b.Low <= d && d < b.High })
		if i < 0 {
			rt.Fatalf("lag %v is in no bucket of %v", d, bs)
		}
		counts[i]++
	}
	for i, b := range bs {
		if counts[i] != b.Count {
			rt.Errorf("bucket %v: count %d, model %d", b, b.Count, counts[i])
		}
		if b.Low >= 1024 && b.High != time.Duration(1<<63-1) && b.High-b.Low > b.Low/4 {
			rt.Errorf("bucket %v is wider than a quarter of its lower bound", b)
		}
	}
	for _, q := range []float64{0, 0.25, 0.5, 0.9, 0.99, 1} {
		if len(all) == 0 {
			if h.Quantile(q) != 0 {
				rt.Errorf("Quantile(%v) of nothing = %v", q, h.Quantile(q))
			}
			continue
		}
		k := max(int(float64(len(all))*q+0.999999999)-1, 0)
		truth := all[min(k, len(all)-1)]
		got := h.Quantile(q)
		if got < truth || got > h.Max() || (got > truth+truth/4 && got > 1024) {
			rt.Errorf("Quantile(%v) = %v; the true one is %v (max %v)", q, got, truth, h.Max())
		}
	}
}
