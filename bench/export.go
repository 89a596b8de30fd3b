package main

// Writing the table's results as JSON and CSV (-json, -csv), for scripts
// and for comparing runs.

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
)

// A record is one row of the table, as written by -json and -csv.
type record struct {
	Workload   string   `json:"workload"`             // the -run name
	Title      string   `json:"title"`                // the table's title of the workload
	Unit       string   `json:"unit"`                 // what the figures are: "ns per op", "bytes per op", "faults (a check)", "latency" (ns)
	AIO        float64  `json:"aio"`                  // aio's figure
	AIOAllocs  *float64 `json:"aioAllocs,omitempty"`  // aio's heap allocations per op, if measured
	Baseline   string   `json:"baseline"`             // the baseline's name
	Base       float64  `json:"base"`                 // the baseline's figure
	BaseAllocs *float64 `json:"baseAllocs,omitempty"` // the baseline's allocations per op, if measured
	Ratio      *float64 `json:"ratio,omitempty"`      // aio / base, where both are figures of a kind that divides
	Target     string   `json:"target,omitempty"`     // the target, in short; on the workload's first row
	Status     string   `json:"status,omitempty"`     // ok, MISS, or empty without a target
}

// records turns the table's rows into records.
func records(rows []row) []record {
	out := make([]record, 0, len(rows))
	for _, r := range rows {
		rec := record{
			Workload: r.w.name,
			Title:    r.title,
			Unit:     r.w.unit.String(),
			AIO:      r.aio.value,
			Baseline: r.baseName,
			Base:     r.base.value,
			Status:   r.status,
		}
		if r.aio.allocs >= 0 {
			rec.AIOAllocs = ptr(r.aio.allocs)
		}
		if r.base.allocs >= 0 {
			rec.BaseAllocs = ptr(r.base.allocs)
		}
		if r.w.unit != check && r.base.value > 0 && !math.IsInf(r.aio.value/r.base.value, 0) {
			rec.Ratio = ptr(r.aio.value / r.base.value)
		}
		if r.first && r.target != nil {
			rec.Target = r.target.short
		}
		out = append(out, rec)
	}
	return out
}

func ptr(v float64) *float64 { return &v }

// writeJSON writes the records as one indented JSON array.
func writeJSON(w io.Writer, recs []record) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(recs)
}

// csvHeader is the first line of -csv's output, the record's fields in order.
var csvHeader = []string{"workload", "title", "unit", "aio", "aio_allocs", "baseline", "base", "base_allocs", "ratio", "target", "status"}

// writeCSV writes the records as CSV with a header line; a figure that was
// not measured is an empty cell.
func writeCSV(w io.Writer, recs []record) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return num(*v)
	}
	for _, r := range recs {
		cw.Write([]string{r.Workload, r.Title, r.Unit, num(r.AIO), opt(r.AIOAllocs), r.Baseline, num(r.Base), opt(r.BaseAllocs), opt(r.Ratio), r.Target, r.Status})
	}
	cw.Flush()
	return cw.Error()
}

// readCSV parses what writeCSV wrote (for the round-trip test, and for
// scripts written in Go).
func readCSV(rd io.Reader) ([]record, error) {
	lines, err := csv.NewReader(rd).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 || fmt.Sprint(lines[0]) != fmt.Sprint(csvHeader) {
		return nil, fmt.Errorf("not a bench CSV: header %v", lines[:min(1, len(lines))])
	}
	var recs []record
	for i, l := range lines[1:] {
		num := func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
		opt := func(s string) (*float64, error) {
			if s == "" {
				return nil, nil
			}
			v, err := num(s)
			return &v, err
		}
		var r record
		var errs [5]error
		r.Workload, r.Title, r.Unit, r.Baseline, r.Target, r.Status = l[0], l[1], l[2], l[5], l[9], l[10]
		r.AIO, errs[0] = num(l[3])
		r.AIOAllocs, errs[1] = opt(l[4])
		r.Base, errs[2] = num(l[6])
		r.BaseAllocs, errs[3] = opt(l[7])
		r.Ratio, errs[4] = opt(l[8])
		for _, e := range errs {
			if e != nil {
				return nil, fmt.Errorf("line %d: %w", i+2, e)
			}
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// writeResults writes the records to the -json and -csv files that were
// asked for.
func writeResults(rows []row, jsonPath, csvPath string) error {
	recs := records(rows)
	for _, out := range []struct {
		path  string
		write func(io.Writer, []record) error
	}{{jsonPath, writeJSON}, {csvPath, writeCSV}} {
		if out.path == "" {
			continue
		}
		f, err := os.Create(out.path)
		if err != nil {
			return err
		}
		err = out.write(f, recs)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", out.path, err)
		}
	}
	return nil
}
