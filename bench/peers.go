package main

// go run ./bench -peers: aio beside asyncio, uvloop, Node.js and tokio's
// current-thread runtime, the same workloads in each (bench/peers/), in
// one run, with the echo server of each served to the echo benchmark's
// load client (this binary's AIO_BENCH_ECHO_CLIENT child), server pinned
// to one CPU and client to another:
//
//	go run ./bench -peers                # install what is missing (Debian, as root), run, print
//	go run ./bench -peers -quick         # small sizes, one run each, no installing: CI
//	go run ./bench -peers -peers-write   # also write docs/benchmarks.md's peer section and docs/peers-*.svg
//	go run ./bench -peers -charts        # also write the charts alone
//
// Each peer program prints one JSON line per workload (a peerRecord):
// {"peer":"node","workload":"chain","unit":"ns per op","value":412.5,
// "n":100000,"runs":3,"note":"..."}, or {"peer":..,"workload":..,"skip":
// "why"} or {.., "error": "what"}. aio and its Go baseline are measured
// by this program's own workloads of the same -run names, in the same run.
// A peer that cannot be installed or built is skipped, and the output says
// why; -peers exits 1 only when a peer or workload that ran computed a
// wrong result or failed.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// peersFlags are the flags of -peers, registered by registerPeerFlags.
var peersFlags struct {
	on      bool   // -peers
	write   bool   // -peers-write
	charts  bool   // -charts
	install bool   // -peers-install
	docs    string // -peers-docs: the docs directory
}

// registerPeerFlags adds -peers and its flags to the bench's flag set.
func registerPeerFlags(fs *flag.FlagSet) {
	fs.BoolVar(&peersFlags.on, "peers", false, "run the peer comparison instead of the table: aio, its Go baseline, asyncio, uvloop, Node.js and tokio on the same workloads and echo servers (bench/peers/); with -quick, small sizes and no installing")
	// -peers-write and -charts imply -peers.
	implies := func(p *bool) func(string) error {
		return func(s string) error {
			v, err := strconv.ParseBool(s)
			*p, peersFlags.on = v, peersFlags.on || v
			return err
		}
	}
	peersFlags.write, peersFlags.charts = false, false
	fs.BoolFunc("peers-write", "-peers, and write its tables into docs/benchmarks.md between <!-- peers:begin --> and <!-- peers:end -->, and the charts (docs/peers-*.svg)", implies(&peersFlags.write))
	fs.BoolFunc("charts", "-peers, and write its SVG charts into docs/ (peers-*.svg)", implies(&peersFlags.charts))
	fs.BoolVar(&peersFlags.install, "peers-install", true, "with -peers (not -quick): install the missing peers from Debian's packages with apt-get (as root)")
	fs.StringVar(&peersFlags.docs, "peers-docs", "docs", "with -peers-write or -charts: the docs directory to write into")
}

// A peerWorkload is one workload of the comparison: its -run name in the
// bench, its family (one chart each), and the peers' sizes.
type peerWorkload struct {
	name   string
	family string
	n      int // operations per measurement in a full run
	quickN int // and with -quick
}

// peerWorkloads are the workloads of the comparison, in table order. The
// peers' sizes are smaller than the bench's where an interpreted peer
// would take seconds per run; a figure is per operation, and these sizes
// are well past the start-up costs.
var peerWorkloads = []peerWorkload{
	{"callback", "callbacks", 500_000, 50_000},
	{"chain", "callbacks", 500_000, 50_000},
	{"timer", "timers", 100_000, 20_000},
	{"timer-order", "timers", 100_000, 20_000},
	{"spawn", "tasks", 100_000, 10_000},
	{"pingpong", "tasks", 100_000, 10_000},
	{"group", "tasks", 10_000, 10_000},
	{"submit", "threads", 400_000, 40_000},
	{"queue", "threads", 500_000, 50_000},
}

// peerFamilies are the charts' families, in order, with their titles.
var peerFamilies = [][2]string{
	{"callbacks", "Callbacks: batch and chain"},
	{"tasks", "Tasks: spawn, ping-pong, group"},
	{"timers", "Timers: scheduling one"},
	{"threads", "Cross-thread submit and queue hand-off"},
}

// The names of the columns: aio, its Go baseline, then the peers.
const (
	colAIO = "aio"
	colGo  = "Go"
)

