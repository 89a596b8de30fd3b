package aio

import (
	"encoding/json"
	"math"
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
)

// The loop's runtime metrics (tokio's RuntimeMetrics, Node's event-loop
// utilization and monitorEventLoopDelay). The loop goroutine counts in plain
// fields of its own (loopMetrics), a few increments per iteration and one
// per callback or task step, and publishes them to atomics that any
// goroutine reads (published): at most every publishEvery callbacks and
// iterations, whenever it is about to park in the poller, and at the end of a
// run. The published fields are written under a sequence counter, so that a
// reader gets a consistent snapshot without a lock. The time the loop spends
// polling is measured by two clock reads around the poll, which is a system
// call; nothing reads the clock per callback. The lag of a timer (how late
// it fires) is taken from the clock reading the timers use to fire, and
// counted in a log-linear histogram of plain fields, published with the
// rest (only the buckets that changed).

// publishEvery bounds the work (callbacks, task steps and iterations) a busy
// loop does between two publications of its counters: the counters a reader
// sees from another goroutine are at most that much behind, and the loop's
// cost of publishing (a dozen atomic stores) is spread over that much work.
const publishEvery = 1024

// procStart is the origin of the real, monotonic times the metrics keep (run
// and poll times), which do not depend on the loop's clock: on a loop with a
// virtual clock they are real time all the same.
var procStart = time.Now()

// realNow returns the real monotonic time in nanoseconds since procStart,
// at least 1 (0 marks "not running" and "not polling").
func realNow() int64 { return max(int64(time.Since(procStart)), 1) }

// loopMetrics is the loop's metrics component: its counters (loop goroutine
// only) and their published copy (any goroutine, atomics).
type loopMetrics struct {
	// Loop goroutine only.
	iterations uint64
	callbacks  uint64 // callbacks run from the ready queue (a task step is not one)
	steps      uint64 // task steps: resumptions of a task's body
	spawned    uint64 // tasks registered
	doorIn     uint64 // door items other goroutines sent, taken in
	unpub      int    // work since the last publication (see publishEvery)
	runStart   int64  // real time the current run began; 0 between runs
	running    int64  // real time in runs that have ended, ns
	pollStart  int64  // real time the current poll began; 0 when not polling
	polling    int64  // real time in polls that have ended, ns
	lagSum     int64  // sum of the lags recorded, ns (saturating)
	lagMax     int64
	lag        [lagBuckets]uint64
	lagDirty   [(lagBuckets + 63) / 64]uint64 // the buckets counted since the last publication

	_   [64]byte // the published fields on cache lines of their own
	pub publishedMetrics
}

// publishedMetrics is what other goroutines read. The loop writes it under
// seq, odd while it writes, so that a reader who sees the same even value
// before and after its reads has a consistent snapshot.
type publishedMetrics struct {
	seq                                           atomic.Uint64
	iterations, callbacks, steps, spawned, doorIn atomic.Uint64
	live, ready, timers, fds                      atomic.Int64
	runStart, running, pollStart, polling         atomic.Int64
	lagSum, lagMax                                atomic.Int64
	lag                                           [lagBuckets]atomic.Uint64
}

// noteIteration counts an iteration that ran a batch of n callbacks and
// steps, and publishes the counters if enough work has been done since the
// last publication. Loop goroutine.
func (m *loopMetrics) noteIteration(l *Loop, n int) {
	m.iterations++
	m.unpub += n + 1
	if m.unpub >= publishEvery {
		l.publishMetrics()
	}
}

// publishMetrics publishes the loop's counters and gauges. Loop goroutine.
func (l *Loop) publishMetrics() {
	m := &l.met
	m.unpub = 0
	p := &m.pub
	p.seq.Add(1)
	p.iterations.Store(m.iterations)
	p.callbacks.Store(m.callbacks)
	p.steps.Store(m.steps)
	p.spawned.Store(m.spawned)
	p.doorIn.Store(m.doorIn)
	p.live.Store(int64(l.tasks.n))
	p.ready.Store(int64(l.ready.Len()))
	p.timers.Store(int64(l.timers.heap.Len()))
	p.fds.Store(int64(len(l.fds.watches)))
	m.publishLags()
	p.seq.Add(1)
}

