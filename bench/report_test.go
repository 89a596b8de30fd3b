package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fakeRows returns the table's rows for every workload, held to the targets
// of targets.json, as measureWorkload builds them, from fake results
// instead of measurements: ns per op are aioNs and baseNs, allocations
// fractional on both sides, notes as long as the real ones.
func fakeRows(t *testing.T, aioNs, baseNs float64) []row {
	t.Helper()
	ws := workloads()
	targets, err := parseTargets(targetsJSON, ws)
	if err != nil {
		t.Fatal(err)
	}
	fake := func(u unit, aio bool) func(int) (result, error) {
		return func(int) (result, error) {
			switch u {
			case bytesPerOp:
				return result{value: 3301, allocs: -1}, nil
			case check:
				if aio {
					return result{short: "in order", note: "exact order: yes, early: 0, max late: 48.4 ms"}, nil
				}
				return result{value: 99_999, short: inOrder(100_000, 99_999),
					note: "100% out of order (100% by deadline alone), early: 0, max late: 151.7 ms " +
						"(scheduling overran the lead time: not comparable)"}, nil
			case latency:
				v := 21.7 * float64(time.Millisecond)
				if !aio {
					v = 0.2 * float64(time.Millisecond)
				}
				return result{value: v, allocs: -1, note: "p50 0.1 ms, p99 21.7 ms, max 38.5 ms"}, nil
			}
			if aio {
				return result{value: aioNs, allocs: 2.87}, nil
			}
			return result{value: baseNs, allocs: 2.08}, nil
		}
	}
	var rows []row
	for _, w := range ws {
		w.target = targets[w.name]
		w.aio = fake(w.unit, true)
		for i := range w.bases {
			w.bases[i].run = fake(w.unit, false)
		}
		rs, err := measureWorkload(w, options{count: 1, quick: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, rs...)
	}
	return rows
}

// render returns the whole output for rows.
func render(rows []row, o options) string {
	var b bytes.Buffer
	printHeader(&b, o)
	printReport(&b, rows, o, 83*time.Second)
	return b.String()
}

// TestPlainWidth checks that the plain output, the table and all the text
// under it, fits a 100-column terminal, for the real rows of every
// workload with figures small and large.
func TestPlainWidth(t *testing.T) {
	for _, c := range []struct{ aio, base float64 }{
		{1.23, 4.56},     // aio faster: most targets met
		{99_999, 12_345}, // aio slow: most missed
		{12_345, 99_999}, // the other way
		{0.001, 99_999},  // a large ratio's inverse
		{99_999, 0.0123}, // a ratio in the millions
	} {
		rows := fakeRows(t, c.aio, c.base)
		for _, o := range []options{{count: 7}, {count: 1, quick: true}} {
			out := render(rows, o)
			for i, line := range strings.Split(out, "\n") {
				if n := utf8.RuneCountInString(line); n > lineWidth {
					t.Errorf("aio %v ns, Go %v ns: line %d is %d columns:\n%s", c.aio, c.base, i+1, n, line)
				}
			}
			for _, w := range workloads() {
				if !strings.Contains(out, titleOf(w, w.quickN)) {
					t.Errorf("no row for %s", w.name)
				}
			}
			if testing.Verbose() && c.aio == 99_999 && !o.quick {
				t.Logf("\n%s", out)
			}
		}
	}
}

// TestTableColumns checks the cells of a few rows.
func TestTableColumns(t *testing.T) {
	rows := fakeRows(t, 12.34, 5)
	var b bytes.Buffer
	printTable(&b, rows, false)
	lines := strings.Split(b.String(), "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "workload aio Go baseline Go aio/Go allocs target status" {
		t.Errorf("header: %q", lines[0])
	}
	want := map[string][]string{
		"callback sched+run": {"12.3 ns", "func slice", "5.00 ns", "2.47", "2.9/2.1", "<=30 ns, 0 alloc", "MISS"},
		"timer order (20k)":  {"in order", "AfterFunc", "0% in order", "-", "no faults", "ok"},
		"overload, 1 flood":  {"21.7 ms", "idle loop", "0.20 ms", "108", "p99 <=5 ms", "MISS"},
		"memory per task":    {"3301 B", "goroutine", "3301 B", "1.00", "<= Go", "ok"},
	}
	for title, cells := range want {
		found := false
		for _, l := range lines {
			if !strings.HasPrefix(l, title+" ") {
				continue
			}
			found = true
			for _, c := range cells {
				if !strings.Contains(l, c) {
					t.Errorf("row %q has no %q", l, c)
				}
			}
		}
		if !found {
			t.Errorf("no row %q in\n%s", title, &b)
		}
	}
}

// TestLegend checks that the legend explains every column and the words of
// the table, in both forms.
func TestLegend(t *testing.T) {
	terms := map[string]bool{}
	for _, e := range legend() {
		terms[e[0]] = true
	}
	for _, h := range header {
		if h == "Go" {
			h = "Go baseline" // explained together
		}
		if !terms[h] {
			t.Errorf("the legend does not explain the column %q", h)
		}
	}
	rows := fakeRows(t, 12, 5)
	for _, markdown := range []bool{false, true} {
		out := render(rows, options{count: 7, markdown: markdown})
		_, leg, ok := strings.Cut(out, "Legend:")
		if !ok {
			t.Fatalf("markdown %v: no legend in\n%s", markdown, out)
		}
		for _, s := range []string{"ns = nanoseconds per operation", "B = bytes per task",
			"below 1 aio is faster", "check row", "p50", "p99", "MISS", "ok = target met",
			"median", targetsPath} {
			if !strings.Contains(leg, s) {
				t.Errorf("markdown %v: the legend does not say %q", markdown, s)
			}
		}
		if !strings.Contains(out, "targets: "+targetsPath) {
			t.Errorf("markdown %v: the output does not say where the targets come from", markdown)
		}
	}
}

// TestNotes checks that the long verdicts are under the table, whole.
func TestNotes(t *testing.T) {
	rows := fakeRows(t, 600, 500)
	var b bytes.Buffer
	printNotes(&b, rows, false)
	out := strings.Join(strings.Fields(b.String()), " ") // undo the wrapping
	for _, s := range []string{
		"aio: exact order: yes, early: 0, max late: 48.4 ms",
		"AfterFunc: 100% out of order (100% by deadline alone)",
		"aio: p50 0.1 ms, p99 21.7 ms, max 38.5 ms",
		"stretch goal, faster than 2 goroutines: missed (aio/Go 1.20)",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("the notes do not say %q:\n%s", s, &b)
		}
	}
}

