package main

// The echo benchmark in the table of go run ./bench (a short run: 100
// connections, 1 KiB), and its full matrix (go run ./bench -echo full).

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The short run's shape: the rows' n is the measured window in
// milliseconds.
const (
	echoShortConns = 100
	echoShortSize  = 1024
	echoShortMs    = 150 // with a 100 ms warm-up: about 0.3 s per server and repetition
	echoQuickMs    = 100
)

// echoLoadWorkloads returns two rows for each aio server of echoServers:
// its CPU per request beside the servers of its vs, and its p99 latency
// beside the Go net server's.
func echoLoadWorkloads() []workload {
	var ws []workload
	for _, s := range echoServers {
		if len(s.vs) == 0 {
			continue
		}
		cpu := "echo-cpu-" + s.key
		var bases []baseline
		for _, v := range s.vs {
			if b, ok := findEchoServer(v); ok && b.name != s.name {
				bases = append(bases, baseline{b.name, echoReader(cpu, b.name, cpuResult)})
			}
		}
		if len(bases) == 0 {
			continue
		}
		shape := fmt.Sprintf("%d connections x %s messages, each a closed loop of write and read back (Go net client in a child process, GOMAXPROCS=1); the server (%s) in another child process with GOMAXPROCS=%d, on CPUs of its own where there are enough",
			echoShortConns, formatSize(echoShortSize), s.name, max(s.procs, 1))
		ws = append(ws, workload{
			name:  cpu,
			title: "echo CPU: " + s.key,
			about: "server CPU time (user+system) per echoed request, and the server's heap allocations per request; " + shape,
			unit:  nsPerOp, n: echoShortMs, quickN: echoQuickMs, noWarmup: true,
			aio:   echoReader(cpu, s.name, cpuResult),
			bases: bases,
		})
		p99 := "echo-p99-" + s.key
		ws = append(ws, workload{
			name:  p99,
			title: "echo p99: " + s.key,
			about: "the 99th percentile of the round-trip latency seen by the client (the same runs as echo CPU); " + shape,
			unit:  latency, n: echoShortMs, quickN: echoQuickMs, noWarmup: true,
			aio:   echoReader(p99, s.name, p99Result(true)),
			bases: []baseline{{echoGoNet, echoReader(p99, echoGoNet, p99Result(false))}},
		})
	}
	return ws
}

func cpuResult(r echoResult) result {
	return result{value: r.cpuPerReq, allocs: r.allocsReq}
}

// p99Result returns a row's latency figure, with the distribution and the
// rate in the note (and the placement of the processes, for aio's).
func p99Result(placement bool) func(echoResult) result {
	return func(r echoResult) result {
		note := fmt.Sprintf("p50 %s, p99 %s, p99.9 %s, max %s; %s req/s",
			formatLatency(r.p50), formatLatency(r.p99), formatLatency(r.p999), formatLatency(r.pmax),
			formatRate(r.reqPerSec))
		if placement {
			note += "; " + r.pinned
		}
		return result{value: float64(r.p99), allocs: -1, note: note}
	}
}

// echoRuns are the short run's measurements, shared by the rows: the k-th
// call of a row's reader for a server takes that server's measurement of
// round k, and the first reader to need a round runs it, measuring every
// server once, one after the other. The rows of one repetition thus read
// the same runs, and a server is measured once per repetition whatever the
// number of rows.
var echoRuns = struct {
	mu     sync.Mutex
	rounds map[int][]map[string]echoOutcome // by window (ms), then round, then server
	next   map[string]int                   // by reader: its next round
}{rounds: map[int][]map[string]echoOutcome{}, next: map[string]int{}}

type echoOutcome struct {
	r   echoResult
	err error
}

// echoReader returns the run function of the row named row for server.
func echoReader(row, server string, figure func(echoResult) result) func(n int) (result, error) {
	return func(ms int) (result, error) {
		echoRuns.mu.Lock()
		defer echoRuns.mu.Unlock()
		key := fmt.Sprintf("%s/%s/%d", row, server, ms)
		k := echoRuns.next[key]
		echoRuns.next[key]++
		for len(echoRuns.rounds[ms]) <= k {
			echoRuns.rounds[ms] = append(echoRuns.rounds[ms], echoRound(echoShortConfig(ms), len(echoRuns.rounds[ms])))
		}
		o, ok := echoRuns.rounds[ms][k][server]
		if !ok {
			return result{}, fmt.Errorf("no echo server %q", server)
		}
		if o.err != nil {
			return result{}, o.err
		}
		return figure(o.r), nil
	}
}

