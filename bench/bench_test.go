package main

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	childMain() // the memory workload re-executes this binary; the child exits here
	os.Exit(m.Run())
}

// TestQuick runs every workload at its -quick size, as CI does: each must
// finish and compute right results (the program exits 1 otherwise), and the
// table must have a row for each.
func TestQuick(t *testing.T) {
	var stdout, stderr bytes.Buffer
	start := time.Now()
	if code := run([]string{"-quick"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	t.Logf("took %v\n%s", time.Since(start), &stdout)
	out := stdout.String()
	for _, w := range workloads() {
		title := strings.ReplaceAll(w.title, "{n}", formatCount(w.quickN))
		if !strings.Contains(out, title) {
			t.Errorf("no row for workload %s (%q)", w.name, w.title)
		}
	}
	if !strings.Contains(out, "exact order: yes, early: 0") {
		t.Errorf("the timer-order notes do not report exact order:\n%s", out)
	}
	for _, s := range []string{"targets: " + targetsPath, "Legend:", "Summary: ", "Run time: "} {
		if !strings.Contains(out, s) {
			t.Errorf("the output has no %q", s)
		}
	}
	if stderr.Len() != 0 { // not a terminal: no progress
		t.Errorf("standard error:\n%s", &stderr)
	}
}

func TestMarkdownAndFilter(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-quick", "-markdown", "-run", "^callback$"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, &stderr)
	}
	var table []string
	for line := range strings.Lines(stdout.String()) {
		if strings.HasPrefix(line, "|") {
			table = append(table, line)
		}
	}
	if len(table) != 3 { // header, separator, one row
		t.Fatalf("want a markdown table of one row, got:\n%s", &stdout)
	}
	if !strings.HasPrefix(table[2], "| callback sched+run |") {
		t.Errorf("unexpected row: %s", table[2])
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-run", "("}, {"-count", "0"}, {"-run", "^no such workload$"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
}

// TestOrderCheck checks the timer-order check itself on small cases.
func TestOrderCheck(t *testing.T) {
	deadlines := []time.Duration{3, 1, 2, 1, 3}
	want := []int{1, 3, 2, 0, 4}
	if got := expectedOrder(deadlines); !slices.Equal(got, want) {
		t.Fatalf("expectedOrder = %v, want %v", got, want)
	}
	for _, c := range []struct {
		fired []int
		bad   int
	}{
		{[]int{1, 3, 2, 0, 4}, 0},
		{[]int{3, 1, 2, 0, 4}, 2}, // equal deadlines fired out of scheduling order
		{[]int{1, 3, 2, 0}, 1},    // one timer never fired
	} {
		if got := outOfPlace(c.fired, want); got != c.bad {
			t.Errorf("outOfPlace(%v) = %d, want %d", c.fired, got, c.bad)
		}
	}
	for _, c := range []struct {
		fired         []int
		bad, deadline int
	}{
		{[]int{1, 3, 2, 0, 4}, 0, 0},
		{[]int{3, 1, 2, 0, 4}, 1, 0}, // 1 fired after 3: same deadline, scheduled later
		{[]int{0, 4, 1, 3, 2}, 3, 3}, // 1, 3 and 2 fired after 0, due later
		{[]int{4, 0, 1, 3, 2}, 4, 3},
	} {
		if got := outOfOrder(c.fired, deadlines, false); got != c.bad {
			t.Errorf("outOfOrder(%v) = %d, want %d", c.fired, got, c.bad)
		}
		if got := outOfOrder(c.fired, deadlines, true); got != c.deadline {
			t.Errorf("outOfOrder(%v) by deadline alone = %d, want %d", c.fired, got, c.deadline)
		}
	}
}

func TestMedian(t *testing.T) {
	m := median([]result{{value: 5, allocs: 1}, {value: 1, allocs: 0}, {value: 3, allocs: 2}, {value: 100, allocs: 0}})
	if m.value != 4 || m.allocs != 0.5 {
		t.Errorf("median = %+v, want value 4, allocs 0.5", m)
	}
	c := median([]result{{value: 0, note: "fine"}, {value: 2, note: "bad"}, {value: 0, note: "fine"}})
	if c.note != "bad" {
		t.Errorf("a check's note must come from its worst run, got %q", c.note)
	}
}
