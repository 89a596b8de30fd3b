package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The recorded outputs in testdata/peers/: each peer program's -quick
// output (bench COUNT name=N,...), and the bench's -json output for the
// same workloads (aio.json), so that these tests need no peer installed.

func readPeerSample(t *testing.T, name string) []peerRecord {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "peers", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := parsePeerOutput(name, f)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func readAIOSample(t *testing.T) []record {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "peers", "aio.json"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []record
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

// samplePeerRuns returns the recorded peers as runs, and a fifth peer that
// was skipped.
func samplePeerRuns(t *testing.T) []peerRun {
	var runs []peerRun
	for _, p := range peers {
		pr := peerRun{name: p.name, version: "v", recs: map[string]peerRecord{}}
		for _, r := range readPeerSample(t, p.name) {
			pr.recs[r.Workload] = r
		}
		runs = append(runs, pr)
	}
	return append(runs, peerRun{name: "skipped", skipped: "not installed: run apt-get install -y skipped", recs: map[string]peerRecord{}})
}

// Every recorded peer output parses, with a figure for every workload of
// the comparison, in the unit the bench uses for it; a workload a peer
// does not have is a skip record, not an error.
func TestParsePeerOutputRecorded(t *testing.T) {
	for _, p := range peers {
		recs := readPeerSample(t, p.name)
		for _, w := range peerWorkloads {
			i := slices.IndexFunc(recs, func(r peerRecord) bool { return r.Workload == w.name })
			if i < 0 {
				t.Errorf("%s: no record of %s", p.name, w.name)
				continue
			}
			r := recs[i]
			want := nsPerOp.String()
			if w.name == "timer-order" {
				want = check.String()
			}
			if r.Unit != want || r.Skip != "" || r.Error != "" || r.N != w.quickN || r.Runs != 1 {
				t.Errorf("%s: %s: %+v, want unit %q, n %d, 1 run", p.name, w.name, r, want, w.quickN)
			}
			if want == nsPerOp.String() && !(r.Value > 0) {
				t.Errorf("%s: %s: figure %v", p.name, w.name, r.Value)
			}
		}
	}
	recs := readPeerSample(t, "tokio")
	if last := recs[len(recs)-1]; last.Workload != "echo" || last.Skip == "" {
		t.Errorf("tokio's unknown workload: %+v, want a skip record", last)
	}
}

// A malformed line is an error naming the peer and the line, never a
// record with a made-up figure.
func TestParsePeerOutputBad(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not JSON", `{"peer":"node","workload":"chain"`, "line 1"},
		{"another peer", `{"peer":"tokio","workload":"chain","unit":"ns per op","value":1}`, `peer "tokio"`},
		{"no workload", `{"peer":"node","unit":"ns per op","value":1}`, "no workload"},
		{"no unit", `{"peer":"node","workload":"chain","value":1}`, "want a unit"},
		{"negative", "\n" + `{"peer":"node","workload":"chain","unit":"ns per op","value":-3}`, "line 2"},
		{"unknown field", `{"peer":"node","workload":"chain","unit":"ns per op","value":1,"ns":2}`, "unknown field"},
		{"a string figure", `{"peer":"node","workload":"chain","unit":"ns per op","value":"fast"}`, "line 1"},
	} {
		_, err := parsePeerOutput("node", strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "node: ") {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
	recs, err := parsePeerOutput("node", strings.NewReader("\n"+`{"peer":"node","workload":"chain","error":"wrong count"}`+"\n\n"))
	if err != nil || len(recs) != 1 || recs[0].Error != "wrong count" {
		t.Errorf("an error record: %+v, %v", recs, err)
	}
}

// The peers are told each workload's size: the quick or the full one.
func TestPeerSpec(t *testing.T) {
	ws := []peerWorkload{{"chain", "callbacks", 500, 50}, {"group", "tasks", 10, 10}}
	if got := peerSpec(ws, false); got != "chain=500,group=10" {
		t.Errorf("full: %q", got)
	}
	if got := peerSpec(ws, true); got != "chain=50,group=10" {
		t.Errorf("quick: %q", got)
	}
	re := regexp.MustCompile("^(chain|queue)$")
	if got := selectPeerWorkloads(re); len(got) != 2 || got[0].name != "chain" || got[1].name != "queue" {
		t.Errorf("selectPeerWorkloads: %+v", got)
	}
}

// The table has a row per workload with aio's and its first baseline's
// figures from the bench's records, each peer's figure and its ratio to
// aio, "-" where a peer has none, a note per peer, and the skipped peer
// with its reason.
func TestPeerTable(t *testing.T) {
	recs := readAIOSample(t)
	runs := samplePeerRuns(t)
	rows, notes := buildPeerRows(peerWorkloads, recs, runs)
	if len(rows) != len(peerWorkloads) {
		t.Fatalf("%d rows, want %d", len(rows), len(peerWorkloads))
	}
	for _, r := range rows {
		i := slices.IndexFunc(recs, func(rc record) bool { return rc.Workload == r.name })
		if r.values[colAIO] != recs[i].AIO || r.values[colGo] != recs[i].Base || r.baseName != recs[i].Baseline {
			t.Errorf("%s: aio %v Go %v (%s), want the first record's %+v", r.name, r.values[colAIO], r.values[colGo], r.baseName, recs[i])
		}
		if !math.IsNaN(r.values["skipped"]) {
			t.Errorf("%s: the skipped peer has a figure", r.name)
		}
		if len(notes[r.name]) != len(peers) {
			t.Errorf("%s: notes %q, want one per peer", r.name, notes[r.name])
		}
	}
	submit := rows[slices.IndexFunc(rows, func(r peerRow) bool { return r.name == "submit" })]
	if submit.baseName != "chan (1024)" {
		t.Errorf("submit's baseline %q, want its first, chan (1024)", submit.baseName)
	}

	tab := peerTable{header: "_head_", columns: []string{colAIO, colGo, "asyncio", "uvloop", "node", "tokio", "skipped"}, rows: rows, notes: notes,
		skipped: []string{"skipped: not installed"}, versions: []string{"node: v20"}}
	var buf bytes.Buffer
	printPeerTables(&buf, tab, []string{"peers-tasks.svg"})
	out := buf.String()
	for _, want := range []string{
		"| workload | aio | Go | asyncio | uvloop | node | tokio | skipped |",
		"|---|---:|---:|---:|---:|---:|---:|---:|",
		"(chan (1024))", "0 faults", "Versions: node: v20.", "![tasks](peers-tasks.svg)",
		"- skipped: not installed", "asyncio.TaskGroup",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "| ") && strings.Count(line, " | ") != len(tab.columns) {
			t.Errorf("a row of %d cells, want %d: %q", strings.Count(line, " | ")+1, len(tab.columns)+1, line)
		}
	}
	// The ratio in parentheses is the peer's figure over aio's.
	chain := rows[slices.IndexFunc(rows, func(r peerRow) bool { return r.name == "chain" })]
	want := formatPeerValue(chain.unit, chain.values["node"]) + formatTimes(chain.unit, chain.values["node"], chain.values[colAIO])
	if !strings.Contains(out, want) || !strings.Contains(want, "x)") {
		t.Errorf("the chain row lacks node's %q", want)
	}
}

// Figures print in ns, us or ms, a check as faults, a missing one as "-";
// a ratio applies to figures, not to checks.
func TestFormatPeerValue(t *testing.T) {
	ns, ck := nsPerOp.String(), check.String()
	for _, tc := range []struct {
		unit string
		v    float64
		want string
	}{
		{ns, 4.016, "4.02 ns"}, {ns, 58.2, "58.2 ns"}, {ns, 999, "999 ns"}, {ns, 2710, "2.71 us"},
		{ns, 1.5e6, "1.50 ms"}, {ns, math.NaN(), "-"}, {ck, 0, "0 faults"}, {ck, 19445, "19445 faults"},
	} {
		if got := formatPeerValue(tc.unit, tc.v); got != tc.want {
			t.Errorf("formatPeerValue(%q, %v) = %q, want %q", tc.unit, tc.v, got, tc.want)
		}
	}
	for _, tc := range []struct {
		unit   string
		v, aio float64
		want   string
	}{
		{ns, 100, 50, " (2x)"}, {ns, 75, 50, " (1.5x)"}, {ns, 4000, 50, " (80x)"}, {ns, 25, 100, " (0.25x)"},
		{ns, 1, 0, ""}, {ns, math.NaN(), 1, ""}, {ck, 5, 1, ""},
	} {
		if got := formatTimes(tc.unit, tc.v, tc.aio); got != tc.want {
			t.Errorf("formatTimes(%v, %v) = %q, want %q", tc.v, tc.aio, got, tc.want)
		}
	}
}

// The section goes between the markers, and nothing else of the document
// changes; writing it twice is writing it once; a document without the
// markers gets a heading and both at its end; a broken pair is an error.
func TestReplacePeerSection(t *testing.T) {
	doc := "# B\n\nbefore\n\n" + peersBegin + "\nold\n" + peersEnd + "\n\nafter\n"
	got, err := replacePeerSection(doc, "new table\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# B\n\nbefore\n\n" + peersBegin + "\nnew table\n" + peersEnd + "\n\nafter\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if again, _ := replacePeerSection(got, "new table\n"); again != got {
		t.Errorf("not idempotent: %q", again)
	}
	got, err = replacePeerSection("# B\n\ntext\n", "t")
	if err != nil || !strings.HasSuffix(got, "\n"+peersBegin+"\nt\n"+peersEnd+"\n") || !strings.HasPrefix(got, "# B\n\ntext\n\n## ") {
		t.Errorf("appended: %q, %v", got, err)
	}
	for _, bad := range []string{
		peersBegin + " no end",
		peersEnd + " no begin",
		peersEnd + " reversed " + peersBegin,
		peersBegin + peersEnd + peersBegin + peersEnd,
	} {
		if _, err := replacePeerSection(bad, "t"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// sampleEcho is an echo table of four servers, one of which failed.
func sampleEcho() []peerEchoRow {
	return []peerEchoRow{
		{column: colGo, form: "goroutines", server: echoGoNet, reqPerSec: 80e3, p50: 800 * time.Microsecond, p99: 9 * time.Millisecond, p999: 10 * time.Millisecond, cpuPerReq: 8000, rounds: 1},
		{column: colAIO, form: "stream", server: "aio stream", reqPerSec: 90e3, p50: 700 * time.Microsecond, p99: 3 * time.Millisecond, p999: 4 * time.Millisecond, cpuPerReq: 6000, rounds: 1},
		{column: "node", form: "proto", server: "node proto", reqPerSec: 20e3, p50: 3 * time.Millisecond, p99: 30 * time.Millisecond, p999: 40 * time.Millisecond, cpuPerReq: 40000, rounds: 1},
		{column: "tokio", form: "stream", server: "tokio stream", err: "echo server tokio stream: start: EOF"},
	}
}

// The echo table has each server's figures, its CPU over Go net's, and a
// failed server's error in its row.
func TestPeerEchoTable(t *testing.T) {
	var buf bytes.Buffer
	printPeerTables(&buf, peerTable{header: "_h_", echo: sampleEcho(), echoHow: "How."}, nil)
	out := buf.String()
	for _, want := range []string{
		"| Go | goroutines | 80.0k | 800 us | 9.00 ms | 10.0 ms | 8.00 us | 1.00 |",
		"| aio | stream | 90.0k | 700 us | 3.00 ms | 4.00 ms | 6.00 us | 0.75 |",
		"| node | proto | 20.0k | 3.00 ms | 30.0 ms | 40.0 ms | 40.0 us | 5.00 |",
		"| tokio | stream | failed: echo server tokio stream: start: EOF |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the echo table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "| workload |") {
		t.Errorf("a workload table without workloads:\n%s", out)
	}
}

// The log axis has a labelled tick at each power of ten in range, minor
// ones between, none outside.
func TestLogNsTicks(t *testing.T) {
	ts := logNsTicks(0, 3)
	var labels []string
	for _, tk := range ts {
		if tk.Value < 0 || tk.Value > 3 {
			t.Errorf("tick %v outside [0, 3]", tk.Value)
		}
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if want := []string{"1 ns", "10 ns", "100 ns", "1 us"}; !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if len(ts) != 4+3*8 {
		t.Errorf("%d ticks, want 4 major and 24 minor", len(ts))
	}
	if got := formatNsShort(1e7); got != "10 ms" {
		t.Errorf("formatNsShort(1e7) = %q", got)
	}
}

// The charts: one per workload family and two for the echo servers (the
// failed server left out), each a well-formed SVG document with its title
// and every series in its legend; written to the directory given; a chart
// of no data is an error, a missing figure is no bar.
func TestPeerCharts(t *testing.T) {
	runs := samplePeerRuns(t)
	rows, notes := buildPeerRows(peerWorkloads, readAIOSample(t), runs)
	tab := peerTable{columns: []string{colAIO, colGo, "asyncio", "uvloop", "node", "tokio", "skipped"}, rows: rows, notes: notes, echo: sampleEcho()}
	names, charts := peerCharts(tab)
	want := []string{"peers-callbacks.svg", "peers-tasks.svg", "peers-timers.svg", "peers-threads.svg", "peers-echo-cpu.svg", "peers-echo-latency.svg"}
	if !slices.Equal(names, want) {
		t.Fatalf("charts %q, want %q", names, want)
	}
	if g := charts[2].groups; !slices.Equal(g, []string{"timer"}) {
		t.Errorf("the timers chart has %q: the check (timer-order) is no bar", g)
	}
	if g := charts[5].groups; len(g) != 3 {
		t.Errorf("the latency chart has %q, want the 3 servers that ran", g)
	}
	dir := t.TempDir()
	written, err := writePeerCharts(dir, tab)
	if err != nil || !slices.Equal(written, want) {
		t.Fatalf("writePeerCharts: %q, %v", written, err)
	}
	for i, name := range written {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		root, text := svgText(t, name, b)
		if root != "svg" {
			t.Errorf("%s: root element %q", name, root)
		}
		for _, s := range append([]string{charts[i].title}, charts[i].series...) {
			if !strings.Contains(text, s) {
				t.Errorf("%s: no %q in its text", name, s)
			}
		}
	}
	if _, err := (barChart{title: "empty"}).svg(); err == nil {
		t.Error("a chart of no data: no error")
	}
}

// svgText checks that b is well-formed XML and returns its root element's
// name and all its character data.
func svgText(t *testing.T, name string, b []byte) (root string, text string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var sb strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed: %v", name, err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tk.Name.Local
			}
		case xml.CharData:
			sb.Write(tk)
		}
	}
	return root, sb.String()
}

// /proc/<pid>/stat's CPU times are read past the command, which may hold
// spaces and parentheses.
func TestParseProcStatCPU(t *testing.T) {
	stat := "4242 (node (x) y) S 1 4242 4242 0 -1 4194304 2071 0 0 0 150 25 0 0 20 0 11 0 123 0 0\n"
	ns, err := parseProcStatCPU(stat)
	if err != nil || ns != 175*int64(10*time.Millisecond) {
		t.Errorf("got %v, %v, want 1.75 s", time.Duration(ns), err)
	}
	if _, err := parseProcStatCPU("garbage"); err == nil {
		t.Error("garbage: no error")
	}
}

// go run ./bench -peers -quick runs where the peers are present and skips
// cleanly where not: it exits 0, prints the table with a row per selected
// workload, and names each peer that did not run with its reason. It
// installs nothing (-quick), leaves no process or goroutine behind, and
// writes no file.
func TestPeersQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the peer programs (and builds the tokio one): not with -short")
	}
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var stdout, stderr bytes.Buffer
	code := run([]string{"-peers", "-quick", "-run", "^(queue|group)$"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	out := stdout.String()
	t.Logf("%s\n%s", out, &stderr)
	for _, want := range []string{"| workload | aio | Go | asyncio | uvloop | node | tokio |", "| queue put/get |", "| group of 10k tasks |"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	for _, p := range peers {
		if !strings.Contains(out, p.name+": ") {
			t.Errorf("%s is neither among the versions nor among the skipped", p.name)
		}
	}
}

// Where installing is not allowed (-quick, -peers-install=false), a
// missing package is an error that says the command to run, and nothing
// is run.
func TestPeerAptRefuses(t *testing.T) {
	var logged []string
	e := &peerEnv{install: false, log: func(f string, a ...any) { logged = append(logged, f) }}
	err := e.apt("python3-uvloop", "nodejs")
	if err == nil || !strings.Contains(err.Error(), `"apt-get install -y python3-uvloop nodejs"`) {
		t.Errorf("error %v, want the command to run", err)
	}
	if len(logged) != 0 {
		t.Errorf("logged %q: nothing should have run", logged)
	}
}

// -charts and -peers-write imply -peers; each parse starts from the
// defaults (the flags are package variables).
func TestPeerFlags(t *testing.T) {
	for _, tc := range []struct {
		args              []string
		on, write, charts bool
	}{
		{[]string{"-charts"}, true, false, true},
		{[]string{"-peers-write"}, true, true, false},
		{[]string{"-peers", "-quick"}, true, false, false},
		{nil, false, false, false},
	} {
		if _, err := parseFlags(tc.args, io.Discard); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if peersFlags.on != tc.on || peersFlags.write != tc.write || peersFlags.charts != tc.charts {
			t.Errorf("%q: on %v write %v charts %v, want %v %v %v", tc.args, peersFlags.on, peersFlags.write, peersFlags.charts, tc.on, tc.write, tc.charts)
		}
	}
}