// publishLags publishes the lag buckets counted since the last
// publication, and the sum and max. Loop goroutine, under the sequence.
func (m *loopMetrics) publishLags() {
	dirty := false
	for w, bitsOf := range m.lagDirty {
		for bitsOf != 0 {
			i := w*64 + bits.TrailingZeros64(bitsOf)
			bitsOf &= bitsOf - 1
			m.pub.lag[i].Store(m.lag[i])
			dirty = true
		}
		m.lagDirty[w] = 0
	}
	if dirty {
		m.pub.lagSum.Store(m.lagSum)
		m.pub.lagMax.Store(m.lagMax)
	}
}

// metricsRunBegin marks the start of a run. Loop goroutine.
func (l *Loop) metricsRunBegin() {
	m := &l.met
	m.runStart = realNow()
	m.pub.seq.Add(1)
	m.pub.runStart.Store(m.runStart)
	m.pub.seq.Add(1)
}

// metricsRunEnd marks the end of a run, and publishes everything. Loop
// goroutine.
func (l *Loop) metricsRunEnd() {
	m := &l.met
	if m.runStart == 0 {
		return
	}
	// The end is read after seq turns odd: a reader that estimated the
	// run in progress did so before, with an earlier clock, so the exact
	// figure published here is never below its estimate.
	m.pub.seq.Add(1)
	m.running += realNow() - m.runStart
	m.runStart = 0
	m.pub.running.Store(m.running)
	m.pub.runStart.Store(0)
	m.pub.seq.Add(1)
	l.publishMetrics()
}

// metricsPollBegin marks the start of a poll. (A loop about to park has
// published its counters just before, so that a reader sees an idle loop's
// state exactly: see runOnce.) Loop goroutine.
func (l *Loop) metricsPollBegin() {
	m := &l.met
	m.pollStart = realNow()
	m.pub.seq.Add(1)
	m.pub.pollStart.Store(m.pollStart)
	m.pub.seq.Add(1)
}

// metricsPollEnd marks the end of a poll. Loop goroutine.
func (l *Loop) metricsPollEnd() {
	m := &l.met
	m.pub.seq.Add(1) // before the clock read: see metricsRunEnd
	m.polling += realNow() - m.pollStart
	m.pollStart = 0
	m.pub.polling.Store(m.polling)
	m.pub.pollStart.Store(0)
	m.pub.seq.Add(1)
}

// Metrics returns a snapshot of the loop's runtime metrics. Any goroutine;
// it takes no lock and costs the loop nothing. On the loop goroutine and in
// its tasks the counters are exact; from other goroutines they are as the
// loop last published them: when it last parked or ended a run, and while it
// is busy every 1024 callbacks, task steps and iterations (see Metrics). On a
// zero Loop it panics with an error matching ErrNoLoop.
func (l *Loop) Metrics() Metrics {
	if l == nil || l.poller == nil {
		panic(noLoop("Metrics"))
	}
	if l.onLoop() {
		l.publishMetrics()
	}
	p := &l.met.pub
	var m Metrics
	for spins := 0; ; spins++ {
		s := p.seq.Load()
		if s&1 == 0 {
			m = p.read()
			if p.seq.Load() == s {
				break
			}
		}
		if spins > 16 {
			runtime.Gosched() // the loop goroutine is between two stores
		}
	}
	return m
}