func TestSummaryCounting(t *testing.T) {
	tgt := &target{short: "<=30 ns", text: "fast"}
	w := func(name string) workload { return workload{name: name, unit: nsPerOp} }
	rows := []row{
		{w: w("a"), title: "a", first: true, target: tgt, status: "ok"},
		{w: w("b"), title: "b", first: true, target: tgt, status: "MISS", aio: result{value: 40}, base: result{value: 20}},
		{w: w("b"), title: "b", baseName: "second baseline"}, // no target
		{w: w("c"), title: "c", first: true},                 // no target
		{w: w("d"), title: "d", first: true, target: tgt, status: "ok", stretch: "missed"},
		{w: w("e"), title: "e", first: true, target: tgt, status: "MISS", aio: result{value: 50}, base: result{value: 25}},
	}
	tl := countTargets(rows)
	if tl.targets != 4 || len(tl.misses) != 2 || tl.misses[0].w.name != "b" || tl.misses[1].w.name != "e" {
		t.Fatalf("countTargets = %d targets, misses %v", tl.targets, tl.misses)
	}
	head, misses, rerun, tail := summary(rows, options{count: 7}, 83*time.Second)
	if want := "Summary: 2 of 4 targets met; missed: b, e."; head != want {
		t.Errorf("head = %q, want %q", head, want)
	}
	if len(misses) != 2 || !strings.HasPrefix(misses[0], "b (b): aio 40.0 ns, aio/Go 2.00; target <=30 ns: fast") {
		t.Errorf("misses = %q", misses)
	}
	if want := "go run ./bench -run '^(b|e)$' -count 15"; rerun != want {
		t.Errorf("rerun = %q, want %q", rerun, want)
	}
	all := strings.Join(tail, "\n")
	for _, s := range []string{"1.5-3x", "same run", "-count", "Run time: 1m23s", expectedRunTime} {
		if !strings.Contains(all, s) {
			t.Errorf("the summary does not say %q:\n%s", s, all)
		}
	}

	head, misses, rerun, _ = summary(rows[:1], options{count: 7}, time.Second)
	if head != "Summary: 1 of 1 targets met, none missed." || misses != nil || rerun != "" {
		t.Errorf("all met: %q, %q, %q", head, misses, rerun)
	}
	head, _, _, tail = summary(rows[3:4], options{count: 1, quick: true}, time.Second)
	if head != "Summary: no target among the workloads run." {
		t.Errorf("no target: %q", head)
	}
	if !strings.Contains(strings.Join(tail, " "), "-quick run") {
		t.Errorf("a -quick summary does not say so: %q", tail)
	}
}

