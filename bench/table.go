package main

// The output: a header, the table, notes for the rows whose figures do not
// fit a cell, a legend, and a summary. The plain form fits lineWidth
// columns; the markdown form (-markdown) carries the same text.

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// lineWidth is the width the plain output fits: a 100-column terminal.
const lineWidth = 100

// A row is one line of the table: aio beside one baseline.
type row struct {
	w        workload
	title    string // the workload's title, {n} replaced
	first    bool   // the workload's first row: the one with its title and target
	aio      result
	baseName string
	base     result
	target   *target // nil: none
	status   string  // "ok", "MISS", or "" without a target
	stretch  string  // for a target with a stretch goal: "met" or "missed"
}

var header = []string{"workload", "aio", "Go baseline", "Go", "aio/Go", "allocs", "target", "status"}

// numeric marks the columns that are right-aligned.
var numeric = []bool{false, true, false, true, true, true, false, false}

func (r row) cells() []string {
	title, tgt := "", "-"
	if r.first {
		title = r.title
	}
	if r.target != nil {
		tgt = r.target.short
	}
	return []string{
		title,
		formatValue(r.w.unit, r.aio),
		r.baseName,
		formatValue(r.w.unit, r.base),
		formatRatio(r.w.unit, r.aio, r.base),
		formatAllocPair(r.w.unit, r.aio.allocs, r.base.allocs),
		tgt,
		r.status,
	}
}

func formatValue(u unit, r result) string {
	switch u {
	case check:
		if r.short != "" {
			return r.short
		}
		return r.note
	case latency:
		return formatMs(r.value)
	case bytesPerOp:
		return fmt.Sprintf("%.0f B", r.value)
	}
	switch v := r.value; {
	case v < 10:
		return fmt.Sprintf("%.2f ns", v)
	case v < 100:
		return fmt.Sprintf("%.1f ns", v)
	default:
		return fmt.Sprintf("%.0f ns", v)
	}
}