// read reads the published fields; the caller checks seq around it.
func (p *publishedMetrics) read() Metrics {
	now := realNow()
	m := Metrics{
		LiveTasks:       int(p.live.Load()),
		ReadyDepth:      int(p.ready.Load()),
		PendingTimers:   int(p.timers.Load()),
		FDs:             int(p.fds.Load()),
		TasksSpawned:    p.spawned.Load(),
		Iterations:      p.iterations.Load(),
		Callbacks:       p.callbacks.Load(),
		TaskSteps:       p.steps.Load(),
		DoorSubmissions: p.doorIn.Load(),
		RunTime:         time.Duration(p.running.Load()),
		PollTime:        time.Duration(p.polling.Load()),
	}
	runStart, pollStart := p.runStart.Load(), p.pollStart.Load()
	if runStart != 0 {
		m.Running = true
		m.RunTime += time.Duration(max(now-runStart, 0))
		if pollStart != 0 {
			m.PollTime += time.Duration(max(now-pollStart, 0))
		}
	}
	m.PollTime = min(m.PollTime, m.RunTime)
	for i := range p.lag {
		m.Lag.counts[i] = p.lag[i].Load()
	}
	m.Lag.sum = time.Duration(p.lagSum.Load())
	m.Lag.max = time.Duration(p.lagMax.Load())
	return m
}

// Metrics is a snapshot of a loop's runtime metrics (Loop.Metrics). The
// counters count from the loop's creation; Sub turns two snapshots into the
// counts of the interval between them. Times are real time, even on a loop
// with a virtual clock; lags are on the loop's clock.
//
// From other goroutines the counters and gauges are those the loop last
// published: it publishes whenever it is about to park in the poller (so an
// idle loop is seen exactly), when a run ends, and while it is busy at least
// every 1024 callbacks and iterations. RunTime and PollTime are exact at the
// moment of the call.
type Metrics struct {
	// Running reports whether the loop was inside RunForever or RunUntil.
	Running bool `json:"running"`

	// LiveTasks is the number of tasks spawned and not done.
	LiveTasks int `json:"live_tasks"`
	// ReadyDepth is the number of callbacks and task steps queued to run
	// in the next batch.
	ReadyDepth int `json:"ready_depth"`
	// PendingTimers is the number of timers scheduled and not fired nor
	// cancelled, Sleeps and timeouts included (not counting those still
	// in the door from other goroutines).
	PendingTimers int `json:"pending_timers"`
	// FDs is the number of file descriptors the loop watches (AddReader,
	// AddWriter, and the sockets and pipes built on them).
	FDs int `json:"fds"`

	// TasksSpawned counts the tasks started on the loop.
	TasksSpawned uint64 `json:"tasks_spawned"`
	// Iterations counts the loop's iterations (poll, timers, one batch).
	Iterations uint64 `json:"iterations"`
	// Callbacks counts the callbacks run: CallSoon, CallLater and CallAt
	// calls, readiness callbacks, and the loop's internal calls (done
	// callbacks of futures, say). Cancelled ones do not count.
	Callbacks uint64 `json:"callbacks"`
	// TaskSteps counts the steps of tasks: each resumption of a task's
	// body, up to its next suspension or its end.
	TaskSteps uint64 `json:"task_steps"`
	// DoorSubmissions counts what other goroutines handed the loop through
	// its door (CallSoon, CallLater, Spawn, Future.SetResult, ...), taken
	// in by the loop.
	DoorSubmissions uint64 `json:"door_submissions"`

	// RunTime is the real time the loop has spent running (in RunForever,
	// RunUntil, Run), and PollTime the part of it spent in the poller:
	// parked with nothing to do, or asking the kernel about file
	// descriptors. The rest, BusyTime, is time running callbacks and task
	// steps (Node's event-loop utilization is BusyTime/RunTime).
	RunTime  time.Duration `json:"run_ns"`
	PollTime time.Duration `json:"poll_ns"`

	// Lag is the histogram of timer lags: how late each timer fired, from
	// its deadline to the moment the loop found it due (a loop blocked 50
	// ms by a callback fires a timer due meanwhile up to 50 ms late). A
	// timer scheduled for a time already past counts from that time.
	Lag LagHistogram `json:"lag"`
}

