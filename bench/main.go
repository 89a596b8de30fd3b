// Command bench measures aio beside plain Go code that does the same job,
// both measured in the same run, and prints a table with the ratio and the
// project's performance target for each, notes, a legend, and a summary of
// the targets met and missed:
//
//	go run ./bench             # full run: under two minutes on 2 cores (up to 4 if busy)
//	go run ./bench -quick      # a few seconds: the CI smoke test
//	go run ./bench -run timer  # only the workloads whose name matches
//	go run ./bench -markdown   # markdown, for docs/benchmarks.md
//	go run ./bench -count 9    # repetitions; each figure is their median
//	go run ./bench -scale 3    # 3 times the operations per measurement
//	go run ./bench -json r.json -csv r.csv  # also write the results as JSON and CSV
//	go run ./bench -echo full  # the many-connection echo matrix, in markdown
//
// Every workload runs a fixed number of operations, several times (-count),
// alternating aio and its baselines so that a slow patch of the machine hits
// both; each figure is the median of the repetitions, after one warm-up run
// of a tenth of the size (none with -quick). Timing and allocation counting
// cover only the operations, not the setup (making a loop, filling a slice
// of delays). The garbage collector runs before each repetition. Run it on
// an otherwise idle machine: the figures of a shared one move from run to
// run, which is why each row compares with a baseline of the same run.
//
// The targets are in bench/targets.json, embedded in the program: one entry
// per workload, by its -run name. The program checks the file at start.
//
// While it runs, a line on standard error says which workload and which
// repetition is being measured, if standard error is a terminal; -v adds a
// line as each workload starts and ends.
//
// -cpuprofile and -memprofile profile the whole run; combine them with -run
// to see one workload. Never measure under -race.
//
// The program exits 1 if a workload computes a wrong result (a timer fired
// early or out of order, a lost callback, a wrong sum) or fails, 2 on bad
// usage or a bad targets file, and 0 otherwise: a missed target is reported
// in the table and the summary, not in the exit code. A workload that hangs
// is stopped by a watchdog that dumps the goroutines and exits 3.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

func main() {
	childMain()     // a child process of the memory workload measures and exits here
	echoChildMain() // so does an echo server or load client of the echo benchmark
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	quick      bool
	filter     *regexp.Regexp
	markdown   bool
	count      int
	verbose    bool
	cpuprofile string
	memprofile string
	jsonPath   string  // -json: write the results here
	csvPath    string  // -csv: and here
	scale      float64 // -scale: operations per measurement, times this
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.quick, "quick", false, "small sizes and one repetition: a few seconds in all (CI smoke test)")
	runExpr := fs.String("run", "", "run only the workloads whose name matches this regular expression")
	fs.BoolVar(&o.markdown, "markdown", false, "print the output in markdown, for docs/benchmarks.md")
	fs.IntVar(&o.count, "count", 5, "repetitions of each measurement; the table shows their median (default 1 with -quick)")
	fs.BoolVar(&o.verbose, "v", false, "also write a line on standard error as each workload starts and ends, terminal or not")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.StringVar(&o.memprofile, "memprofile", "", "write an allocation profile of the whole run to this file (records every allocation: slows the run)")
	fs.StringVar(&echoMode, "echo", "", echoFlagUsage)
	fs.StringVar(&o.jsonPath, "json", "", "also write the results to this file as JSON (one record per table row)")
	fs.StringVar(&o.csvPath, "csv", "", "also write the results to this file as CSV, with a header line")
	fs.Float64Var(&o.scale, "scale", 1, "multiply each workload's operations per measurement by this (longer, steadier measurements above 1)")
	registerPeerFlags(fs) // -peers, -peers-write, -charts (bench/peers.go)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]\n\n%s\n\n", wrap(usageText, "", ""))
		fmt.Fprintf(stderr, "workloads (names for -run, and for %s):\n", targetsPath)
		for _, w := range workloads() {
			fmt.Fprintf(stderr, "  %-18s %s\n", w.name, titleOf(w, w.n))
			fmt.Fprintln(stderr, wrap(w.about, "      ", "      "))
		}
		fmt.Fprintf(stderr, "\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	countSet := false
	fs.Visit(func(f *flag.Flag) { countSet = countSet || f.Name == "count" })
	if o.quick && !countSet {
		o.count = 1
	}
	if o.count < 1 {
		return o, errors.New("-count must be at least 1")
	}
	if !(o.scale > 0) || o.scale > 1000 {
		return o, errors.New("-scale must be above 0 and at most 1000")
	}
	re, err := regexp.Compile(*runExpr)
	if err != nil {
		return o, fmt.Errorf("-run: %w", err)
	}
	o.filter = re
	return o, nil
}