// A peerRecord is one line of a peer program's output.
type peerRecord struct {
	Peer     string  `json:"peer"`
	Workload string  `json:"workload"`
	Unit     string  `json:"unit,omitempty"`
	Value    float64 `json:"value"`
	N        int     `json:"n,omitempty"`
	Runs     int     `json:"runs,omitempty"`
	Note     string  `json:"note,omitempty"`
	Skip     string  `json:"skip,omitempty"`
	Error    string  `json:"error,omitempty"`
}

// parsePeerOutput reads a peer program's output: one JSON record per
// line, each of the peer named; blank lines are ignored. A record that
// is not skipped or failed has a unit and a finite, non-negative value.
func parsePeerOutput(peer string, r io.Reader) ([]peerRecord, error) {
	var recs []peerRecord
	sc := bufio.NewScanner(r)
	for i := 1; sc.Scan(); i++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var rec peerRecord
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return recs, fmt.Errorf("%s: line %d: %w: %q", peer, i, err, line)
		}
		switch {
		case rec.Peer != peer:
			return recs, fmt.Errorf("%s: line %d: a record of peer %q", peer, i, rec.Peer)
		case rec.Workload == "":
			return recs, fmt.Errorf("%s: line %d: no workload", peer, i)
		case rec.Skip == "" && rec.Error == "" && (rec.Unit == "" || math.IsNaN(rec.Value) || math.IsInf(rec.Value, 0) || rec.Value < 0):
			return recs, fmt.Errorf("%s: line %d: workload %s: want a unit and a figure >= 0: %q", peer, i, rec.Workload, line)
		}
		recs = append(recs, rec)
	}
	return recs, sc.Err()
}

// peerSpec is a peer program's workload argument: "name=N,name=N".
func peerSpec(ws []peerWorkload, quick bool) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		n := w.n
		if quick {
			n = w.quickN
		}
		parts[i] = fmt.Sprintf("%s=%d", w.name, n)
	}
	return strings.Join(parts, ",")
}

// A peer is one runtime compared with aio.
type peer struct {
	name  string   // the column's name: asyncio, uvloop, node, tokio
	forms []string // its echo server's forms: stream, proto
	// setup finds (or installs, or builds) the peer and returns the
	// command that runs its program, and its version; an error says why
	// it is skipped.
	setup func(e *peerEnv) (argv []string, version string, err error)
}

// peerEnv is what the peers' setup needs.
type peerEnv struct {
	dir     string // bench/peers, absolute
	install bool   // may run apt-get
	cache   string // a directory for build outputs
	log     func(format string, args ...any)
}

var peers = []peer{
	{name: "asyncio", forms: []string{"stream", "proto"}, setup: setupPython(false)},
	{name: "uvloop", forms: []string{"stream", "proto"}, setup: setupPython(true)},
	{name: "node", forms: []string{"stream", "proto"}, setup: setupNode},
	{name: "tokio", forms: []string{"stream"}, setup: setupTokio},
}

// debianPython is the interpreter the Python peers run with: Debian's,
// for which python3-uvloop is built (a pyenv python3 first on PATH has no
// uvloop).
const debianPython = "/usr/bin/python3"

func setupPython(uvloop bool) func(e *peerEnv) ([]string, string, error) {
	return func(e *peerEnv) ([]string, string, error) {
		if _, err := os.Stat(debianPython); err != nil {
			if err := e.apt("python3"); err != nil {
				return nil, "", fmt.Errorf("no %s: %w", debianPython, err)
			}
		}
		ver, err := output(debianPython, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])")
		if err != nil {
			return nil, "", err
		}
		if v := strings.Split(ver, "."); len(v) < 2 || v[0] != "3" || atoi(v[1]) < 11 {
			return nil, "", fmt.Errorf("%s is Python %s: the task group needs 3.11 or later", debianPython, ver)
		}
		argv := []string{debianPython, filepath.Join(e.dir, "asyncio_peer.py")}
		if !uvloop {
			return argv, "CPython " + ver, nil
		}
		check := func() (string, error) {
			return output(debianPython, "-c", "import uvloop; print(uvloop.__version__)")
		}
		uv, err := check()
		if err != nil {
			if err := e.apt("python3-uvloop"); err != nil {
				return nil, "", fmt.Errorf("python3-uvloop is not installed: %w", err)
			}
			if uv, err = check(); err != nil {
				return nil, "", err
			}
		}
		return append(argv, "--uvloop"), "uvloop " + uv + ", CPython " + ver, nil
	}
}

