package main

// The targets: what aio must achieve in each workload, read from
// bench/targets.json, which is embedded in the program.

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// targetsPath is where the targets come from, as the output names it.
const targetsPath = "bench/targets.json"

//go:embed targets.json
var targetsJSON []byte

// A target says what aio must achieve beside a workload's first baseline.
type target struct {
	kind  string
	short string // for the table's target column
	text  string // the target in words, from the file
	// judge says whether aio's result meets the target beside the
	// baseline's, and for a target with a stretch goal whether that was met
	// too ("" for none).
	judge func(aio, base result) (met bool, stretch string)
}

// status returns the table's status for aio and base: "ok" or "MISS".
func (t *target) status(aio, base result) (status, stretch string) {
	met, stretch := t.judge(aio, base)
	if met {
		return "ok", stretch
	}
	return "MISS", stretch
}

// targetEntry is one entry of the targets file.
type targetEntry struct {
	Workload  string   `json:"workload"`
	Kind      string   `json:"kind"`
	NS        *float64 `json:"ns,omitempty"`
	MaxAllocs *float64 `json:"maxAllocs,omitempty"`
	MS        *float64 `json:"ms,omitempty"`
	Ratio     *float64 `json:"ratio,omitempty"`
	Text      string   `json:"text"`
}

type targetsFile struct {
	Comment []string      `json:"comment"`
	Targets []targetEntry `json:"targets"`
}

// A targetKind builds targets of one kind.
type targetKind struct {
	units  []unit   // the units of the workloads it fits
	params []string // the parameters it takes, all required but maxAllocs
	make   func(e targetEntry) target
}

var targetKinds = map[string]targetKind{
	"atMost": {
		units:  []unit{nsPerOp},
		params: []string{"ns", "maxAllocs"},
		make: func(e targetEntry) target {
			ns := *e.NS
			short := "<=" + fmtNum(ns) + " ns"
			maxAllocs := -1.0
			if e.MaxAllocs != nil {
				maxAllocs = *e.MaxAllocs
				short += ", " + fmtNum(maxAllocs) + " alloc"
			}
			return target{short: short, judge: func(a, _ result) (bool, string) {
				return a.value <= ns && (maxAllocs < 0 || a.allocs <= maxAllocs+allocEpsilon), ""
			}}
		},
	},
	"atMostStretch": {
		units:  []unit{nsPerOp},
		params: []string{"ns"},
		make: func(e targetEntry) target {
			ns := *e.NS
			return target{short: "<=" + fmtNum(ns) + " ns (s)", judge: func(a, b result) (bool, string) {
				if a.value < b.value {
					return a.value <= ns, "met"
				}
				return a.value <= ns, "missed"
			}}
		},
	},
	"fasterThanBase": {
		units:  []unit{nsPerOp, bytesPerOp, latency},
		params: []string{"maxAllocs"},
		make: func(e targetEntry) target {
			short, maxAllocs := "< Go", -1.0
			if e.MaxAllocs != nil {
				maxAllocs = *e.MaxAllocs
				short += ", " + fmtNum(maxAllocs) + " alloc"
			}
			return target{short: short, judge: func(a, b result) (bool, string) {
				return a.value < b.value && (maxAllocs < 0 || a.allocs <= maxAllocs+allocEpsilon), ""
			}}
		},
	},
	"atMostTimesBase": {
		units:  []unit{nsPerOp, bytesPerOp, latency},
		params: []string{"ratio", "maxAllocs"},
		make: func(e targetEntry) target {
			ratio := *e.Ratio
			short, maxAllocs := "<="+fmtNum(ratio)+"x", -1.0
			if e.MaxAllocs != nil {
				maxAllocs = *e.MaxAllocs
				short += ", " + fmtNum(maxAllocs) + " alloc"
			}
			return target{short: short, judge: func(a, b result) (bool, string) {
				return a.value <= ratio*b.value && (maxAllocs < 0 || a.allocs <= maxAllocs+allocEpsilon), ""
			}}
		},
	},
	"noMoreThanBase": {
		units: []unit{nsPerOp, bytesPerOp, latency},
		make: func(targetEntry) target {
			return target{short: "<= Go", judge: func(a, b result) (bool, string) { return a.value <= b.value, "" }}
		},
	},
	"noFaults": {
		units: []unit{check},
		make: func(targetEntry) target {
			return target{short: "no faults", judge: func(a, _ result) (bool, string) { return a.value == 0, "" }}
		},
	},
	"p99AtMost": {
		units:  []unit{latency},
		params: []string{"ms"},
		make: func(e targetEntry) target {
			d := time.Duration(*e.MS * float64(time.Millisecond))
			return target{short: "p99 <=" + fmtNum(*e.MS) + " ms", judge: func(a, _ result) (bool, string) {
				return a.value <= float64(d), ""
			}}
		},
	},
}

func fmtNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// parseTargets reads a targets file and returns the target of each
// workload of ws that has one, by name. Every fault of the file is
// reported, joined in one error.
func parseTargets(data []byte, ws []workload) (map[string]*target, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f targetsFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", targetsPath, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: data after the top-level object", targetsPath)
	}
	units := make(map[string]unit, len(ws))
	for _, w := range ws {
		units[w.name] = w.unit
	}
	targets := make(map[string]*target)
	var errs []error
	for i, e := range f.Targets {
		t, err := makeTarget(e, units)
		if err == nil && targets[e.Workload] != nil {
			err = errors.New("a second entry for this workload")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: entry %d (workload %q): %w", targetsPath, i+1, e.Workload, err))
			continue
		}
		targets[e.Workload] = t
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return targets, nil
}

// makeTarget checks one entry against the kinds and the workloads' units
// and builds its target.
func makeTarget(e targetEntry, units map[string]unit) (*target, error) {
	u, ok := units[e.Workload]
	if !ok {
		return nil, errors.New("no such workload")
	}
	k, ok := targetKinds[e.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", e.Kind)
	}
	fits := false
	for _, ku := range k.units {
		fits = fits || ku == u
	}
	if !fits {
		return nil, fmt.Errorf("kind %s does not fit a workload measured in %s", e.Kind, u)
	}
	given := map[string]*float64{"ns": e.NS, "maxAllocs": e.MaxAllocs, "ms": e.MS, "ratio": e.Ratio}
	takes := map[string]bool{}
	for _, p := range k.params {
		takes[p] = true
	}
	for _, p := range []string{"ns", "maxAllocs", "ms", "ratio"} { // in a fixed order
		v := given[p]
		switch {
		case v == nil && takes[p] && p != "maxAllocs":
			return nil, fmt.Errorf("kind %s needs %s", e.Kind, p)
		case v != nil && !takes[p]:
			return nil, fmt.Errorf("kind %s takes no %s", e.Kind, p)
		case v != nil && p == "maxAllocs" && *v < 0:
			return nil, fmt.Errorf("maxAllocs must be at least 0, is %v", *v)
		case v != nil && p != "maxAllocs" && *v <= 0:
			return nil, fmt.Errorf("%s must be above 0, is %v", p, *v)
		}
	}
	if e.Text == "" {
		return nil, errors.New("no text")
	}
	t := k.make(e)
	t.kind, t.text = e.Kind, e.Text
	return &t, nil
}

func (u unit) String() string {
	switch u {
	case nsPerOp:
		return "ns per op"
	case bytesPerOp:
		return "bytes per op"
	case check:
		return "faults (a check)"
	case latency:
		return "latency"
	}
	return "unit " + strconv.Itoa(int(u))
}
