package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A workload is one thing aio does, measured beside one or more plain-Go
// baselines that do the same job. Each baseline makes a row of the table.
type workload struct {
	name   string // short name, matched by -run and keyed on in targets.json
	title  string // the row label, short; "{n}" in it stands for the number of operations
	about  string // what is measured, in a line, for -h
	unit   unit
	n      int // operations per measurement
	quickN int // operations per measurement with -quick
	aio    func(n int) (result, error)
	bases  []baseline
	// noWarmup skips the warm-up run: the memory workload measures in a
	// fresh process each time, so a warm-up would warm nothing.
	noWarmup bool
	// target is what aio must achieve beside the first baseline, from
	// targets.json; nil for none.
	target *target
}

// A baseline is plain Go doing the workload's job.
type baseline struct {
	name string // short, for the table
	run  func(n int) (result, error)
}

// A result is one measurement: a figure per operation, allocations per
// operation, and for the checks a verdict.
type result struct {
	value  float64 // ns per op, bytes per op, or for a check the number of faults
	allocs float64 // heap allocations per op; negative if not measured
	short  string  // for a check: what was seen, in a word or two, for the table
	note   string  // for a check or a latency: what was seen, in full, for the notes
}

type unit int

const (
	nsPerOp    unit = iota // value is nanoseconds per operation
	bytesPerOp             // value is bytes per operation
	check                  // value counts faults; the note says what was seen
	latency                // value is a latency in ns; the note gives its distribution
)

// allocEpsilon is the allocation rate printed and judged as zero: setup
// allocations spread over a million operations are not a per-op cost.
const allocEpsilon = 0.005

// runLimit bounds one run of one workload; code that waits checks it.
var runLimit = 20 * time.Second

// errTimedOut is the failure of a run that exceeded runLimit.
var errTimedOut = errors.New("timed out")

// measureWorkload runs w and its baselines o.count times, interleaved, after
// a warm-up, and returns the rows with the medians.
// step, if not nil, is told what runs next: "warm-up", or "k/count" and
// who ("aio" or a baseline's name).
func measureWorkload(w workload, o options, step func(rep, who string)) ([]row, error) {
	if step == nil {
		step = func(string, string) {}
	}
	n := w.n
	if o.quick {
		n = w.quickN
	}
	if o.scale > 0 && o.scale != 1 {
		n = max(1, int(float64(n)*o.scale))
	}
	// A watchdog for the whole workload: a hang is a bug to report, and the
	// program must end.
	limit := time.Duration(o.count+2) * runLimit * time.Duration(1+len(w.bases))
	dog := time.AfterFunc(limit, func() {
		if isTerminal(os.Stderr) {
			fmt.Fprintln(os.Stderr) // below the progress line
		}
		fmt.Fprintf(os.Stderr, "bench: %s: no result after %v; goroutines:\n", w.name, limit)
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		os.Exit(3)
	})
	defer dog.Stop()

	var errs []error
	fail := func(who string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", who, err))
		}
	}
	if !w.noWarmup && !o.quick {
		warm := max(n/10, 1)
		step("warm-up", "aio")
		_, err := w.aio(warm)
		fail("aio warm-up", err)
		for _, b := range w.bases {
			step("warm-up", b.name)
			_, err := b.run(warm)
			fail(b.name+" warm-up", err)
		}
	}
	aioRes := make([]result, 0, o.count)
	baseRes := make([][]result, len(w.bases))
	for k := range o.count {
		rep := fmt.Sprintf("%d/%d", k+1, o.count)
		step(rep, "aio")
		runtime.GC()
		r, err := w.aio(n)
		fail("aio", err)
		aioRes = append(aioRes, r)
		for i, b := range w.bases {
			step(rep, b.name)
			runtime.GC()
			r, err := b.run(n)
			fail(b.name, err)
			baseRes[i] = append(baseRes[i], r)
		}
	}
	summary := median
	if w.unit == latency {
		summary = medianRep
	}
	a := summary(aioRes)
	rows := make([]row, 0, len(w.bases))
	for i, b := range w.bases {
		g := summary(baseRes[i])
		r := row{w: w, title: titleOf(w, n), first: i == 0, aio: a, baseName: b.name, base: g}
		if i == 0 {
			if w.target != nil {
				r.target = w.target
				r.status, r.stretch = w.target.status(a, g)
			}
		}
		rows = append(rows, r)
	}
	return rows, errors.Join(errs...)
}

// titleOf returns w's title for n operations.
func titleOf(w workload, n int) string {
	return strings.ReplaceAll(w.title, "{n}", formatCount(n))
}

// median returns the median of each figure. A check's value counts what
// went wrong, and its note is taken from the worst repetition, not the
// median.
func median(rs []result) result {
	if len(rs) == 0 {
		return result{}
	}
	vals := make([]float64, len(rs))
	allocs := make([]float64, len(rs))
	worst := rs[0]
	for i, r := range rs {
		vals[i], allocs[i] = r.value, r.allocs
		if r.value >= worst.value {
			worst = r
		}
	}
	return result{value: mid(vals), allocs: mid(allocs), short: worst.short, note: worst.note}
}

// medianRep returns the repetition whose value is the median (the lower
// one for an even count), note and all: a latency's distribution is shown
// as the median repetition saw it.
func medianRep(rs []result) result {
	if len(rs) == 0 {
		return result{}
	}
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int { return cmp.Compare(a.value, b.value) })
	return s[(len(s)-1)/2]
}

func mid(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// A meter times a stretch of code and counts the heap allocations made
// meanwhile, by every goroutine.
type meter struct {
	t0      time.Time
	m0      uint64
	elapsed time.Duration
	mallocs uint64
	started bool
}

func (m *meter) start() {
	m.m0 = mallocs()
	m.started = true
	m.t0 = time.Now()
}

func (m *meter) stop() {
	m.elapsed = time.Since(m.t0)
	m.mallocs = mallocs() - m.m0
}

// perOp returns the result for n operations.
func (m *meter) perOp(n int) result {
	if n <= 0 {
		return result{}
	}
	return result{
		value:  float64(m.elapsed.Nanoseconds()) / float64(n),
		allocs: float64(m.mallocs) / float64(n),
	}
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// formatCount writes n as 2M, 100k or 20000.
func formatCount(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}