func setupNode(e *peerEnv) ([]string, string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		node = "/usr/bin/node"
		if _, err := os.Stat(node); err != nil {
			if err := e.apt("nodejs"); err != nil {
				return nil, "", fmt.Errorf("no node: %w", err)
			}
		}
	}
	ver, err := output(node, "--version")
	if err != nil {
		return nil, "", err
	}
	return []string{node, filepath.Join(e.dir, "node_peer.js")}, "Node.js " + ver, nil
}

// debianCrates is where Debian's librust-*-dev packages put their crates:
// the tokio peer builds offline against it (bench/peers/tokio/.cargo).
const debianCrates = "/usr/share/cargo/registry"

func setupTokio(e *peerEnv) ([]string, string, error) {
	cargo, err := exec.LookPath("cargo")
	if err != nil {
		cargo = filepath.Join(os.Getenv("HOME"), ".cargo", "bin", "cargo")
		if _, err := os.Stat(cargo); err != nil {
			if err := e.apt("cargo", "rustc"); err != nil {
				return nil, "", fmt.Errorf("no cargo: %w", err)
			}
			cargo = "/usr/bin/cargo"
		}
	}
	tokioDir := func() string {
		m, _ := filepath.Glob(filepath.Join(debianCrates, "tokio-1.*"))
		slices.Sort(m)
		if len(m) == 0 {
			return ""
		}
		return m[len(m)-1]
	}
	if tokioDir() == "" {
		if err := e.apt("librust-tokio-dev"); err != nil {
			return nil, "", fmt.Errorf("librust-tokio-dev is not installed (no %s/tokio-1.*): %w", debianCrates, err)
		}
		if tokioDir() == "" {
			return nil, "", fmt.Errorf("librust-tokio-dev put no tokio-1.* in %s", debianCrates)
		}
	}
	// A lock written by another cargo may use a format this one cannot
	// read; the crates are Debian's, the only versions there.
	os.Remove(filepath.Join(e.dir, "tokio", "Cargo.lock"))
	target := filepath.Join(e.cache, "tokio-target")
	e.log("bench: building the tokio peer (cargo build --release --offline, against %s) ...", debianCrates)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cargo, "build", "--release", "--offline", "--quiet", "--target-dir", target)
	cmd.Dir = filepath.Join(e.dir, "tokio") // for its .cargo/config.toml
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, "", fmt.Errorf("cargo build: %w: %s", err, tail(out.String(), 600))
	}
	rustc, _ := output(filepath.Join(filepath.Dir(cargo), "rustc"), "--version")
	ver := strings.TrimPrefix(filepath.Base(tokioDir()), "tokio-")
	if f := strings.Fields(rustc); len(f) >= 2 {
		ver += ", rustc " + f[1]
	}
	return []string{filepath.Join(target, "release", "aio-peer-tokio")}, "tokio " + ver + " (current_thread)", nil
}

// apt installs Debian packages, if -peers-install allows it and this is
// root on a system with apt-get; the error says what to run otherwise.
func (e *peerEnv) apt(pkgs ...string) error {
	cmdline := "apt-get install -y " + strings.Join(pkgs, " ")
	if !e.install {
		return fmt.Errorf("not installing in this mode (-quick or -peers-install=false): run %q", cmdline)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("no apt-get here (not Debian?): install %s by hand", strings.Join(pkgs, " "))
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root: run %q as root", cmdline)
	}
	e.log("bench: %s ...", cmdline)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	aptGet := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	install := append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)
	out, err := aptGet(install...)
	if err != nil { // stale package lists, most often: update them once
		e.log("bench: %s failed; apt-get update, and again ...", cmdline)
		if _, uerr := aptGet("update"); uerr == nil {
			out, err = aptGet(install...)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w: %s", cmdline, err, tail(out, 400))
	}
	return nil
}

// output runs a command and returns its trimmed standard output.
func output(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, tail(stderr.String(), 300))
	}
	return strings.TrimSpace(string(out)), nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// The comparison's results.

// A peerRun is the outcome of one peer: skipped (with why), or its
// records and version.
type peerRun struct {
	name    string
	version string
	skipped string // why, if it did not run
	recs    map[string]peerRecord
	argv    []string
}

