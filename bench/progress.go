package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// progress reports how far the run is, on standard error. On a terminal
// it keeps one line up to date, rewriting it with \r, and clears it at the
// end; elsewhere (a CI log, a file) it writes nothing. With -v it also
// writes a line as each workload starts and ends, terminal or not.
type progress struct {
	w       io.Writer
	live    bool // w is a terminal: show the line
	verbose bool
	start   time.Time
	shown   int // the width of the line on the terminal; 0: none
}

// progressWidth bounds the live line, so that it does not wrap on an
// 80-column terminal (a wrapped line cannot be rewritten with \r).
const progressWidth = 79

func newProgress(w io.Writer, verbose bool) *progress {
	return &progress{w: w, live: isTerminal(w), verbose: verbose, start: time.Now()}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// step shows that workload i of n (from 1), named name, is at repetition
// rep ("warm-up" or "k/count"), running who ("aio" or a baseline).
func (p *progress) step(i, n int, name, rep, who string) {
	if !p.live {
		return
	}
	if k, count, ok := strings.Cut(rep, "/"); ok {
		rep = "repetition " + k + " of " + count
	}
	elapsed := time.Since(p.start).Round(time.Second)
	p.show(fmt.Sprintf("bench: workload %d of %d, %s: %s, %s (%v)", i, n, name, rep, who, elapsed))
}

// show replaces the line on the terminal with line.
func (p *progress) show(line string) {
	if utf8.RuneCountInString(line) > progressWidth {
		line = string([]rune(line)[:progressWidth-3]) + "..."
	}
	width := utf8.RuneCountInString(line)
	fmt.Fprint(p.w, "\r"+line+strings.Repeat(" ", max(p.shown-width, 0)))
	p.shown = width
}

// clear removes the line from the terminal.
func (p *progress) clear() {
	if p.shown > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.shown)+"\r")
		p.shown = 0
	}
}

// logf writes a line of -v output.
func (p *progress) logf(format string, args ...any) {
	if !p.verbose {
		return
	}
	p.clear()
	fmt.Fprintf(p.w, format+"\n", args...)
}