func echoShortConfig(ms int) echoConfig {
	window := time.Duration(ms) * time.Millisecond
	return echoConfig{conns: echoShortConns, size: echoShortSize, warmup: min(100*time.Millisecond, window), window: window}
}

// echoRound measures every server once under cfg, starting with a
// different one in each round k, so that none is always first.
func echoRound(cfg echoConfig, k int) map[string]echoOutcome {
	out := make(map[string]echoOutcome, len(echoServers))
	for i := range echoServers {
		s := echoServers[(i+k)%len(echoServers)]
		r, err := measureEcho(s, cfg)
		out[s.name] = echoOutcome{r, err}
	}
	return out
}

// The full matrix.

// An echoCell is one shape of the matrix.
type echoCell struct{ conns, size int }

// echoFullCells are the cells of -echo full.
var echoFullCells = []echoCell{
	{1, 1024}, {10, 1024}, {100, 64}, {100, 1024}, {100, 16 << 10}, {1000, 1024},
}

// parseEchoCells reads -echo's value: "full", or cells such as
// "100x1K,1000x16K" (connections x message size; sizes in bytes, with K
// for KiB).
func parseEchoCells(spec string) ([]echoCell, error) {
	if spec == "full" {
		return echoFullCells, nil
	}
	var cells []echoCell
	for part := range strings.SplitSeq(spec, ",") {
		cs, ss, ok := strings.Cut(strings.TrimSpace(part), "x")
		conns, err1 := strconv.Atoi(cs)
		size, err2 := parseSize(ss)
		if !ok || err1 != nil || err2 != nil || conns < 1 || conns > 10_000 || size < 8 || size > 1<<20 {
			return nil, fmt.Errorf(`-echo: %q: want "full" or cells such as 100x1K,1000x64 (1 to 10000 connections x 8 B to 1024K)`, part)
		}
		cells = append(cells, echoCell{conns, size})
	}
	return cells, nil
}

func parseSize(s string) (int, error) {
	mult := 1
	for _, suf := range []string{"KiB", "K", "k"} {
		if t, ok := strings.CutSuffix(s, suf); ok {
			s, mult = t, 1024
			break
		}
	}
	n, err := strconv.Atoi(s)
	return n * mult, err
}

// echoMode is the -echo flag's value: empty for the normal table.
var echoMode string

// echoFlagUsage is the -echo flag's help.
const echoFlagUsage = "run only the echo benchmark's matrix and print it as markdown, for docs/benchmarks.md: " +
	`"full" (1, 10, 100 and 1000 connections x 1 KiB, 100 x 64 B and 16 KiB), or cells such as 100x1K,1000x64; ` +
	"each server 3 times per cell, 1 s each after a 0.3 s warm-up (-quick: once, 0.1 s); about 80 s for full; -run does not apply"

// echoMatrixRun is the shape of a matrix run.
type echoMatrixRun struct {
	rounds         int
	warmup, window time.Duration
}