// A peerTable is everything the comparison measured, ready to print.
type peerTable struct {
	header   string              // how, when, where
	columns  []string            // aio, Go, then the peers that ran or were skipped
	rows     []peerRow           // by workload, in peerWorkloads' order
	notes    map[string][]string // by workload: how each column does it
	skipped  []string            // "uvloop: why"
	versions []string            // "asyncio: CPython 3.11.2"
	echo     []peerEchoRow
	echoHow  string
}

// A peerRow is one workload: each column's figure, NaN where missing.
type peerRow struct {
	name, title, family string
	unit                string
	baseName            string // the Go baseline's name
	values              map[string]float64
}

// A peerEchoRow is one echo server's figures (medians of the rounds).
type peerEchoRow struct {
	column, form string // "aio", "stream"
	server       string // the server's name: "aio stream", "node proto"
	reqPerSec    float64
	p50, p99     time.Duration
	p999         time.Duration
	cpuPerReq    float64
	rounds       int
	err          string
}

// buildPeerRows makes the table's rows from the bench's records (aio and
// its first baseline) and the peers' runs.
func buildPeerRows(ws []peerWorkload, recs []record, runs []peerRun) ([]peerRow, map[string][]string) {
	notes := map[string][]string{}
	var rows []peerRow
	for _, w := range ws {
		r := peerRow{name: w.name, title: w.name, family: w.family, values: map[string]float64{colAIO: math.NaN(), colGo: math.NaN()}}
		if i := slices.IndexFunc(recs, func(rc record) bool { return rc.Workload == w.name }); i >= 0 {
			rc := recs[i]
			r.title, r.unit, r.baseName = rc.Title, rc.Unit, rc.Baseline
			r.values[colAIO], r.values[colGo] = rc.AIO, rc.Base
		}
		for _, pr := range runs {
			r.values[pr.name] = math.NaN()
			rec, ok := pr.recs[w.name]
			if !ok || rec.Skip != "" || rec.Error != "" {
				continue
			}
			r.values[pr.name] = rec.Value
			if r.unit == "" {
				r.unit = rec.Unit
			}
			if rec.Note != "" {
				notes[w.name] = append(notes[w.name], pr.name+": "+rec.Note)
			}
		}
		rows = append(rows, r)
	}
	return rows, notes
}

// formatPeerValue writes a figure of the table: ns per op as ns, us or
// ms; a check's fault count as a number; "-" where missing.
func formatPeerValue(unit string, v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case unit == check.String():
		return strconv.FormatFloat(v, 'f', 0, 64) + " faults"
	case v < 1000:
		return formatValue(nsPerOp, result{value: v})
	}
	return formatLatency(time.Duration(v))
}

// formatTimes writes v / aio as "12x", or "" where it does not apply.
func formatTimes(unit string, v, aio float64) string {
	if unit == check.String() || math.IsNaN(v) || math.IsNaN(aio) || aio <= 0 {
		return ""
	}
	r := v / aio
	switch {
	case r < 10:
		return fmt.Sprintf(" (%.2gx)", r)
	case r < 1000:
		return fmt.Sprintf(" (%.0fx)", r)
	}
	return fmt.Sprintf(" (%.1ex)", r)
}

// printPeerTables writes the comparison as markdown: the workloads, the
// echo servers, how each peer does each workload, and what was skipped.
func printPeerTables(w io.Writer, t peerTable, charts []string) {
	fmt.Fprintf(w, "%s\n", t.header)
	if len(t.rows) > 0 {
		printPeerWorkloads(w, t)
	}
	if len(t.versions) > 0 {
		fmt.Fprintf(w, "\nVersions: %s.\n", strings.Join(t.versions, "; "))
	}
	if len(t.echo) > 0 {
		printPeerEcho(w, t)
	}
	if len(charts) > 0 {
		fmt.Fprintln(w)
		for _, c := range charts {
			fmt.Fprintf(w, "![%s](%s)\n", strings.TrimSuffix(strings.TrimPrefix(c, "peers-"), ".svg"), c)
		}
	}
	if len(t.rows) > 0 {
		fmt.Fprintln(w, "\nHow each column does each workload:")
		fmt.Fprintln(w)
		for _, r := range t.rows {
			if ns := t.notes[r.name]; len(ns) > 0 {
				fmt.Fprintf(w, "- %s: %s.\n", r.name, escapeMarkdown(strings.Join(ns, "; ")))
			}
		}
	}
	if len(t.skipped) > 0 {
		fmt.Fprintln(w, "\nSkipped:")
		fmt.Fprintln(w)
		for _, s := range t.skipped {
			fmt.Fprintf(w, "- %s\n", escapeMarkdown(s))
		}
	}
}

