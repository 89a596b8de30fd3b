package main

// The SVG charts of go run ./bench -peers -charts (and -peers-write),
// drawn with gonum.org/v1/plot: a bar chart per workload family, with aio,
// its Go baseline and each peer, and the echo servers' CPU per request and
// latency distribution (p50, p99, p99.9). The figures span four orders of
// magnitude (a Go callback in ns, a Python task in tens of us), so the
// bars are drawn on a log scale: each bar's height is log10 of its figure
// in ns, on an axis labelled in ns, us and ms, its bottom at 1 ns.

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// A barChart is the data of one grouped bar chart: one group of bars per
// entry of groups, one bar in each per series; values[s][g] is in ns
// (NaN: not measured, no bar).
type barChart struct {
	title  string
	yLabel string
	groups []string
	series []string
	values [][]float64
}

// chartSize is every chart's size.
var chartWidth, chartHeight = 9 * vg.Inch, 4 * vg.Inch

// logNsTicks labels a log10(ns) axis: a major tick at each power of ten,
// minor ticks at 2-9 times it.
func logNsTicks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for k := math.Floor(lo); k <= math.Ceil(hi); k++ {
		if k >= lo-1e-9 && k <= hi+1e-9 {
			ts = append(ts, plot.Tick{Value: k, Label: formatNsShort(math.Pow(10, k))})
		}
		for m := 2.0; m < 10; m++ {
			if v := k + math.Log10(m); v > lo && v < hi {
				ts = append(ts, plot.Tick{Value: v})
			}
		}
	}
	return ts
}

// formatNsShort writes a power of ten of ns: 1 ns, 100 ns, 10 us, 1 ms, 1 s.
func formatNsShort(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.0f us", ns/1e3)
	case ns < 1e9:
		return fmt.Sprintf("%.0f ms", ns/1e6)
	}
	return fmt.Sprintf("%.0f s", ns/1e9)
}

// plot draws the chart.
func (c barChart) plot() (*plot.Plot, error) {
	if len(c.groups) == 0 || len(c.series) == 0 {
		return nil, fmt.Errorf("chart %q: no data", c.title)
	}
	p := plot.New()
	p.Title.Text = c.title
	p.Y.Label.Text = c.yLabel + " (log scale)"
	p.Y.Tick.Marker = plot.TickerFunc(logNsTicks)
	p.Legend.Top = true
	p.Legend.Padding = vg.Points(2)
	p.Add(plotter.NewGrid())
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, vs := range c.values {
		for _, v := range vs {
			if v > 0 && !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = min(lo, math.Floor(math.Log10(v))), max(hi, math.Log10(v))
			}
		}
	}
	if math.IsInf(lo, 0) { // no figure at all: an empty axis of 1 ns to 1 us
		lo, hi = 0, 3
	}
	width := vg.Points(min(12, 60/float64(len(c.series))))
	for s, name := range c.series {
		hs := make(plotter.Values, len(c.groups))
		for g := range c.groups {
			if v := c.values[s][g]; v > 0 && !math.IsNaN(v) && !math.IsInf(v, 0) {
				hs[g] = math.Log10(v) - lo // a bar from the axis's bottom
			}
		}
		b, err := plotter.NewBarChart(hs, width)
		if err != nil {
			return nil, fmt.Errorf("chart %q: %w", c.title, err)
		}
		b.Color = plotutil.Color(s)
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(s)-float64(len(c.series)-1)/2) * width
		p.Add(b)
		p.Legend.Add(name, b)
	}
	// The bars start at 0 on the plot's data axis: shift the labels by lo.
	p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		ts := logNsTicks(min+lo, max+lo)
		for i := range ts {
			ts[i].Value -= lo
		}
		return ts
	})
	p.Y.Min, p.Y.Max = 0, math.Max(math.Ceil(hi+0.1)-lo, 1)
	p.NominalX(c.groups...)
	// Room on the right for the legend, past the last group.
	p.X.Min, p.X.Max = -0.5, float64(len(c.groups))-0.5+math.Max(0.7, 0.15*float64(len(c.groups)))
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	return p, nil
}

// svg renders the chart as an SVG document.
func (c barChart) svg() ([]byte, error) {
	p, err := c.plot()
	if err != nil {
		return nil, err
	}
	cv := vgsvg.NewWith(vgsvg.UseWH(chartWidth, chartHeight))
	p.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// peerCharts returns the comparison's charts, by file name: one per
// workload family with a figure in ns per op, the echo servers' CPU per
// request, and their latency distribution.
func peerCharts(t peerTable) (names []string, charts []barChart) {
	for _, fam := range peerFamilies {
		c := barChart{title: fam[1], yLabel: "time per operation", series: t.columns}
		c.values = make([][]float64, len(t.columns))
		for _, r := range t.rows {
			if r.family != fam[0] || r.unit != nsPerOp.String() {
				continue
			}
			c.groups = append(c.groups, r.name)
			for s, col := range t.columns {
				c.values[s] = append(c.values[s], r.values[col])
			}
		}
		if len(c.groups) > 0 {
			names, charts = append(names, "peers-"+fam[0]+".svg"), append(charts, c)
		}
	}
	var ok []peerEchoRow
	for _, e := range t.echo {
		if e.err == "" {
			ok = append(ok, e)
		}
	}
	if len(ok) == 0 {
		return names, charts
	}
	cpu := barChart{title: "Echo servers: server CPU per request", yLabel: "CPU time per request", series: []string{"server CPU/req"}, values: [][]float64{nil}}
	lat := barChart{title: "Echo servers: round-trip latency", yLabel: "latency", series: []string{"p50", "p99", "p99.9"}, values: make([][]float64, 3)}
	for _, e := range ok {
		label := e.column + "\n" + e.form
		cpu.groups = append(cpu.groups, label)
		cpu.values[0] = append(cpu.values[0], e.cpuPerReq)
		lat.groups = append(lat.groups, label)
		for i, d := range []time.Duration{e.p50, e.p99, e.p999} {
			lat.values[i] = append(lat.values[i], float64(d))
		}
	}
	names = append(names, "peers-echo-cpu.svg", "peers-echo-latency.svg")
	charts = append(charts, cpu, lat)
	return names, charts
}

// writePeerCharts writes the comparison's charts into dir and returns
// their file names.
func writePeerCharts(dir string, t peerTable) ([]string, error) {
	names, charts := peerCharts(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for i, c := range charts {
		b, err := c.svg()
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, names[i]), b, 0o644); err != nil {
			return nil, err
		}
	}
	return names, nil
}
