package main

// Workloads of the loop itself: callbacks and timers, scheduled from loop
// code (no tasks, no other goroutines).

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiogo/aio/aio"
)

func loopWorkloads() []workload {
	return []workload{
		{
			name:  "callback",
			title: "callback sched+run",
			about: "a callback scheduled with CallSoon from loop code and run, in batches of 1000; Go: append funcs to a slice and call them",
			unit:  nsPerOp, n: 2_000_000, quickN: 100_000,
			aio: aioCallbacks,
			bases: []baseline{
				{"func slice", goCallbacks},
			},
		},
		{
			name:  "chain",
			title: "callback chain",
			about: "a callback chain, each callback scheduling the next: one loop iteration per link; Go: a trampoline over a slice queue",
			unit:  nsPerOp, n: 2_000_000, quickN: 100_000,
			aio: aioChain(false),
			bases: []baseline{
				{"trampoline", goChain},
			},
		},
		{
			name:  "chain-timer",
			title: "chain, 1 timer",
			about: "the callback chain with one timer pending an hour away, so that every iteration reads the clock; Go: the trampoline",
			unit:  nsPerOp, n: 1_000_000, quickN: 100_000,
			aio: aioChain(true),
			bases: []baseline{
				{"trampoline", goChain},
			},
		},
		{
			name:  "timer",
			title: "CallLater ({n})",
			about: "scheduling one timer (CallLater, random delays of 0-100 ms) on a loop whose timer heap has grown already; Go: time.AfterFunc",
			unit:  nsPerOp, n: 100_000, quickN: 20_000,
			aio: aioTimers(true),
			bases: []baseline{
				{"AfterFunc", goTimers},
			},
		},
		{
			name:  "timer-cold",
			title: "CallLater, cold",
			about: "scheduling one timer (CallLater, 0-100 ms) on a new loop: the figure includes growing its timer heap; Go: time.AfterFunc",
			unit:  nsPerOp, n: 100_000, quickN: 20_000,
			aio: aioTimers(false),
			bases: []baseline{
				{"AfterFunc", goTimers},
			},
		},
		{
			name:  "timer-order",
			title: "timer order ({n})",
			about: "a check: timers at random deadlines of 0-50 ms fire in exact (deadline, scheduling) order, none early; Go: how far time.AfterFunc is from it",
			unit:  check, n: 100_000, quickN: 20_000,
			aio: aioTimerOrder,
			bases: []baseline{
				{"AfterFunc", goTimerOrder},
			},
		},
	}
}

// batch is the number of callbacks scheduled at a time where a workload
// schedules in batches.
const batch = 1000

// newLoop returns a loop for one run; the caller closes it.
func newLoop() (*aio.Loop, error) {
	l, err := aio.NewLoop()
	if err != nil {
		return nil, fmt.Errorf("NewLoop: %w", err)
	}
	return l, nil
}

// runBounded runs l until done reports true, for at most runLimit: then a
// timer on another goroutine stops the loop, so that a loop parked with
// nothing to do cannot hang the program. It uses no loop timer, since a
// pending timer makes every loop iteration read the clock and would change
// what is measured. The loop must not be running.
func runBounded(l *aio.Loop, done func() bool) error {
	var timedOut atomic.Bool
	guard := time.AfterFunc(runLimit, func() {
		timedOut.Store(true)
		l.Stop()
	})
	err := l.RunUntil(func() bool { return timedOut.Load() || done() })
	if !guard.Stop() {
		// The guard fired, maybe just after a normal end: its Stop may
		// be pending and would cut the loop's next run short.
		timedOut.Store(true)
	}
	if err != nil {
		return fmt.Errorf("RunUntil: %w", err)
	}
	if timedOut.Load() {
		return errTimedOut
	}
	return nil
}