// printPeerWorkloads writes the workloads' table.
func printPeerWorkloads(w io.Writer, t peerTable) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| workload | %s |\n", strings.Join(t.columns, " | "))
	fmt.Fprintf(w, "|---|%s\n", strings.Repeat("---:|", len(t.columns)))
	for _, r := range t.rows {
		cells := []string{escapeMarkdown(r.title)}
		for _, c := range t.columns {
			cell := formatPeerValue(r.unit, r.values[c])
			if c == colGo && r.baseName != "" && cell != "-" {
				cell += " (" + r.baseName + ")"
			} else if c != colAIO {
				cell += formatTimes(r.unit, r.values[c], r.values[colAIO])
			}
			cells = append(cells, escapeMarkdown(cell))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Figures are ns per operation (the median of the runs), and in parentheses the peer's figure over aio's; timer order counts the timers that fired early or out of (deadline, scheduling) order.")
}

// printPeerEcho writes the echo servers' table.
func printPeerEcho(w io.Writer, t peerTable) {
	fmt.Fprintf(w, "\n%s\n\n", t.echoHow)
	fmt.Fprintln(w, "| server | form | req/s | p50 | p99 | p99.9 | server CPU/req | CPU vs go net |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
	goCPU := math.NaN()
	for _, e := range t.echo {
		if e.server == echoGoNet && e.err == "" {
			goCPU = e.cpuPerReq
		}
	}
	for _, e := range t.echo {
		if e.err != "" {
			fmt.Fprintf(w, "| %s | %s | failed: %s | | | | | |\n", e.column, e.form, escapeMarkdown(e.err))
			continue
		}
		vs := "-"
		if goCPU > 0 {
			vs = fmt.Sprintf("%.2f", e.cpuPerReq/goCPU)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", e.column, e.form, formatRate(e.reqPerSec),
			formatLatency(e.p50), formatLatency(e.p99), formatLatency(e.p999),
			formatLatency(time.Duration(e.cpuPerReq)), vs)
	}
}

// The markers of the peer section in docs/benchmarks.md.
const (
	peersBegin = "<!-- peers:begin -->"
	peersEnd   = "<!-- peers:end -->"
)

// replacePeerSection puts section between the markers of doc, or, if doc
// has neither, appends a heading and the markers with section between.
func replacePeerSection(doc, section string) (string, error) {
	b, e := strings.Index(doc, peersBegin), strings.Index(doc, peersEnd)
	body := peersBegin + "\n" + strings.TrimSpace(section) + "\n" + peersEnd
	switch {
	case b < 0 && e < 0:
		return strings.TrimRight(doc, "\n") + "\n\n## aio beside asyncio, uvloop, Node.js and tokio: `go run ./bench -peers`\n\n" + body + "\n", nil
	case b < 0 || e < 0 || e < b:
		return "", fmt.Errorf("the markers %s and %s are not both there, in order", peersBegin, peersEnd)
	case strings.Count(doc, peersBegin) > 1 || strings.Count(doc, peersEnd) > 1:
		return "", fmt.Errorf("more than one %s or %s", peersBegin, peersEnd)
	}
	return doc[:b] + body + doc[e+len(peersEnd):], nil
}

// findPeersDir returns bench/peers from the working directory: the
// repository's root (go run ./bench) or bench/ (go test).
func findPeersDir() (string, error) {
	for _, d := range []string{filepath.Join("bench", "peers"), "peers"} {
		if st, err := os.Stat(filepath.Join(d, "asyncio_peer.py")); err == nil && !st.IsDir() {
			return filepath.Abs(d)
		}
	}
	return "", errors.New("-peers: no bench/peers here: run it from the repository's root")
}

// runPeers is -peers: it measures aio and the Go baselines, then each
// peer, then the echo servers, and prints (and writes) the tables.
func runPeers(o options, stdout, stderr io.Writer) int {
	dir, err := findPeersDir()
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	p := newProgress(stderr, o.verbose)
	logf := func(format string, args ...any) { p.clear(); fmt.Fprintf(stderr, format+"\n", args...) }
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	env := &peerEnv{dir: dir, install: peersFlags.install && !o.quick, cache: filepath.Join(cache, "aio-bench-peers"), log: logf}
	start := time.Now()
	var failures []string

	// The peers' setup first: installs and builds are not measured.
	var runs []peerRun
	for _, pe := range peers {
		argv, ver, err := pe.setup(env)
		pr := peerRun{name: pe.name, version: ver, argv: argv, recs: map[string]peerRecord{}}
		if err != nil {
			pr.skipped = err.Error()
			logf("bench: skipping %s: %v", pe.name, err)
		}
		runs = append(runs, pr)
	}

	// aio and its Go baselines, by the bench's own workloads.
	ws := selectPeerWorkloads(o.filter)
	withEcho := o.filter.MatchString("echo")
	if len(ws) == 0 && !withEcho {
		fmt.Fprintf(stderr, "bench: no peer workload matches -run %q (the workloads: %s, and echo)\n", o.filter, peerWorkloadNames())
		return 2
	}
	targets, err := parseTargets(targetsJSON, workloads())
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = regexp.QuoteMeta(w.name)
	}
	var rows []row
	if len(ws) > 0 {
		ob := o
		ob.filter = regexp.MustCompile("^(" + strings.Join(names, "|") + ")$")
		var errs []error
		rows, errs = runWorkloads(ob, targets, p)
		for _, err := range errs {
			failures = append(failures, "aio: "+err.Error())
		}
	}

	// Each peer's workloads, one after the other.
	count := min(o.count, 3)
	for i := range runs {
		pr := &runs[i]
		if pr.skipped != "" || len(ws) == 0 {
			continue
		}
		p.step(i+1, len(runs), pr.name, "", "workloads")
		recs, err := runPeerBench(pr.name, pr.argv, count, peerSpec(ws, o.quick))
		for _, r := range recs {
			pr.recs[r.Workload] = r
			if r.Error != "" {
				failures = append(failures, fmt.Sprintf("%s: %s: %s", pr.name, r.Workload, r.Error))
			}
		}
		if err != nil {
			failures = append(failures, err.Error())
		}
	}

	// The echo servers, to the same load client.
	var echo []peerEchoRow
	var echoHow string
	if withEcho {
		echo, echoHow = runPeerEcho(runs, o.quick, p)
		for _, e := range echo {
			if e.err != "" {
				failures = append(failures, fmt.Sprintf("echo %s: %s", e.server, e.err))
			}
		}
	}
	p.clear()

	t := peerTable{columns: []string{colAIO, colGo}, echo: echo, echoHow: echoHow}
	for _, pr := range runs {
		t.columns = append(t.columns, pr.name)
		if pr.skipped != "" {
			t.skipped = append(t.skipped, pr.name+": "+pr.skipped)
		} else {
			t.versions = append(t.versions, pr.name+": "+pr.version)
		}
	}
	t.rows, t.notes = buildPeerRows(ws, records(rows), runs)
	mode := ""
	if o.quick {
		mode = " -quick"
	}
	t.header = fmt.Sprintf("_`go run ./bench -peers%s`, %s, %s: %s %s/%s, %d CPUs, %s; aio and Go: the median of %d repetitions of the bench's workloads; each peer: the median of %d runs of its program (bench/peers/); run time %v_",
		mode, time.Now().UTC().Format("2006-01-02"), hostDescription(), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), cpuModel(), o.count, count, time.Since(start).Round(100*time.Millisecond))

	var charts []string
	if peersFlags.charts || peersFlags.write {
		charts, err = writePeerCharts(peersFlags.docs, t)
		if err != nil {
			fmt.Fprintln(stderr, "bench: charts:", err)
			return 1
		}
	}
	var buf bytes.Buffer
	printPeerTables(&buf, t, charts)
	stdout.Write(buf.Bytes())
	if peersFlags.write {
		path := filepath.Join(peersFlags.docs, "benchmarks.md")
		doc, err := os.ReadFile(path)
		if err == nil {
			var out string
			if out, err = replacePeerSection(string(doc), buf.String()); err == nil {
				err = os.WriteFile(path, []byte(out), 0o644)
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "bench: -peers-write:", err)
			return 1
		}
		fmt.Fprintf(stderr, "bench: wrote %s and %d charts\n", path, len(charts))
	}
	for _, f := range failures {
		fmt.Fprintln(stderr, "bench: FAIL:", f)
	}
	if len(failures) > 0 {
		return 1
	}
	return 0
}