// BusyTime is RunTime - PollTime: the time the loop spent running
// callbacks, task steps and its own machinery.
func (m Metrics) BusyTime() time.Duration { return m.RunTime - m.PollTime }

// Utilization is BusyTime/RunTime, between 0 (always parked) and 1 (always
// busy), as Node's performance.eventLoopUtilization; 0 for a loop that has
// not run. For the utilization over an interval, take it from the
// difference of two snapshots: now.Sub(before).Utilization().
func (m Metrics) Utilization() float64 {
	if m.RunTime <= 0 {
		return 0
	}
	return min(max(float64(m.BusyTime())/float64(m.RunTime), 0), 1)
}

// Sub returns the metrics of the interval from prev to m: the counters,
// times and lag counts of m minus those of prev, and m's gauges (Running,
// LiveTasks, ReadyDepth, PendingTimers, FDs) and Lag.Max (the largest lag
// since the loop was created). prev must be an earlier snapshot of the same
// loop.
func (m Metrics) Sub(prev Metrics) Metrics {
	d := m
	d.TasksSpawned -= prev.TasksSpawned
	d.Iterations -= prev.Iterations
	d.Callbacks -= prev.Callbacks
	d.TaskSteps -= prev.TaskSteps
	d.DoorSubmissions -= prev.DoorSubmissions
	d.RunTime -= prev.RunTime
	d.PollTime -= prev.PollTime
	for i := range d.Lag.counts {
		d.Lag.counts[i] -= prev.Lag.counts[i]
	}
	d.Lag.sum -= prev.Lag.sum
	return d
}

// MarshalJSON encodes the metrics as a JSON object, with the derived busy
// time and utilization: what the expvar of PublishMetrics shows.
func (m Metrics) MarshalJSON() ([]byte, error) {
	type plain Metrics // without the method
	return json.Marshal(struct {
		plain
		BusyNs      time.Duration `json:"busy_ns"`
		Utilization float64       `json:"utilization"`
	}{plain(m), m.BusyTime(), m.Utilization()})
}

// The lag histogram's buckets are log-linear: below 2^lagMinExp ns (about a
// microsecond) one bucket; then each power of two up to 2^lagMaxExp ns
// (about 4.6 minutes) is cut into lagSub equal buckets, so a bucket is at
// most 25% wide; above, one bucket.
const (
	lagMinExp  = 10
	lagMaxExp  = 38
	lagSubBits = 2
	lagSub     = 1 << lagSubBits
	lagBuckets = 1 + (lagMaxExp-lagMinExp)*lagSub + 1
	maxLag     = int64(1) << 50 // lags are clamped here, so that their sum does not overflow soon
)

// lagIndex returns the bucket of a lag of d ns (d >= 0).
func lagIndex(d int64) int {
	if d < 1<<lagMinExp {
		return 0
	}
	e := bits.Len64(uint64(d)) - 1
	if e >= lagMaxExp {
		return lagBuckets - 1
	}
	sub := int(d>>(e-lagSubBits)) & (lagSub - 1)
	return 1 + (e-lagMinExp)*lagSub + sub
}

// lagBounds returns the bucket i's range [low, high) in ns.
func lagBounds(i int) (low, high int64) {
	switch {
	case i == 0:
		return 0, 1 << lagMinExp
	case i == lagBuckets-1:
		return 1 << lagMaxExp, math.MaxInt64
	}
	e := lagMinExp + (i-1)/lagSub
	sub := int64((i - 1) % lagSub)
	w := int64(1) << (e - lagSubBits)
	return (lagSub + sub) * w, (lagSub + sub + 1) * w
}

// noteLag counts a timer due at when, found due at now. Loop goroutine.
func (m *loopMetrics) noteLag(now, when int64) {
	d := now - when
	if d < 0 || d > maxLag { // d < 0: the subtraction overflowed (CallAt of the zero Time)
		d = maxLag
	}
	m.lagSum = min(m.lagSum+d, math.MaxInt64-maxLag)
	m.lagMax = max(m.lagMax, d)
	i := lagIndex(d)
	m.lag[i]++
	m.lagDirty[i/64] |= 1 << (i % 64)
}

