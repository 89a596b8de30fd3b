package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// A row is one line of the table: aio beside one baseline.
type row struct {
	w        workload
	title    string // empty on a workload's second and later rows
	aio      result
	baseName string
	base     result
	target   string
	status   string
}

var header = []string{"workload", "aio", "Go baseline", "Go", "aio/Go", "target", "allocs/op aio", "allocs/op Go", "status"}

// numeric marks the columns that are right-aligned.
var numeric = []bool{false, true, false, true, true, false, true, true, false}

func (r row) cells() []string {
	return []string{
		r.title,
		formatValue(r.w.unit, r.aio),
		r.baseName,
		formatValue(r.w.unit, r.base),
		formatRatio(r.w.unit, r.aio, r.base),
		r.target,
		formatAllocs(r.w.unit, r.aio.allocs),
		formatAllocs(r.w.unit, r.base.allocs),
		r.status,
	}
}

func formatValue(u unit, r result) string {
	switch u {
	case check, latency:
		return r.note
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

func formatRatio(u unit, a, b result) string {
	if u == check || b.value <= 0 {
		return "-"
	}
	r := a.value / b.value
	if r < 10 {
		return fmt.Sprintf("%.2fx", r)
	}
	return fmt.Sprintf("%.1fx", r)
}

func formatAllocs(u unit, a float64) string {
	switch {
	case u != nsPerOp || a < 0:
		return "-"
	case a < allocEpsilon:
		return "0"
	case a < 10:
		return fmt.Sprintf("%.2f", a)
	default:
		return fmt.Sprintf("%.0f", a)
	}
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
		out[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return out
}