// runEchoMatrix runs the matrix of -echo and prints its markdown table.
func runEchoMatrix(spec string, o options, stdout, stderr io.Writer) int {
	cells, err := parseEchoCells(spec)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	m := echoMatrixRun{rounds: 3, warmup: 300 * time.Millisecond, window: time.Second}
	if o.quick {
		m = echoMatrixRun{rounds: 1, warmup: 50 * time.Millisecond, window: 100 * time.Millisecond}
	}
	p := newProgress(stderr, o.verbose)
	start := time.Now()
	var table []echoMatrixRow
	var errs []error
	for ci, c := range cells {
		cfg := echoConfig{conns: c.conns, size: c.size, warmup: m.warmup, window: m.window}
		runs := map[string][]echoResult{}
		for k := range m.rounds {
			for i := range echoServers {
				s := echoServers[(i+k)%len(echoServers)]
				p.step(ci+1, len(cells), fmt.Sprintf("echo %dx%s", c.conns, formatSize(c.size)), fmt.Sprintf("%d/%d", k+1, m.rounds), s.name)
				r, err := measureEcho(s, cfg)
				if err != nil {
					errs = append(errs, fmt.Errorf("echo %d x %s, %s: %w", c.conns, formatSize(c.size), s.name, err))
					continue
				}
				runs[s.name] = append(runs[s.name], r)
			}
		}
		table = append(table, matrixRows(c, runs)...)
		p.logf("bench: echo %d x %s done", c.conns, formatSize(c.size))
	}
	p.clear()
	_, placed := echoCPUs()
	fmt.Fprintf(stdout, "_echo benchmark: %s %s/%s, %d CPUs, %s; each server and the client in a child process with GOMAXPROCS=1; %s_  \n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), placed)
	fmt.Fprintf(stdout, "_each figure is the median of %d runs of %v after a %v warm-up; run time %v_\n\n",
		m.rounds, m.window, m.warmup, time.Since(start).Round(100*time.Millisecond))
	printEchoMatrix(stdout, table)
	for _, err := range errs {
		fmt.Fprintln(stderr, "bench: FAIL:", err)
	}
	if len(errs) > 0 {
		return 1
	}
	return 0
}

// An echoMatrixRow is one line of the matrix's table: one server in one
// cell, each figure the median of its runs.
type echoMatrixRow struct {
	cell      echoCell
	server    string
	runs      int
	reqPerSec float64
	p50, p99  time.Duration
	p999      time.Duration
	cpuPerReq float64
	vsGo      float64 // cpuPerReq / the Go net server's; 0: none
	allocsReq float64
}

// matrixRows summarizes a cell's runs, by server in table order.
func matrixRows(c echoCell, runs map[string][]echoResult) []echoMatrixRow {
	var rows []echoMatrixRow
	for _, s := range echoServers {
		rs := runs[s.name]
		if len(rs) == 0 {
			continue
		}
		med := func(f func(echoResult) float64) float64 {
			xs := make([]float64, len(rs))
			for i, r := range rs {
				xs[i] = f(r)
			}
			return mid(xs)
		}
		rows = append(rows, echoMatrixRow{
			cell: c, server: s.name, runs: len(rs),
			reqPerSec: med(func(r echoResult) float64 { return r.reqPerSec }),
			p50:       time.Duration(med(func(r echoResult) float64 { return float64(r.p50) })),
			p99:       time.Duration(med(func(r echoResult) float64 { return float64(r.p99) })),
			p999:      time.Duration(med(func(r echoResult) float64 { return float64(r.p999) })),
			cpuPerReq: med(func(r echoResult) float64 { return r.cpuPerReq }),
			allocsReq: med(func(r echoResult) float64 { return r.allocsReq }),
		})
	}
	goAt := slices.IndexFunc(rows, func(r echoMatrixRow) bool { return r.server == echoGoNet })
	if goAt >= 0 && rows[goAt].cpuPerReq > 0 {
		for i := range rows {
			rows[i].vsGo = rows[i].cpuPerReq / rows[goAt].cpuPerReq
		}
	}
	return rows
}

// printEchoMatrix prints the matrix's rows as a markdown table.
func printEchoMatrix(w io.Writer, rows []echoMatrixRow) {
	fmt.Fprintln(w, "| conns | message | server | req/s | p50 | p99 | p99.9 | server CPU/req | CPU vs go net | allocs/req |")
	fmt.Fprintln(w, "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		vs := "-"
		if r.vsGo > 0 {
			vs = fmt.Sprintf("%.2f", r.vsGo)
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.cell.conns, formatSize(r.cell.size), r.server, formatRate(r.reqPerSec),
			formatLatency(r.p50), formatLatency(r.p99), formatLatency(r.p999),
			formatLatency(time.Duration(r.cpuPerReq)), vs, formatAllocs(r.allocsReq))
	}
}

// formatSize writes a message size: 64 B, 1 KiB, 16 KiB.
func formatSize(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return strconv.Itoa(n/1024) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

// formatLatency writes a duration with three significant digits, in us
// below 1 ms, in ms above: 6.80 us, 41.2 us, 412 us, 1.23 ms, 25.0 ms.
func formatLatency(d time.Duration) string {
	v, u := float64(d)/float64(time.Microsecond), "us"
	if v >= 999.5 {
		v, u = v/1000, "ms"
	}
	switch {
	case v < 9.995:
		return fmt.Sprintf("%.2f %s", v, u)
	case v < 99.95:
		return fmt.Sprintf("%.1f %s", v, u)
	}
	return fmt.Sprintf("%.0f %s", v, u)
}

// formatRate writes a rate: 45.2k, 1.23M, 950.
func formatRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}