// hostDescription says whether the run had the machine to itself, as far
// as the load average tells.
func hostDescription() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load unknown"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "load unknown"
	}
	return "load average " + f[0] + " at the end"
}

func peerWorkloadNames() string {
	var ns []string
	for _, w := range peerWorkloads {
		ns = append(ns, w.name)
	}
	return strings.Join(ns, ", ")
}

// selectPeerWorkloads returns the peer workloads that -run selects.
func selectPeerWorkloads(re *regexp.Regexp) []peerWorkload {
	var ws []peerWorkload
	for _, w := range peerWorkloads {
		if re.MatchString(w.name) {
			ws = append(ws, w)
		}
	}
	return ws
}

// runPeerBench runs a peer program's workloads and parses what it prints.
func runPeerBench(name string, argv []string, count int, spec string) ([]peerRecord, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], "bench", strconv.Itoa(count), spec)...)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	recs, err := parsePeerOutput(name, &stdout)
	if err != nil {
		return recs, err
	}
	if runErr != nil && !slices.ContainsFunc(recs, func(r peerRecord) bool { return r.Error != "" }) {
		return recs, fmt.Errorf("%s: %w: %s", name, runErr, tail(stderr.String(), 600))
	}
	return recs, nil
}

// The echo servers.

// peerEchoServers are the aio and Go servers of the comparison, by their
// echoServers names, with their column and form.
var peerEchoServers = [][3]string{
	{echoGoNet, colGo, "goroutines"},
	{"aio stream", colAIO, "stream"},
	{"aio protocol", colAIO, "proto"},
}