// aioCallbacks measures a callback scheduled with CallSoon from loop code
// and run by the loop: a feeder callback schedules a batch of 1000 callbacks
// and itself again; the loop runs the batch at its next iteration. The cost
// per callback includes CallSoon, the ready queue, the loop iteration share
// and the call. A first batch, not measured, fills the loop's pool of
// callback records: the figure is the steady state.
func aioCallbacks(n int) (result, error) {
	l, err := newLoop()
	if err != nil {
		return result{}, err
	}
	defer l.Close()
	var m meter
	total := n + batch
	ran, scheduled := 0, 0
	var schedErr error
	fn := func() { ran++ }
	var feed func()
	feed = func() {
		if scheduled == batch {
			m.start() // the first batch has run
		}
		k := min(batch, total-scheduled)
		for range k {
			if _, err := l.CallSoon(fn); err != nil {
				schedErr = err
			}
		}
		scheduled += k
		if scheduled < total {
			if _, err := l.CallSoon(feed); err != nil {
				schedErr = err
			}
		}
	}
	if _, err := l.CallSoon(feed); err != nil {
		return result{}, err
	}
	err = runBounded(l, func() bool { return ran >= total || schedErr != nil })
	m.stop()
	if err := errors.Join(err, schedErr); err != nil {
		return result{}, err
	}
	if ran != total {
		return result{}, fmt.Errorf("ran %d callbacks, want %d", ran, total)
	}
	return m.perOp(n), nil
}

// goCallbacks is the plain-Go shape of the same job: append a batch of 1000
// funcs to a slice, call them in order, reuse the slice.
func goCallbacks(n int) (result, error) {
	queue := make([]func(), 0, batch)
	ran := 0
	fn := func() { ran++ }
	var m meter
	m.start()
	for done := 0; done < n; {
		k := min(batch, n-done)
		for range k {
			queue = append(queue, fn)
		}
		for _, f := range queue {
			f()
		}
		queue = queue[:0]
		done += k
	}
	m.stop()
	if ran != n {
		return result{}, fmt.Errorf("ran %d funcs, want %d", ran, n)
	}
	return m.perOp(n), nil
}

// aioChain measures a chain in which each callback schedules the next with
// CallSoon, so that every link is one whole loop iteration (the callback
// runs in the batch after the one that scheduled it). With timerPending, a
// timer an hour away sits in the loop's heap, as in most real programs:
// each iteration then reads the clock to see whether the timer is due.
func aioChain(timerPending bool) func(n int) (result, error) {
	return func(n int) (result, error) {
		l, err := newLoop()
		if err != nil {
			return result{}, err
		}
		defer l.Close()
		if timerPending {
			h, err := l.CallLater(time.Hour, func() {})
			if err != nil {
				return result{}, err
			}
			defer h.Cancel()
		}
		var m meter
		count := 0
		var schedErr error
		var link func()
		link = func() {
			count++
			if count < n {
				if _, err := l.CallSoon(link); err != nil {
					schedErr = err
				}
			}
		}
		first := func() {
			m.start()
			link()
		}
		if _, err := l.CallSoon(first); err != nil {
			return result{}, err
		}
		err = runBounded(l, func() bool { return count >= n || schedErr != nil })
		m.stop()
		if err := errors.Join(err, schedErr); err != nil {
			return result{}, err
		}
		return m.perOp(n), nil
	}
}

// goChain is the plain-Go shape of a callback chain: a trampoline that runs
// a queue of funcs in batches, each func appending the next one to the queue
// for the next batch, as the loop does.
func goChain(n int) (result, error) {
	var cur, next []func()
	count := 0
	var link func()
	link = func() {
		count++
		if count < n {
			next = append(next, link)
		}
	}
	var m meter
	m.start()
	next = append(next, link)
	for len(next) > 0 {
		cur, next = next, cur[:0]
		for _, f := range cur {
			f()
		}
	}
	m.stop()
	if count != n {
		return result{}, fmt.Errorf("ran %d links, want %d", count, n)
	}
	return m.perOp(n), nil
}

