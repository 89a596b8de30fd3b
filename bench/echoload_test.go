package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"
)

// The echo benchmark re-executes the binary as its server and client
// children: in the test binary they run and exit here, before TestMain. A
// child asked for the "broken" server gets it in its table.
func init() {
	if os.Getenv(echoServerEnv) == "broken" {
		echoServers = append(echoServers, echoServer{name: "broken", key: "broken", serve: serveBroken})
	}
	echoChildMain()
}

// serveBroken is a server that echoes nothing: it closes each connection
// after its first read.
func serveBroken(ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ready(ln.Addr())
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			conn.Read(make([]byte, 1))
			fmt.Fprintln(os.Stderr, "broken server: closing a connection")
			conn.Close()
		}()
	}
}

// TestPercentile checks the nearest-rank percentiles: the smallest sample
// that q percent of the samples are at most.
func TestPercentile(t *testing.T) {
	seq := func(n int) []time.Duration {
		s := make([]time.Duration, n)
		for i := range s {
			s[i] = time.Duration(i + 1)
		}
		return s
	}
	for _, c := range []struct {
		n    int
		q    float64
		want time.Duration
	}{
		{0, 50, 0},
		{1, 50, 1}, {1, 99.9, 1}, {1, 100, 1},
		{4, 50, 2}, {4, 75, 3}, {4, 76, 4}, {4, 100, 4},
		{100, 50, 50}, {100, 99, 99}, {100, 99.9, 100},
		{1000, 99, 990}, {1000, 99.9, 999}, {1000, 100, 1000},
		{1001, 99.9, 1000}, {10_000, 99.9, 9990},
		{3, 0.001, 1},
	} {
		if got := percentile(seq(c.n), c.q); got != c.want {
			t.Errorf("percentile(1..%d, %v) = %d, want %d", c.n, c.q, got, c.want)
		}
	}
}

// TestParseEchoCells checks -echo's values: "full", lists of cells, and
// clear errors for anything else.
func TestParseEchoCells(t *testing.T) {
	cells, err := parseEchoCells("full")
	if err != nil || !slices.Equal(cells, echoFullCells) {
		t.Fatalf("full: %v, %v", cells, err)
	}
	for _, want := range []echoCell{{1, 1024}, {1000, 1024}, {100, 64}, {100, 1024}, {100, 16 << 10}} {
		if !slices.Contains(cells, want) {
			t.Errorf("full has no cell %v", want)
		}
	}
	cells, err = parseEchoCells("100x1K, 1000x64,10x16KiB,1x8")
	if want := []echoCell{{100, 1024}, {1000, 64}, {10, 16 << 10}, {1, 8}}; err != nil || !slices.Equal(cells, want) {
		t.Errorf("list: %v, %v; want %v", cells, err, want)
	}
	for _, bad := range []string{"", "fast", "100", "x1K", "100x", "0x1K", "100x4", "100x1M", "100x1K,", "-1x64", "20000x64"} {
		if _, err := parseEchoCells(bad); err == nil || !strings.Contains(err.Error(), "-echo") {
			t.Errorf("parseEchoCells(%q): error %v, want one naming -echo", bad, err)
		}
	}
}

