// Command bench measures aio beside plain Go code that does the same job,
// both measured in the same run, and prints a table with the ratio and the
// project's performance target for each:
//
//	go run ./bench             # full run, under two minutes on 2 cores
//	go run ./bench -quick      # a few seconds: the CI smoke test
//	go run ./bench -run timer  # only the workloads whose name matches
//	go run ./bench -markdown   # a markdown table, for docs/benchmarks.md
//	go run ./bench -count 9    # repetitions; each figure is their median
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
// -cpuprofile and -memprofile profile the whole run; combine them with -run
// to see one workload. Never measure under -race.
//
// The program exits 1 if a workload computes a wrong result (a timer fired
// early or out of order, a lost callback, a wrong sum) or fails, and 0
// otherwise: a missed target is reported in the table, not in the exit code.
// A workload that hangs is stopped by a watchdog that dumps the goroutines
// and exits 3.
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
	childMain() // a child process of the memory workload measures and exits here
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
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.quick, "quick", false, "small sizes and one repetition: a few seconds in all (CI smoke test)")
	runExpr := fs.String("run", "", "run only the workloads whose name matches this regular expression")
	fs.BoolVar(&o.markdown, "markdown", false, "print the table in markdown")
	fs.IntVar(&o.count, "count", 7, "repetitions of each measurement; the table shows their median (default 1 with -quick)")
	fs.BoolVar(&o.verbose, "v", false, "report progress on standard error")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.StringVar(&o.memprofile, "memprofile", "", "write an allocation profile of the whole run to this file (records every allocation: slows the run)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags]\n\nworkloads (names for -run):\n")
		for _, w := range workloads() {
			fmt.Fprintf(stderr, "  %-12s %s\n", w.name, w.title)
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
	re, err := regexp.Compile(*runExpr)
	if err != nil {
		return o, fmt.Errorf("-run: %w", err)
	}
	o.filter = re
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
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
	rows, errs := runWorkloads(o, stderr)
	if len(rows) == 0 && len(errs) == 0 {
		fmt.Fprintf(stderr, "bench: no workload matches -run %q\n", o.filter)
		return 2
	}
	printHeader(stdout, o, time.Since(start))
	printTable(stdout, rows, o.markdown)
	if len(errs) > 0 {
		fmt.Fprintln(stderr)
		for _, err := range errs {
			fmt.Fprintln(stderr, "bench: FAIL:", err)
		}
		return 1
	}
	return 0
}

// runWorkloads measures every selected workload and returns the table's
// rows, and the wrong results and failures met on the way.
func runWorkloads(o options, progress io.Writer) ([]row, []error) {
	var rows []row
	var errs []error
	for _, w := range workloads() {
		if !o.filter.MatchString(w.name) {
			continue
		}
		if o.verbose {
			fmt.Fprintf(progress, "bench: %s ...\n", w.name)
		}
		t0 := time.Now()
		rs, err := measureWorkload(w, o)
		rows = append(rows, rs...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", w.name, err))
		}
		if o.verbose {
			fmt.Fprintf(progress, "bench: %s done in %v\n", w.name, time.Since(t0).Round(time.Millisecond))
		}
	}
	return rows, errs
}

// workloads lists every workload, in table order.
func workloads() []workload {
	var ws []workload
	ws = append(ws, loopWorkloads()...)
	ws = append(ws, submitWorkloads()...)
	ws = append(ws, overloadWorkloads()...)
	ws = append(ws, taskWorkloads()...)
	ws = append(ws, roundTripWorkloads()...)
	ws = append(ws, memoryWorkloads()...)
	return ws
}

func printHeader(w io.Writer, o options, took time.Duration) {
	mode := "full"
	if o.quick {
		mode = "quick"
	}
	line := fmt.Sprintf("aio bench (%s): %s %s/%s, %s, %d CPUs, GOMAXPROCS=%d; median of %d; took %v",
		mode, runtime.Version(), runtime.GOOS, runtime.GOARCH, cpuModel(), runtime.NumCPU(),
		runtime.GOMAXPROCS(0), o.count, took.Round(100*time.Millisecond))
	if o.markdown {
		fmt.Fprintf(w, "_%s_\n\n", line)
	} else {
		fmt.Fprintf(w, "%s\n\n", line)
	}
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