// randomDelays returns n pseudo-random delays in [0, span], multiples of
// step, the same for every run.
func randomDelays(n int, span, step time.Duration) []time.Duration {
	r := rand.New(rand.NewPCG(1, 2))
	steps := int(span / step)
	ds := make([]time.Duration, n)
	for i := range ds {
		ds[i] = time.Duration(r.IntN(steps+1)) * step
	}
	return ds
}

// aioTimers measures scheduling a timer: CallLater of n timers with random
// delays of 0-100 ms, from a loop callback. Only the scheduling is timed;
// the timers are then cancelled. With warm, a first round, not timed,
// schedules and cancels as many, so that the loop's timer heap has grown
// already, as in a loop that has been running for a while (Go's runtime
// timer heaps are warm after the warm-up run too); without, the figure
// includes growing the heap of a new loop.
func aioTimers(warm bool) func(n int) (result, error) {
	return func(n int) (result, error) {
		l, err := newLoop()
		if err != nil {
			return result{}, err
		}
		defer l.Close()
		delays := randomDelays(n, 100*time.Millisecond, time.Microsecond)
		handles := make([]aio.Handle, n)
		fn := func() {}
		var m meter
		done := false
		var schedErr error
		schedule := func() {
			for i, d := range delays {
				h, err := l.CallLater(d, fn)
				if err != nil {
					schedErr = err
					return
				}
				handles[i] = h
			}
		}
		cancelAll := func() {
			for _, h := range handles {
				h.Cancel()
			}
		}
		_, err = l.CallSoon(func() {
			defer func() { done = true }()
			if warm {
				schedule()
				cancelAll()
			}
			m.start()
			schedule()
			m.stop()
			cancelAll()
		})
		if err != nil {
			return result{}, err
		}
		if err := errors.Join(runBounded(l, func() bool { return done }), schedErr); err != nil {
			return result{}, err
		}
		return m.perOp(n), nil
	}
}

// goTimers is the same with time.AfterFunc; the timers are then stopped.
func goTimers(n int) (result, error) {
	delays := randomDelays(n, 100*time.Millisecond, time.Microsecond)
	timers := make([]*time.Timer, n)
	fn := func() {}
	var m meter
	m.start()
	for i, d := range delays {
		timers[i] = time.AfterFunc(d, fn)
	}
	m.stop()
	for _, t := range timers {
		t.Stop()
	}
	return m.perOp(n), nil
}

// orderSpan and orderStep shape the timer-order workload: deadlines are
// random in [0, 50 ms] in steps of 100 us, so that each deadline is shared
// by about n/500 timers and the order among equal deadlines is tested too.
const (
	orderSpan = 50 * time.Millisecond
	orderStep = 100 * time.Microsecond
)

// orderLead is the time from the start of scheduling to the first
// deadline, room to schedule all n timers first. Go's timers fire while the
// others are still being scheduled: without it, timers scheduled after
// their deadline would fire at once, in scheduling order, and the order
// comparison would mean nothing. aio fires no timer while a callback runs,
// but would report the scheduling time as lateness.
func orderLead(n int) time.Duration {
	return 100*time.Millisecond + time.Duration(n)*time.Microsecond
}

// expectedOrder returns the indexes of timers with the given deadlines in
// the order they must fire: by deadline, then by scheduling order.
func expectedOrder(deadlines []time.Duration) []int {
	order := make([]int, len(deadlines))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(deadlines[a] - deadlines[b]) })
	return order
}

// outOfPlace counts the positions where fired differs from want.
func outOfPlace(fired, want []int) int {
	bad := len(want) - len(fired)
	for i := range min(len(fired), len(want)) {
		if fired[i] != want[i] {
			bad++
		}
	}
	return bad
}

// outOfOrder counts the timers that fired after a timer that was due after
// them: with a later deadline, or, unless byDeadlineOnly, with the same
// deadline and scheduled later.
func outOfOrder(fired []int, deadlines []time.Duration, byDeadlineOnly bool) int {
	bad, top := 0, -1
	for _, i := range fired {
		switch {
		case top < 0 || deadlines[i] > deadlines[top]:
			top = i
		case deadlines[i] == deadlines[top] && (byDeadlineOnly || i > top):
			top = max(top, i)
		default:
			bad++
		}
	}
	return bad
}