// runPeerEcho measures every echo server (aio's, Go's, and each peer's
// forms) under the same load, interleaved over the rounds, and returns
// the median figures of each.
func runPeerEcho(runs []peerRun, quick bool, p *progress) ([]peerEchoRow, string) {
	m := echoMatrixRun{rounds: 3, warmup: 300 * time.Millisecond, window: time.Second}
	if quick {
		m = echoMatrixRun{rounds: 1, warmup: 50 * time.Millisecond, window: 100 * time.Millisecond}
	}
	cfg := echoConfig{conns: echoShortConns, size: echoShortSize, warmup: m.warmup, window: m.window}
	type server struct {
		row     peerEchoRow
		measure func() (echoResult, error)
	}
	var servers []server
	for _, s := range peerEchoServers {
		es, ok := findEchoServer(s[0])
		if !ok {
			continue
		}
		servers = append(servers, server{peerEchoRow{column: s[1], form: s[2], server: s[0]}, func() (echoResult, error) { return measureEcho(es, cfg) }})
	}
	for _, pr := range runs {
		if pr.skipped != "" {
			continue
		}
		pe := peers[slices.IndexFunc(peers, func(x peer) bool { return x.name == pr.name })]
		for _, form := range pe.forms {
			name := pr.name + " " + form
			argv := append(slices.Clone(pr.argv), "serve", form)
			servers = append(servers, server{peerEchoRow{column: pr.name, form: form, server: name}, func() (echoResult, error) { return measurePeerEcho(name, argv, cfg) }})
		}
	}
	results := make([][]echoResult, len(servers))
	errs := make([]error, len(servers))
	for k := range m.rounds {
		for i := range servers {
			j := (i + k) % len(servers)
			p.step(j+1, len(servers), "echo", fmt.Sprintf("%d/%d", k+1, m.rounds), servers[j].row.server)
			r, err := servers[j].measure()
			if err != nil {
				errs[j] = err
				continue
			}
			results[j] = append(results[j], r)
		}
	}
	var out []peerEchoRow
	for i, s := range servers {
		row := s.row
		rs := results[i]
		if len(rs) == 0 {
			row.err = fmt.Sprint(errs[i])
			out = append(out, row)
			continue
		}
		med := func(f func(echoResult) float64) float64 {
			xs := make([]float64, len(rs))
			for i, r := range rs {
				xs[i] = f(r)
			}
			return mid(xs)
		}
		row.rounds = len(rs)
		row.reqPerSec = med(func(r echoResult) float64 { return r.reqPerSec })
		row.p50 = time.Duration(med(func(r echoResult) float64 { return float64(r.p50) }))
		row.p99 = time.Duration(med(func(r echoResult) float64 { return float64(r.p99) }))
		row.p999 = time.Duration(med(func(r echoResult) float64 { return float64(r.p999) }))
		row.cpuPerReq = med(func(r echoResult) float64 { return r.cpuPerReq })
		out = append(out, row)
	}
	_, placed := echoCPUs()
	how := fmt.Sprintf("Echo servers: %d connections x %s, each a closed loop of write and read back, from the bench's Go load client (a child process, GOMAXPROCS=1); %s; each figure the median of %d runs of %v after a %v warm-up. Server CPU per request is the server process's CPU clock (all its threads) over the window.",
		cfg.conns, formatSize(cfg.size), placed, m.rounds, m.window, m.warmup)
	return out, how
}

