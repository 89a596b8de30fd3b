package main

import (
	"strings"
	"testing"
	"time"
)

// TestTargetsFile checks the embedded bench/targets.json: it parses, and
// holds the project's targets.
func TestTargetsFile(t *testing.T) {
	targets, err := parseTargets(targetsJSON, workloads())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // workload: the table's short form
		"callback":        "<=30 ns, 0 alloc",
		"chain":           "<=30 ns",
		"timer":           "<=100 ns",
		"timer-order":     "no faults",
		"submit":          "< Go",
		"overload":        "p99 <=5 ms",
		"spawn":           "<=300 ns",
		"await":           "<=300 ns",
		"yield":           "<=300 ns",
		"pingpong":        "<=500 ns (s)",
		"group":           "< Go",
		"timeout":         "<=100 ns, 0 alloc",
		"waitfor":         "<=150 ns, 0 alloc",
		"chan":            "<=700 ns, 0 alloc",
		"queue":           "< Go, 0 alloc",
		"lock":            "<=30 ns, 0 alloc",
		"lock-contended":  "<=1000 ns, 0 alloc",
		"memory":          "<= Go",
		"echo-cpu-stream": "<=1.1x",
		"echo-p99-stream": "<= Go",
		"echo-cpu-proto":  "<=0.9x, 0 alloc",
		"echo-p99-proto":  "<= Go",
	}
	for name, short := range want {
		tg := targets[name]
		if tg == nil {
			t.Errorf("no target for %s", name)
			continue
		}
		if tg.short != short || tg.text == "" {
			t.Errorf("%s: short %q, text %q; want short %q and a text", name, tg.short, tg.text, short)
		}
	}
	for name := range targets {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected target for %s", name)
		}
	}
}

// TestParseTargets checks the parsing and the errors reported at start.
func TestParseTargets(t *testing.T) {
	ws := []workload{
		{name: "fast", unit: nsPerOp},
		{name: "small", unit: bytesPerOp},
		{name: "order", unit: check},
		{name: "late", unit: latency},
		{name: "untargeted", unit: nsPerOp},
	}
	good := `{"targets": [
		{"workload": "fast", "kind": "atMost", "ns": 30, "maxAllocs": 0, "text": "quick"},
		{"workload": "small", "kind": "noMoreThanBase", "text": "small"},
		{"workload": "order", "kind": "noFaults", "text": "in order"},
		{"workload": "late", "kind": "p99AtMost", "ms": 5, "text": "on time"}
	]}`
	targets, err := parseTargets([]byte(good), ws)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 4 || targets["untargeted"] != nil {
		t.Fatalf("targets = %v", targets)
	}
	if tg := targets["fast"]; tg.kind != "atMost" || tg.text != "quick" || tg.short != "<=30 ns, 0 alloc" {
		t.Errorf("fast: %+v", tg)
	}

	for _, c := range []struct{ name, entries, err string }{
		{"no such workload", `{"workload": "slow", "kind": "atMost", "ns": 1, "text": "t"}`, `entry 1 (workload "slow"): no such workload`},
		{"unknown kind", `{"workload": "fast", "kind": "atLeast", "ns": 1, "text": "t"}`, `unknown kind "atLeast"`},
		{"kind for another unit", `{"workload": "fast", "kind": "noFaults", "text": "t"}`, "kind noFaults does not fit a workload measured in ns per op"},
		{"missing parameter", `{"workload": "fast", "kind": "atMost", "text": "t"}`, "kind atMost needs ns"},
		{"extra parameter", `{"workload": "small", "kind": "noMoreThanBase", "ns": 3, "text": "t"}`, "kind noMoreThanBase takes no ns"},
		{"zero bound", `{"workload": "late", "kind": "p99AtMost", "ms": 0, "text": "t"}`, "ms must be above 0"},
		{"missing ratio", `{"workload": "fast", "kind": "atMostTimesBase", "text": "t"}`, "kind atMostTimesBase needs ratio"},
		{"zero ratio", `{"workload": "fast", "kind": "atMostTimesBase", "ratio": 0, "text": "t"}`, "ratio must be above 0"},
		{"ratio elsewhere", `{"workload": "fast", "kind": "atMost", "ns": 3, "ratio": 1, "text": "t"}`, "kind atMost takes no ratio"},
		{"negative allocations", `{"workload": "fast", "kind": "atMost", "ns": 3, "maxAllocs": -1, "text": "t"}`, "maxAllocs must be at least 0"},
		{"no text", `{"workload": "fast", "kind": "atMost", "ns": 3}`, "no text"},
		{"two entries", `{"workload": "fast", "kind": "atMost", "ns": 3, "text": "t"}, {"workload": "fast", "kind": "atMost", "ns": 4, "text": "t"}`, "entry 2 (workload \"fast\"): a second entry"},
		{"unknown field", `{"workload": "fast", "kind": "atMost", "nanos": 3, "text": "t"}`, `unknown field "nanos"`},
	} {
		_, err := parseTargets([]byte(`{"targets": [`+c.entries+`]}`), ws)
		if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), targetsPath+": ") {
			t.Errorf("%s: error %v, want one with %q", c.name, err, c.err)
		}
	}
	for _, bad := range []string{`{"targets": [`, `{"targets": []} {}`, `[]`} {
		if _, err := parseTargets([]byte(bad), ws); err == nil {
			t.Errorf("parseTargets(%q): no error", bad)
		}
	}
	// Every fault is reported, not only the first.
	_, err = parseTargets([]byte(`{"targets": [
		{"workload": "slow", "kind": "atMost", "ns": 1, "text": "t"},
		{"workload": "fast", "kind": "fastest", "text": "t"}]}`), ws)
	if err == nil || !strings.Contains(err.Error(), "no such workload") || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("two faults: %v", err)
	}
}