// expectedRunTime says how long a run takes, for the usage text and the
// summary.
const expectedRunTime = "A full run takes under two minutes on a 2-core machine, " +
	"up to 4 minutes on a slow or busy one; -quick takes a few seconds."

const usageText = "Measures aio beside plain-Go baselines doing the same job, in the same run, " +
	"and prints a table, notes, a legend and a summary of the targets met. " + expectedRunTime +
	" While it runs, standard error shows the workload and repetition being measured, " +
	"if it is a terminal."

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if echoMode != "" {
		return runEchoMatrix(echoMode, o, stdout, stderr)
	}
	if peersFlags.on {
		return runPeers(o, stdout, stderr)
	}
	targets, err := parseTargets(targetsJSON, workloads())
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	if o.memprofile != "" {
		runtime.MemProfileRate = 1
		defer func() {
			if err := writeHeapProfile(o.memprofile); err != nil {
				fmt.Fprintln(stderr, "bench:", err)
			}
		}()
	}
	start := time.Now()
	rows, errs := runWorkloads(o, targets, newProgress(stderr, o.verbose))
	if len(rows) == 0 && len(errs) == 0 {
		fmt.Fprintf(stderr, "bench: no workload matches -run %q\n", o.filter)
		return 2
	}
	printHeader(stdout, o)
	printReport(stdout, rows, o, time.Since(start))
	if err := writeResults(rows, o.jsonPath, o.csvPath); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if len(errs) > 0 {
		fmt.Fprintln(stderr)
		for _, err := range errs {
			fmt.Fprintln(stderr, "bench: FAIL:", err)
		}
		return 1
	}
	return 0
}

// runWorkloads measures every selected workload, held to its target, and
// returns the table's rows, and the wrong results and failures met on the
// way.
func runWorkloads(o options, targets map[string]*target, p *progress) ([]row, []error) {
	var selected []workload
	for _, w := range workloads() {
		if o.filter.MatchString(w.name) {
			w.target = targets[w.name]
			selected = append(selected, w)
		}
	}
	var rows []row
	var errs []error
	for i, w := range selected {
		p.logf("bench: %s ...", w.name)
		t0 := time.Now()
		rs, err := measureWorkload(w, o, func(rep, who string) {
			p.step(i+1, len(selected), w.name, rep, who)
		})
		rows = append(rows, rs...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", w.name, err))
		}
		p.logf("bench: %s done in %v", w.name, time.Since(t0).Round(time.Millisecond))
	}
	p.clear()
	return rows, errs
}

// workloads lists every workload, in table order.
func workloads() []workload {
	var ws []workload
	ws = append(ws, loopWorkloads()...)
	ws = append(ws, submitWorkloads()...)
	ws = append(ws, overloadWorkloads()...)
	ws = append(ws, taskWorkloads()...)
	ws = append(ws, structuredWorkloads()...)
	ws = append(ws, chanWorkloads()...)
	ws = append(ws, queueWorkloads()...)
	ws = append(ws, lockWorkloads()...)
	ws = append(ws, gochanWorkloads()...)
	ws = append(ws, loopsWorkloads()...)
	ws = append(ws, executorWorkloads()...)
	ws = append(ws, subprocessWorkloads()...)
	ws = append(ws, echoWorkloads()...)
	ws = append(ws, echoLoadWorkloads()...)
	ws = append(ws, roundTripWorkloads()...)
	ws = append(ws, memoryWorkloads()...)
	return ws
}

// cpuModel returns the CPU's model name, where the system says it.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