// measurePeerEcho measures a peer's echo server (argv, which prints
// "addr HOST:PORT" once listening and exits when its stdin closes) under
// cfg's load from the bench's own load client, as measureEcho does for
// aio's: server on the first CPU, client on the second.
func measurePeerEcho(name string, argv []string, cfg echoConfig) (echoResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return echoResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), echoLimit(cfg))
	defer cancel()
	srvCPUs, clCPU, pinned := echoPlace(1)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	srv, err := startChild(cmd, "echo server "+name, srvCPUs)
	if err != nil {
		return echoResult{}, fmt.Errorf("echo server %s: start: %w", name, err)
	}
	defer srv.stop()
	pid := srv.cmd.Process.Pid
	var cpu0, cpu1 int64
	var err0, err1 error
	cr, err := driveEcho(ctx, name, exe, srv, cfg, clCPU,
		func() error { cpu0, err0 = peerCPUTime(pid); return nil },
		func() error { cpu1, err1 = peerCPUTime(pid); return nil })
	if err != nil {
		return echoResult{}, err
	}
	if err := errors.Join(err0, err1); err != nil {
		return echoResult{}, fmt.Errorf("%s: the server's CPU time: %w", name, err)
	}
	return echoResult{
		server: name, requests: cr.Requests,
		reqPerSec: float64(cr.Requests) / cr.Elapsed.Seconds(),
		cpuPerReq: float64(cpu1-cpu0) / float64(cr.Requests), cpuSource: "clock",
		allocsReq: -1,
		p50:       cr.P50, p99: cr.P99, p999: cr.P999, pmax: cr.Max,
		pinned: pinned,
	}, nil
}

// peerCPUTime is a process's CPU time in ns: its CPU clock, or where that
// cannot be read, /proc/<pid>/stat's utime+stime (in clock ticks of
// 10 ms, USER_HZ on Linux).
func peerCPUTime(pid int) (int64, error) {
	if ns, err := processCPUTime(pid); err == nil {
		return ns, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseProcStatCPU(string(b))
}

// parseProcStatCPU reads utime and stime (fields 14 and 15) from the text
// of /proc/<pid>/stat, in ns at 100 ticks a second.
func parseProcStatCPU(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')') // the command may hold spaces and parentheses
	f := strings.Fields(stat[i+1:])
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("/proc/<pid>/stat: unexpected %q", tail(stat, 80))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return (ut + st) * int64(10*time.Millisecond), nil
}

// startChild starts cmd on cpus as an echoChild (its stdin, its stdout's
// lines, its stderr kept): startEchoChild for a command that is not this
// binary.
func startChild(cmd *exec.Cmd, name string, cpus []int) (*echoChild, error) {
	cmd.WaitDelay = 2 * time.Second
	ch := &echoChild{name: name, cmd: cmd, lines: make(chan string, 4), stderr: &lockedBuffer{}}
	cmd.Stderr = ch.stderr
	var err error
	if ch.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		ch.stdin.Close()
		return nil, err
	}
	if err := startOnCPUs(cmd, cpus); err != nil {
		ch.stdin.Close()
		out.Close()
		return nil, err
	}
	go func() {
		defer close(ch.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch.lines <- sc.Text()
		}
	}()
	return ch, nil
}