// TestTargetJudge checks the verdict of each kind.
func TestTargetJudge(t *testing.T) {
	mk := func(unit unit, entry string) *target {
		t.Helper()
		ts, err := parseTargets([]byte(`{"targets": [`+entry+`]}`), []workload{{name: "w", unit: unit}})
		if err != nil {
			t.Fatal(err)
		}
		return ts["w"]
	}
	ns := func(v, allocs float64) result { return result{value: v, allocs: allocs} }
	for _, c := range []struct {
		name            string
		t               *target
		aio, base       result
		status, stretch string
	}{
		{"atMost met", mk(nsPerOp, `{"workload": "w", "kind": "atMost", "ns": 30, "text": "t"}`), ns(30, 5), ns(1, 0), "ok", ""},
		{"atMost missed", mk(nsPerOp, `{"workload": "w", "kind": "atMost", "ns": 30, "text": "t"}`), ns(30.1, 0), ns(1, 0), "MISS", ""},
		{"atMost, allocations", mk(nsPerOp, `{"workload": "w", "kind": "atMost", "ns": 30, "maxAllocs": 0, "text": "t"}`), ns(10, 0.01), ns(1, 0), "MISS", ""},
		{"atMost, allocations below epsilon", mk(nsPerOp, `{"workload": "w", "kind": "atMost", "ns": 30, "maxAllocs": 0, "text": "t"}`), ns(10, 0.001), ns(1, 0), "ok", ""},
		{"stretch met", mk(nsPerOp, `{"workload": "w", "kind": "atMostStretch", "ns": 500, "text": "t"}`), ns(400, 0), ns(450, 0), "ok", "met"},
		{"stretch missed", mk(nsPerOp, `{"workload": "w", "kind": "atMostStretch", "ns": 500, "text": "t"}`), ns(400, 0), ns(300, 0), "ok", "missed"},
		{"stretch, target missed", mk(nsPerOp, `{"workload": "w", "kind": "atMostStretch", "ns": 500, "text": "t"}`), ns(600, 0), ns(900, 0), "MISS", "met"},
		{"faster", mk(nsPerOp, `{"workload": "w", "kind": "fasterThanBase", "text": "t"}`), ns(10, 0), ns(10, 0), "MISS", ""},
		{"faster met", mk(nsPerOp, `{"workload": "w", "kind": "fasterThanBase", "text": "t"}`), ns(9, 3), ns(10, 0), "ok", ""},
		{"faster, allocations", mk(nsPerOp, `{"workload": "w", "kind": "fasterThanBase", "maxAllocs": 0, "text": "t"}`), ns(9, 0.01), ns(10, 0), "MISS", ""},
		{"faster, no allocation", mk(nsPerOp, `{"workload": "w", "kind": "fasterThanBase", "maxAllocs": 0, "text": "t"}`), ns(9, 0), ns(10, 0), "ok", ""},
		{"times base met", mk(nsPerOp, `{"workload": "w", "kind": "atMostTimesBase", "ratio": 0.9, "text": "t"}`), ns(90, 3), ns(100, 0), "ok", ""},
		{"times base missed", mk(nsPerOp, `{"workload": "w", "kind": "atMostTimesBase", "ratio": 0.9, "text": "t"}`), ns(90.1, 0), ns(100, 0), "MISS", ""},
		{"times base above 1", mk(latency, `{"workload": "w", "kind": "atMostTimesBase", "ratio": 1.1, "text": "t"}`), ns(110, 0), ns(100, 0), "ok", ""},
		{"times base, allocations", mk(nsPerOp, `{"workload": "w", "kind": "atMostTimesBase", "ratio": 0.9, "maxAllocs": 0, "text": "t"}`), ns(50, 0.01), ns(100, 0), "MISS", ""},
		{"times base, no allocation", mk(nsPerOp, `{"workload": "w", "kind": "atMostTimesBase", "ratio": 0.9, "maxAllocs": 0, "text": "t"}`), ns(50, 0), ns(100, 0), "ok", ""},
		{"no more", mk(bytesPerOp, `{"workload": "w", "kind": "noMoreThanBase", "text": "t"}`), ns(10, 0), ns(10, 0), "ok", ""},
		{"no faults", mk(check, `{"workload": "w", "kind": "noFaults", "text": "t"}`), ns(1, 0), ns(0, 0), "MISS", ""},
		{"p99", mk(latency, `{"workload": "w", "kind": "p99AtMost", "ms": 5, "text": "t"}`), ns(float64(5*time.Millisecond), 0), ns(0, 0), "ok", ""},
		{"p99 missed", mk(latency, `{"workload": "w", "kind": "p99AtMost", "ms": 5, "text": "t"}`), ns(float64(5*time.Millisecond+1), 0), ns(0, 0), "MISS", ""},
	} {
		status, stretch := c.t.status(c.aio, c.base)
		if status != c.status || stretch != c.stretch {
			t.Errorf("%s: %q, %q; want %q, %q", c.name, status, stretch, c.status, c.stretch)
		}
	}
}

// TestWorkloadNamesUnique checks that no two workloads share a -run name
// (a target is looked up by name, and -run selects by it).
func TestWorkloadNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, w := range workloads() {
		if seen[w.name] {
			t.Errorf("two workloads are named %q", w.name)
		}
		seen[w.name] = true
	}
}