func TestRerunCommandTooLong(t *testing.T) {
	var rows []row
	for _, w := range workloads() {
		rows = append(rows, row{w: w})
	}
	if got := rerunCommand(rows); got != "go run ./bench -count 15" {
		t.Errorf("rerunCommand of every workload = %q", got)
	}
}

func TestWrap(t *testing.T) {
	text := strings.Repeat("word ", 60)
	got := wrap(text, "  - ", "    ")
	lines := strings.Split(got, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "  - word") || !strings.HasPrefix(lines[1], "    word") {
		t.Errorf("wrap:\n%s", got)
	}
	for _, l := range lines {
		if utf8.RuneCountInString(l) > lineWidth {
			t.Errorf("line of %d columns", utf8.RuneCountInString(l))
		}
	}
	if n := strings.Count(got, "word"); n != 60 {
		t.Errorf("%d words, want 60", n)
	}
}

func TestFormatAllocs(t *testing.T) {
	for _, c := range []struct {
		a, b float64
		want string
	}{
		{0, 0, "0/0"}, {0.001, 1.002, "0/1"}, {2.87, 0, "2.9/0"}, {0.01, 12.4, "0.01/12"},
	} {
		if got := formatAllocPair(nsPerOp, c.a, c.b); got != c.want {
			t.Errorf("formatAllocPair(%v, %v) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
	if got := formatAllocPair(bytesPerOp, 1, 1); got != "-" {
		t.Errorf("allocations of a memory row: %q", got)
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, false)
	p.step(1, 2, "callback", "1/7", "aio")
	p.clear()
	if b.Len() != 0 {
		t.Errorf("progress on a writer that is not a terminal: %q", &b)
	}

	p.live = true // as on a terminal
	p.step(3, 15, "timer-order", "2/7", "AfterFunc")
	p.step(3, 15, "timer-order", "warm-up", "aio")
	p.clear()
	out := b.String()
	for _, s := range []string{"\rbench: workload 3 of 15, timer-order: repetition 2 of 7, AfterFunc (0s)",
		"\rbench: workload 3 of 15, timer-order: warm-up, aio (0s)"} {
		if !strings.Contains(out, s) {
			t.Errorf("progress %q does not show %q", out, s)
		}
	}
	if !strings.HasSuffix(out, "\r") || strings.Contains(out, "\n") {
		t.Errorf("progress does not end on a cleared line: %q", out)
	}
	p.step(1, 1, strings.Repeat("x", 200), "1/1", "aio")
	out = b.String()
	last := out[strings.LastIndex(out, "\r")+1:]
	if utf8.RuneCountInString(last) > progressWidth {
		t.Errorf("progress line of %d columns", utf8.RuneCountInString(last))
	}

	b.Reset()
	p = newProgress(&b, true)
	p.logf("bench: %s ...", "callback")
	if b.String() != "bench: callback ...\n" {
		t.Errorf("-v: %q", &b)
	}
}

// TestHelp checks that the usage text states the run time.
func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-h"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d", code)
	}
	usage := strings.Join(strings.Fields(stderr.String()), " ")
	if !strings.Contains(usage, strings.Join(strings.Fields(expectedRunTime), " ")) {
		t.Errorf("the usage does not state the run time:\n%s", &stderr)
	}
	for _, w := range workloads() {
		if !strings.Contains(usage, w.name+" "+titleOf(w, w.n)) {
			t.Errorf("the usage does not list %s", w.name)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("usage on standard output: %q", &stdout)
	}
}
