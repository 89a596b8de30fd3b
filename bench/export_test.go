package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The records of -json and -csv carry every row of the table: aio's figure
// and the baseline's, the ratio where the unit divides (none for a check),
// allocations where measured, the target and status on a workload's first
// row; JSON and CSV both read back to the same records.
func TestExportRoundTrip(t *testing.T) {
	rows := fakeRows(t, 30, 10)
	recs := records(rows)
	if len(recs) != len(rows) {
		t.Fatalf("%d records for %d rows", len(recs), len(rows))
	}
	sawRatio, sawCheck, sawTarget := false, false, false
	for i, r := range recs {
		if r.Workload != rows[i].w.name || r.Baseline != rows[i].baseName {
			t.Errorf("record %d: %q/%q, row %q/%q", i, r.Workload, r.Baseline, rows[i].w.name, rows[i].baseName)
		}
		switch {
		case rows[i].w.unit == check:
			sawCheck = true
			if r.Ratio != nil {
				t.Errorf("%s: a ratio for a check", r.Workload)
			}
		case rows[i].w.unit == nsPerOp && r.Ratio != nil:
			sawRatio = true
			if *r.Ratio != 3 {
				t.Errorf("%s: ratio %v, want 3", r.Workload, *r.Ratio)
			}
		}
		if r.Target != "" {
			sawTarget = true
			if r.Status != "ok" && r.Status != "MISS" {
				t.Errorf("%s: target %q with status %q", r.Workload, r.Target, r.Status)
			}
		}
	}
	if !sawRatio || !sawCheck || !sawTarget {
		t.Errorf("ratio %v, check %v, target %v: want all seen", sawRatio, sawCheck, sawTarget)
	}

	var jb bytes.Buffer
	if err := writeJSON(&jb, recs); err != nil {
		t.Fatal(err)
	}
	var back []record
	if err := json.Unmarshal(jb.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, recs) {
		t.Error("JSON did not read back to the same records")
	}

	var cb bytes.Buffer
	if err := writeCSV(&cb, recs); err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(cb.String(), "\n", 2)[0]; first != strings.Join(csvHeader, ",") {
		t.Errorf("CSV header %q", first)
	}
	back, err := readCSV(&cb)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, recs) {
		t.Error("CSV did not read back to the same records")
	}
}

// -scale must be positive and at most 1000; -json and -csv take paths.
func TestExportFlags(t *testing.T) {
	var stderr bytes.Buffer
	for _, bad := range []string{"0", "-1", "1001", "x"} {
		if _, err := parseFlags([]string{"-scale", bad}, &stderr); err == nil {
			t.Errorf("-scale %s accepted", bad)
		}
	}
	o, err := parseFlags([]string{"-scale", "2.5", "-json", "a.json", "-csv", "b.csv"}, &stderr)
	if err != nil || o.scale != 2.5 || o.jsonPath != "a.json" || o.csvPath != "b.csv" {
		t.Errorf("parsed %+v, %v", o, err)
	}
}