// TestEchoFormats checks the figures' formats in the matrix and the notes.
func TestEchoFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{formatSize(64), "64 B"}, {formatSize(1024), "1 KiB"}, {formatSize(16 << 10), "16 KiB"}, {formatSize(1500), "1500 B"},
		{formatLatency(6800 * time.Nanosecond), "6.80 us"}, {formatLatency(412 * time.Microsecond), "412 us"},
		{formatLatency(41_240 * time.Nanosecond), "41.2 us"}, {formatLatency(999_600 * time.Nanosecond), "1.00 ms"},
		{formatLatency(1234 * time.Microsecond), "1.23 ms"}, {formatLatency(25 * time.Millisecond), "25.0 ms"},
		{formatLatency(271 * time.Millisecond), "271 ms"}, {formatLatency(9_999 * time.Nanosecond), "10.0 us"},
		{formatRate(950), "950"}, {formatRate(45_230), "45.2k"}, {formatRate(1_234_000), "1.23M"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestEchoMatrixTable checks the matrix's summary of runs (the median of
// each figure, CPU beside the Go net server's) and its markdown table.
func TestEchoMatrixTable(t *testing.T) {
	c := echoCell{100, 1024}
	rows := matrixRows(c, map[string][]echoResult{
		"aio stream": {
			{reqPerSec: 50_000, cpuPerReq: 6000, p50: 1 * time.Millisecond, p99: 3 * time.Millisecond, p999: 5 * time.Millisecond, allocsReq: 0},
			{reqPerSec: 40_000, cpuPerReq: 9000, p50: 2 * time.Millisecond, p99: 4 * time.Millisecond, p999: 6 * time.Millisecond, allocsReq: 0.5},
			{reqPerSec: 45_000, cpuPerReq: 7000, p50: 3 * time.Millisecond, p99: 9 * time.Millisecond, p999: 7 * time.Millisecond, allocsReq: 0},
		},
		"go net": {{reqPerSec: 30_000, cpuPerReq: 10_000, p50: time.Millisecond, p99: 2 * time.Millisecond, p999: 3 * time.Millisecond, allocsReq: 0}},
	})
	if len(rows) != 2 || rows[0].server != "go net" || rows[1].server != "aio stream" {
		t.Fatalf("rows %+v: want go net, then aio stream (table order)", rows)
	}
	s := rows[1]
	if s.runs != 3 || s.reqPerSec != 45_000 || s.cpuPerReq != 7000 || s.p50 != 2*time.Millisecond ||
		s.p99 != 4*time.Millisecond || s.p999 != 6*time.Millisecond || s.allocsReq != 0 || s.vsGo != 0.7 {
		t.Errorf("aio stream: %+v; want the medians, and CPU 0.7 of Go's", s)
	}
	if rows[0].vsGo != 1 {
		t.Errorf("go net: vsGo %v, want 1", rows[0].vsGo)
	}
	var b bytes.Buffer
	printEchoMatrix(&b, rows)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := []string{
		"| conns | message | server | req/s | p50 | p99 | p99.9 | server CPU/req | CPU vs go net | allocs/req |",
		"|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
		"| 100 | 1 KiB | go net | 30.0k | 1.00 ms | 2.00 ms | 3.00 ms | 10.0 us | 1.00 | 0 |",
		"| 100 | 1 KiB | aio stream | 45.0k | 2.00 ms | 4.00 ms | 6.00 ms | 7.00 us | 0.70 | 0 |",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("table:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// Without a Go net run, no ratio.
	rows = matrixRows(c, map[string][]echoResult{"aio stream": {{cpuPerReq: 5000}}})
	if len(rows) != 1 || rows[0].vsGo != 0 {
		t.Errorf("no go net: %+v", rows)
	}
}

// TestEchoLoadWorkloads checks the rows made from the server table: two
// per aio server, with titles and baseline names that fit the table, the
// CPU row compared with the servers of its vs that exist (the protocol
// server first once it is added), the p99 row with the Go net server.
func TestEchoLoadWorkloads(t *testing.T) {
	check := func(ws []workload, names ...string) {
		t.Helper()
		var got []string
		for _, w := range ws {
			got = append(got, w.name)
			if utf8.RuneCountInString(w.title) > 18 || w.about == "" || !w.noWarmup {
				t.Errorf("%s: title %q (at most 18 characters), about %q, noWarmup %v", w.name, w.title, w.about, w.noWarmup)
			}
			for _, b := range w.bases {
				if utf8.RuneCountInString(b.name) > 12 {
					t.Errorf("%s: baseline name %q is over 12 characters", w.name, b.name)
				}
			}
		}
		if !slices.Equal(got, names) {
			t.Errorf("workloads %v, want %v", got, names)
		}
	}
	baseNames := func(w workload) []string {
		var ns []string
		for _, b := range w.bases {
			ns = append(ns, b.name)
		}
		return ns
	}
	saved := echoServers
	defer func() { echoServers = saved }()
	goNet, ok1 := findEchoServer("go net")
	strm, ok2 := findEchoServer("aio stream")
	if !ok1 || !ok2 {
		t.Fatal("no go net or aio stream server in the table")
	}
	echoServers = []echoServer{goNet, strm} // without bench/echoload_protocol.go's row
	ws := echoLoadWorkloads()
	check(ws, "echo-cpu-stream", "echo-p99-stream")
	if !slices.Equal(baseNames(ws[0]), []string{"go net"}) || !slices.Equal(baseNames(ws[1]), []string{"go net"}) {
		t.Errorf("bases %v and %v, want go net for both", baseNames(ws[0]), baseNames(ws[1]))
	}
	if ws[0].unit != nsPerOp || ws[1].unit != latency {
		t.Errorf("units %v, %v", ws[0].unit, ws[1].unit)
	}

	// With a protocol server in the table, as bench/echoload_protocol.go adds it.
	echoServers = append(echoServers, echoServer{name: "aio protocol", key: "proto", vs: []string{"go net"}})
	ws = echoLoadWorkloads()
	check(ws, "echo-cpu-stream", "echo-p99-stream", "echo-cpu-proto", "echo-p99-proto")
	if got := baseNames(ws[0]); !slices.Equal(got, []string{"aio protocol", "go net"}) {
		t.Errorf("stream CPU bases %v, want aio protocol, go net", got)
	}
	if got := baseNames(ws[2]); !slices.Equal(got, []string{"go net"}) {
		t.Errorf("protocol CPU bases %v, want go net", got)
	}
}

// TestEchoSmoke measures the stream server briefly (2 connections, 200 ms
// in all): the children start, talk and end, the figures are consistent,
// and nothing is left running. Speed is not checked.
func TestEchoSmoke(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s, ok := findEchoServer("aio stream")
	if !ok {
		t.Fatal("no aio stream server")
	}
	r, err := measureEcho(s, echoConfig{conns: 2, size: 1024, warmup: 50 * time.Millisecond, window: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.requests <= 0 || r.reqPerSec <= 0 || r.cpuPerReq <= 0 || r.allocsReq < 0 || r.cpuSource == "" || r.pinned == "" {
		t.Errorf("result %+v", r)
	}
	if !(0 < r.p50 && r.p50 <= r.p99 && r.p99 <= r.p999 && r.p999 <= r.pmax) {
		t.Errorf("percentiles out of order: %+v", r)
	}
}

// TestEchoFailures checks the error paths: a server child that fails at
// start is reported with its stderr, at once, and leaves nothing running;
// a bad client spec is refused.
func TestEchoFailures(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	start := time.Now()
	_, err := measureEcho(echoServer{name: "nowhere", key: "nowhere"}, echoConfig{conns: 1, size: 64, warmup: time.Millisecond, window: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), `no server "nowhere"`) {
		t.Errorf("measureEcho of no server: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("the failure took %v", d)
	}
	// A server that closes its connections: the client fails in its warm-up,
	// and says why; so does the server.
	_, err = measureEcho(echoServer{name: "broken", key: "broken"}, echoConfig{conns: 2, size: 64, warmup: 50 * time.Millisecond, window: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "connect and warm up") || !strings.Contains(err.Error(), "connection") ||
		!strings.Contains(err.Error(), "broken server: closing a connection") {
		t.Errorf("measureEcho of a broken server: %v", err)
	}
	if err != nil {
		t.Logf("a broken server: %v", err)
	}
	var stdout, stderr bytes.Buffer
	for _, spec := range []string{"", "{", `{"conns": 0, "size": 64, "window": 1000}`, `{"conns": 1, "size": 4, "window": 1000}`} {
		stdout.Reset()
		stderr.Reset()
		if code := echoClientChild(spec, strings.NewReader(""), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), echoClientEnv) {
			t.Errorf("client spec %q: exit %d, stderr %q", spec, code, &stderr)
		}
	}
	if code := echoServerChild("nowhere", strings.NewReader(""), &stdout, &stderr); code != 2 {
		t.Errorf("server child of no server: exit %d", code)
	}
}

// TestEchoFlag checks -echo: a tiny matrix prints its markdown table, and
// a bad value is a usage error.
func TestEchoFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-quick", "-echo", "2x64"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	out := stdout.String()
	for _, s := range echoServers {
		if !strings.Contains(out, "| 2 | 64 B | "+s.name+" | ") {
			t.Errorf("no row for %s:\n%s", s.name, out)
		}
	}
	if !strings.Contains(out, "_echo benchmark: ") || !strings.Contains(out, "| conns | message |") {
		t.Errorf("output:\n%s", out)
	}
	stdout.Reset()
	if code := run([]string{"-echo", "lots"}, &stdout, &stderr); code != 2 {
		t.Errorf("-echo lots: exit %d, want 2", code)
	}
}