// aioTimerOrder schedules n timers with CallAt at random deadlines in
// [0, 50 ms] after one base time (orderLead ahead), runs the loop until all
// have fired, and checks that they fired in exact (deadline, scheduling)
// order and none before its deadline on the loop's clock. A fault is a
// wrong result, so it is returned as an error too. The note also gives the
// largest lateness seen.
func aioTimerOrder(n int) (result, error) {
	l, err := newLoop()
	if err != nil {
		return result{}, err
	}
	defer l.Close()
	delays := randomDelays(n, orderSpan, orderStep)
	fired := make([]int, 0, n)
	early := 0
	var maxLate time.Duration
	var base time.Time
	fns := make([]func(), n)
	for i := range fns {
		fns[i] = func() {
			late := l.Now().Sub(base) - delays[i]
			if late < 0 {
				early++
			}
			maxLate = max(maxLate, late)
			fired = append(fired, i)
		}
	}
	var schedErr error
	_, err = l.CallSoon(func() {
		base = l.Now().Add(orderLead(n))
		for i, d := range delays {
			if _, err := l.CallAt(base.Add(d), fns[i]); err != nil {
				schedErr = err
				return
			}
		}
	})
	if err != nil {
		return result{}, err
	}
	err = runBounded(l, func() bool { return len(fired) == n || schedErr != nil })
	if err := errors.Join(err, schedErr); err != nil {
		return result{}, err
	}
	bad := outOfPlace(fired, expectedOrder(delays))
	short := "in order"
	if bad+early > 0 {
		short = fmt.Sprintf("%d faults", bad+early)
	}
	r := result{
		value: float64(bad + early),
		short: short,
		note:  fmt.Sprintf("exact order: %s, early: %d, max late: %s", yesNo(bad == 0), early, ms(maxLate)),
	}
	if bad+early > 0 {
		return r, fmt.Errorf("%d timers fired out of place and %d early", bad, early)
	}
	return r, nil
}

// goTimerOrder does the same with time.AfterFunc, which fires timers on
// whatever goroutine and thread are free: it shows how far from exact order
// plain Go timers come, as the share of timers that fired after one due
// after them, counting the order among equal deadlines or not. Only aio's
// order is checked.
func goTimerOrder(n int) (result, error) {
	delays := randomDelays(n, orderSpan, orderStep)
	fired := make([]int, n)
	late := make([]time.Duration, n)
	var seq atomic.Int64
	var wg sync.WaitGroup
	wg.Add(n)
	base := time.Now().Add(orderLead(n))
	for i, d := range delays {
		deadline := base.Add(d)
		time.AfterFunc(time.Until(deadline), func() {
			late[i] = time.Since(deadline)
			fired[seq.Add(1)-1] = i
			wg.Done()
		})
	}
	overran := ""
	if time.Now().After(base) {
		overran = " (scheduling overran the lead time: not comparable)"
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(runLimit):
		return result{}, errTimedOut
	}
	early := 0
	for _, d := range late {
		if d < 0 {
			early++
		}
	}
	bad := outOfOrder(fired, delays, false)
	pct := func(k int) float64 { return 100 * float64(k) / float64(n) }
	return result{
		value: float64(bad),
		short: inOrder(n, bad),
		note: fmt.Sprintf("%.0f%% out of order (%.0f%% by deadline alone), early: %d, max late: %s%s",
			pct(bad), pct(outOfOrder(fired, delays, true)), early, ms(slices.Max(late)), overran),
	}, nil
}

// inOrder writes for the table the share of n timers that fired in order,
// bad of them out of order: "in order" for all, else "97% in order",
// rounded down so that it says 100% only for all.
func inOrder(n, bad int) string {
	if bad == 0 || n == 0 {
		return "in order"
	}
	return fmt.Sprintf("%d%% in order", 100*(n-bad)/n)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