// LagHistogram is the histogram of the loop's timer lags (Metrics.Lag), in
// log-linear buckets: one below about a microsecond, then four per power
// of two (each at most a quarter of its lower bound wide) up to about 4.6
// minutes, then one above.
type LagHistogram struct {
	counts [lagBuckets]uint64
	sum    time.Duration
	max    time.Duration
}

// A LagBucket is one bucket of a LagHistogram: Count lags in [Low, High).
type LagBucket struct {
	Low   time.Duration `json:"low_ns"`
	High  time.Duration `json:"high_ns"`
	Count uint64        `json:"count"`
}

// Count returns the number of lags recorded: the timers fired.
func (h LagHistogram) Count() uint64 {
	var n uint64
	for _, c := range h.counts {
		n += c
	}
	return n
}

// Sum returns the sum of the lags recorded.
func (h LagHistogram) Sum() time.Duration { return h.sum }

// Max returns the largest lag recorded since the loop was created.
func (h LagHistogram) Max() time.Duration { return h.max }

// Mean returns the mean lag, or 0 if none was recorded.
func (h LagHistogram) Mean() time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	return h.sum / time.Duration(n)
}

// Buckets returns the buckets that hold at least one lag, in increasing
// order.
func (h LagHistogram) Buckets() []LagBucket {
	var bs []LagBucket
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		low, high := lagBounds(i)
		bs = append(bs, LagBucket{time.Duration(low), time.Duration(high), c})
	}
	return bs
}

// CountAtLeast returns the number of lags recorded in the buckets that lie
// at or above d: lags of at least d, give or take the width of d's bucket
// (the lags of the bucket d falls in are not counted unless d is its
// lower bound).
func (h LagHistogram) CountAtLeast(d time.Duration) uint64 {
	var n uint64
	for i, c := range h.counts {
		if low, _ := lagBounds(i); low >= int64(d) {
			n += c
		}
	}
	return n
}

// Quantile returns an upper bound of the q-quantile of the lags (q in [0,
// 1]; 0.99 for the 99th percentile): the upper end of the bucket that holds
// it, or Max if that is smaller. It returns 0 if no lag was recorded.
func (h LagHistogram) Quantile(q float64) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := max(uint64(math.Ceil(q*float64(n))), 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, high := lagBounds(i)
			if int64(h.max) < high {
				return h.max
			}
			return time.Duration(high)
		}
	}
	return h.max
}

// MarshalJSON encodes the histogram as a JSON object: count, sum_ns,
// max_ns, mean_ns, p50_ns, p90_ns, p99_ns and the non-empty buckets.
func (h LagHistogram) MarshalJSON() ([]byte, error) {
	bs := h.Buckets()
	if bs == nil {
		bs = []LagBucket{}
	}
	return json.Marshal(struct {
		Count   uint64        `json:"count"`
		Sum     time.Duration `json:"sum_ns"`
		Max     time.Duration `json:"max_ns"`
		Mean    time.Duration `json:"mean_ns"`
		P50     time.Duration `json:"p50_ns"`
		P90     time.Duration `json:"p90_ns"`
		P99     time.Duration `json:"p99_ns"`
		Buckets []LagBucket   `json:"buckets"`
	}{h.Count(), h.sum, h.max, h.Mean(), h.Quantile(0.5), h.Quantile(0.9), h.Quantile(0.99), bs})
}

// isBehind reports whether a door item is the loop's own work sent behind
// others (Loop.queueBehind), rather than a submission from another
// goroutine: a task step, or a callback record with no deadline (a timer
// from another goroutine has one). Called before the item is woken.
func isBehind(it waker) bool {
	switch v := it.(type) {
	case *stepOf:
		return true
	case *callback:
		return v.due == noDeadline
	}
	return false
}