// formatMs writes a duration in ns as milliseconds.
func formatMs(ns float64) string {
	v := ns / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

func formatRatio(u unit, a, b result) string {
	if u == check || b.value <= 0 {
		return "-"
	}
	switch r := a.value / b.value; {
	case r < 10:
		return fmt.Sprintf("%.2f", r)
	case r < 100:
		return fmt.Sprintf("%.1f", r)
	case r < 10000:
		return fmt.Sprintf("%.0f", r)
	default:
		return fmt.Sprintf("%.0e", r) // 1e+05: the width of the column
	}
}

// formatAllocPair writes the allocations per op of aio and the baseline as
// "aio/Go", or "-" where they are not measured.
func formatAllocPair(u unit, a, b float64) string {
	if u != nsPerOp || (a < 0 && b < 0) {
		return "-"
	}
	return formatAllocs(a) + "/" + formatAllocs(b)
}

func formatAllocs(a float64) string {
	switch {
	case a < 0:
		return "-"
	case a < allocEpsilon:
		return "0"
	case math.Abs(a-math.Round(a)) < allocEpsilon || a >= 10:
		return fmt.Sprintf("%.0f", a)
	default:
		return fmt.Sprintf("%.2g", a) // 2.9, 0.5, 0.01
	}
}

// printReport prints everything but the header: the table, the notes, the
// legend and the summary.
func printReport(w io.Writer, rows []row, o options, took time.Duration) {
	printTable(w, rows, o.markdown)
	printNotes(w, rows, o.markdown)
	printLegend(w, o.markdown)
	printSummary(w, rows, o, took)
}

func printHeader(w io.Writer, o options) {
	mode := "full run"
	if o.quick {
		mode = "-quick run"
	}
	lines := []string{
		fmt.Sprintf("aio bench, %s: %s %s/%s, %d CPUs, GOMAXPROCS=%d, %s", mode, runtime.Version(),
			runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel()),
		fmt.Sprintf("each figure is the median of %d repetitions; targets: %s", o.count, targetsPath),
	}
	if o.count == 1 {
		lines[1] = fmt.Sprintf("each figure is from 1 repetition; targets: %s", targetsPath)
	}
	if o.markdown {
		for _, l := range lines {
			fmt.Fprintf(w, "_%s_  \n", l)
		}
		fmt.Fprintln(w)
		return
	}
	for _, l := range lines {
		fmt.Fprintln(w, wrap(l, "", "    "))
	}
	fmt.Fprintln(w)
}

// printTable prints rows as aligned text, or as a markdown table.
func printTable(w io.Writer, rows []row, markdown bool) {
	lines := [][]string{header}
	for _, r := range rows {
		lines = append(lines, r.cells())
	}
	if markdown {
		for i, cells := range lines {
			fmt.Fprintf(w, "| %s |\n", strings.Join(escapeAll(cells), " | "))
			if i == 0 {
				seps := make([]string, len(cells))
				for j := range cells {
					seps[j] = "---"
					if numeric[j] {
						seps[j] = "---:"
					}
				}
				fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
			}
		}
		return
	}
	widths := make([]int, len(header))
	for _, cells := range lines {
		for j, c := range cells {
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	for i, cells := range lines {
		var b strings.Builder
		for j, c := range cells {
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c))
			if j > 0 {
				b.WriteString("  ")
			}
			if numeric[j] {
				b.WriteString(pad + c)
			} else {
				b.WriteString(c + pad)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if i == 0 {
			total := 2 * (len(widths) - 1)
			for _, wd := range widths {
				total += wd
			}
			fmt.Fprintln(w, strings.Repeat("-", total))
		}
	}
}

func escapeAll(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = escapeMarkdown(c)
	}
	return out
}

// escapeMarkdown escapes what markdown would take for markup in the text
// of a cell or a list.
func escapeMarkdown(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`).Replace(s)
}

// A noteGroup is what the cells leave out for one workload.
type noteGroup struct {
	title string
	lines []string
}

// notes returns what the cells leave out: what a workload whose cells are
// abbreviated measures, the full verdict of a check, the distribution of a
// latency, and the outcome of a stretch goal.
func notes(rows []row) []noteGroup {
	var gs []noteGroup
	for _, r := range rows {
		if r.first {
			gs = append(gs, noteGroup{title: r.title})
		}
		if len(gs) == 0 {
			continue // not from measureWorkload: no first row
		}
		g := &gs[len(gs)-1]
		if r.first && r.aio.note != "" {
			g.lines = append(g.lines, r.w.about, "aio: "+r.aio.note)
		}
		if r.base.note != "" {
			g.lines = append(g.lines, r.baseName+": "+r.base.note)
		}
		if r.stretch != "" {
			g.lines = append(g.lines, fmt.Sprintf("stretch goal, faster than %s: %s (aio/Go %s)",
				r.baseName, r.stretch, formatRatio(r.w.unit, r.aio, r.base)))
		}
	}
	return slices.DeleteFunc(gs, func(g noteGroup) bool { return len(g.lines) == 0 })
}

func printNotes(w io.Writer, rows []row, markdown bool) {
	gs := notes(rows)
	if len(gs) == 0 {
		return
	}
	fmt.Fprintln(w)
	if markdown {
		fmt.Fprint(w, "Notes:\n\n")
		for _, g := range gs {
			fmt.Fprintf(w, "- **%s**\n", escapeMarkdown(g.title))
			for _, l := range g.lines {
				fmt.Fprintf(w, "  - %s\n", escapeMarkdown(l))
			}
		}
		return
	}
	fmt.Fprintln(w, "Notes:")
	for _, g := range gs {
		fmt.Fprintln(w, "  "+g.title)
		for _, l := range g.lines {
			fmt.Fprintln(w, wrap(l, "    ", "      "))
		}
	}
}

// legend explains the columns, their units, and the words of the table.
func legend() [][2]string {
	return [][2]string{
		{"workload", "what is measured, with the operations per repetition in parentheses " +
			"where they matter; go run ./bench -h describes each workload and gives its -run name"},
		{"aio", "aio's figure: ns = nanoseconds per operation, B = bytes per task, " +
			"ms = milliseconds (p99 of timer lateness); in a check row, what was seen"},
		{"Go baseline", "plain Go doing the same job, measured in the same run, interleaved " +
			"with aio; Go is its figure, in the same unit"},
		{"aio/Go", "aio's figure divided by the baseline's: below 1 aio is faster (or smaller), " +
			"above 1 slower. Compare this ratio across runs and machines, not the absolute figures"},
		{"allocs", "heap allocations per operation, aio's/the baseline's (0/1: none for aio, one for Go); " +
			"\"-\" where not measured"},
		{"target", "the project's target for aio, from " + targetsPath + " (\"-\": none): " +
			"<=30 ns = at most 30 ns per operation, 0 alloc = no allocation, < Go = below the " +
			"baseline, <= Go = no more than the baseline, (s) = with a stretch goal, in the notes"},
		{"status", "ok = target met in this run; MISS = target missed in this run " +
			"(see the summary); empty = no target"},
		{"check row", "timer order checks a guarantee rather than timing: timers fire in exact " +
			"(deadline, scheduling) order and none early. aio's cell says in order, or counts the " +
			"faults (a fault is a wrong result: the program exits 1); Go's gives the share of " +
			"timers that fired in order"},
		{"p50, p99", "the median and the 99th percentile of timer lateness: half, and 99 in 100, " +
			"of the timers ran at most that long after their deadline; max is the worst"},
		{"median", "each figure is the median of the repetitions (-count), after a warm-up " +
			"run; a check shows its worst repetition"},
	}
}

func printLegend(w io.Writer, markdown bool) {
	fmt.Fprintln(w)
	if markdown {
		fmt.Fprint(w, "Legend:\n\n")
		for _, e := range legend() {
			fmt.Fprintf(w, "- **%s**: %s\n", e[0], e[1])
		}
		return
	}
	fmt.Fprintln(w, "Legend:")
	const termWidth = 14
	indent := strings.Repeat(" ", 2+termWidth+1)
	for _, e := range legend() {
		fmt.Fprintln(w, wrap(e[1], fmt.Sprintf("  %-*s ", termWidth, e[0]), indent))
	}
}

// A tally counts the targets of a run.
type tally struct {
	targets int   // rows with a target
	misses  []row // rows whose target was missed
}

func countTargets(rows []row) tally {
	var t tally
	for _, r := range rows {
		if r.target == nil {
			continue
		}
		t.targets++
		if r.status != "ok" {
			t.misses = append(t.misses, r)
		}
	}
	return t
}

// summary returns the paragraphs of the summary: the count, the misses,
// what a miss means, and the run time.
func summary(rows []row, o options, took time.Duration) (head string, misses []string, rerun string, tail []string) {
	t := countTargets(rows)
	switch {
	case t.targets == 0:
		head = "Summary: no target among the workloads run."
	case len(t.misses) == 0:
		head = fmt.Sprintf("Summary: %d of %d targets met, none missed.", t.targets, t.targets)
	default:
		names := make([]string, len(t.misses))
		for i, r := range t.misses {
			names[i] = r.w.name
		}
		head = fmt.Sprintf("Summary: %d of %d targets met; missed: %s.",
			t.targets-len(t.misses), t.targets, strings.Join(names, ", "))
		for _, r := range t.misses {
			ratio := ""
			if q := formatRatio(r.w.unit, r.aio, r.base); q != "-" {
				ratio = ", aio/Go " + q
			}
			misses = append(misses, fmt.Sprintf("%s (%s): aio %s%s; target %s: %s",
				r.w.name, r.title, formatValue(r.w.unit, r.aio), ratio, r.target.short, r.target.text))
		}
		tail = append(tail, "On a shared or noisy machine a miss is not yet a regression: "+
			"absolute times move 1.5-3x from run to run, so compare aio/Go, the ratio to the "+
			"baseline measured in the same run, and rerun with a higher -count to confirm a "+
			"miss before believing it:")
		rerun = rerunCommand(t.misses)
	}
	if o.quick {
		tail = append(tail, "This was a -quick run: small sizes, one repetition, no warm-up. "+
			"It checks that every workload runs and computes right results; its figures are rough.")
	}
	tail = append(tail, fmt.Sprintf("Run time: %v. %s", took.Round(100*time.Millisecond), expectedRunTime))
	return head, misses, rerun, tail
}

// rerunCommand returns the command that measures the missed workloads
// again, with more repetitions.
func rerunCommand(misses []row) string {
	names := make([]string, len(misses))
	for i, r := range misses {
		names[i] = regexp.QuoteMeta(r.w.name)
	}
	cmd := fmt.Sprintf("go run ./bench -run '^(%s)$' -count 15", strings.Join(names, "|"))
	if utf8.RuneCountInString(cmd) > lineWidth-2 {
		cmd = "go run ./bench -count 15"
	}
	return cmd
}

func printSummary(w io.Writer, rows []row, o options, took time.Duration) {
	head, misses, rerun, tail := summary(rows, o, took)
	fmt.Fprintln(w)
	if o.markdown {
		fmt.Fprintf(w, "**%s**\n", head)
		if len(misses) > 0 {
			fmt.Fprintln(w)
			for _, m := range misses {
				fmt.Fprintf(w, "- %s\n", escapeMarkdown(m))
			}
		}
		for i, p := range tail {
			fmt.Fprintf(w, "\n%s\n", p)
			if i == 0 && rerun != "" {
				fmt.Fprintf(w, "\n    %s\n", rerun)
			}
		}
		return
	}
	fmt.Fprintln(w, wrap(head, "", "  "))
	for _, m := range misses {
		fmt.Fprintln(w, wrap(m, "  - ", "    "))
	}
	for i, p := range tail {
		fmt.Fprintln(w)
		fmt.Fprintln(w, wrap(p, "", ""))
		if i == 0 && rerun != "" {
			fmt.Fprintln(w, "  "+rerun)
		}
	}
}

// wrap fills text into lines of at most lineWidth columns, the first
// starting with first and the others with indent. A word longer than a
// line is left whole.
func wrap(text, first, indent string) string {
	var b strings.Builder
	line := first
	empty := true // nothing but the prefix on line yet
	for _, word := range strings.Fields(text) {
		switch {
		case empty:
			line += word
			empty = false
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= lineWidth:
			line += " " + word
		default:
			b.WriteString(line + "\n")
			line = indent + word
		}
	}
	b.WriteString(line)
	return b.String()
}
