package main

// The multi-connection echo benchmark of "Networking on the loop": many
// connections echoing 64 B, 1 KiB or 16 KiB messages through a server,
// aio's beside a Go net goroutine-per-connection one, in the same run.
//
// Each measurement runs two child processes of this binary: the server
// (AIO_BENCH_ECHO_SERVER=<key>), and the load client
// (AIO_BENCH_ECHO_CLIENT=<JSON spec>), both with GOMAXPROCS=1 and, on Linux
// with two CPUs or more, pinned to two different CPUs (the server to the
// first CPU of this process's mask, the client to the second). The client
// keeps C connections busy, each a closed loop: write a message of S bytes,
// read the S bytes back, record the round trip, repeat. After a warm-up,
// the parent reads the server's CPU time and allocation count, tells the
// client to start its measured window, and reads them again when the
// client says the window is over. The figures: requests per second,
// p50/p99/p99.9 of the round trips, the server's CPU time (user+system)
// per request, and its heap allocations per request.
//
// The parent drives both children over pipes:
//
//	server: stdout "addr <host:port>" once listening; stdin "usage" ->
//	        "usage <getrusage user+sys us> <runtime.MemStats.Mallocs>";
//	        stdin EOF -> exit.
//	client: stdout "ready" after connecting and warming up; stdin "start" ->
//	        the window runs; stdout "stopped" at its end, then one line of
//	        JSON (echoClientResult), then exit.
//
// The server's CPU time is read by the parent through the child's process
// CPU clock (clock_gettime on the pid's CPUCLOCK_SCHED clock, Linux): the
// same total as getrusage's user+sys, in nanoseconds, read at once, with
// no answer to wait for from a loaded child (whose answer waits for its
// one P). The two agree within about 1% on a 2-core machine; the child's
// getrusage is the fallback where the clock cannot be read. The child's
// answer gives the allocation count.
//
// go run ./bench runs a short measurement (100 connections, 1 KiB) as rows
// of the table; go run ./bench -echo full runs the whole matrix and prints
// a markdown table for docs/benchmarks.md.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
)

// An echoServer is one kind of echo server the benchmark measures.
type echoServer struct {
	name string // for the table, at most 12 characters: "go net", "aio stream"
	key  string // short, lower case: the child's AIO_BENCH_ECHO_SERVER value and the rows' -run names
	// vs lists the servers (by name) this one's CPU row is compared with,
	// in order; the first one present is the row's target baseline. Empty
	// for a baseline: a server with vs makes rows of its own (echo-cpu-<key>
	// and echo-p99-<key>), whose p99 is compared with "go net".
	vs []string
	// serve listens on 127.0.0.1:0, calls ready with the address once it
	// accepts connections, and echoes every connection until the process
	// exits: it need not return; an error it returns ends the child with
	// that error. It runs in the child process, with GOMAXPROCS=1 (procs
	// for a server of several loops or Ps).
	serve func(ready func(net.Addr)) error
	// procs is the server's GOMAXPROCS and the number of CPUs it is
	// pinned to (0: 1), for the servers of several loops or Ps
	// (echoload_loops.go).
	procs int
}

// echoServers are the servers measured, in table order. The aio protocol
// server (aio/transport) is added by bench/echoload_protocol.go, in a func
// init that appends its row to this table, e.g.
//
//	echoServers = append(echoServers, echoServer{name: "aio protocol", key: "proto", vs: []string{"go net"}, serve: ...})
//
// The stream server's CPU row lists "aio protocol" first: once that row
// exists, the stream server's target compares it with the protocol server.
var echoServers = []echoServer{
	{name: "go net", key: "go", serve: serveGoNet},
	{name: "aio stream", key: "stream", vs: []string{"aio protocol", "go net"}, serve: serveStream},
}

// echoGoNet is the name of the Go net server: every p99 row's baseline.
const echoGoNet = "go net"

func findEchoServer(name string) (echoServer, bool) {
	for _, s := range echoServers {
		if s.name == name || s.key == name {
			return s, true
		}
	}
	return echoServer{}, false
}

// echoBufSize is the servers' read buffer: io.Copy's.
const echoBufSize = 32 << 10

// serveGoNet is Go's net with a goroutine per connection, copying with a
// buffer of its own as io.Copy does.
func serveGoNet(ready func(net.Addr)) error {
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
			defer conn.Close()
			buf := make([]byte, echoBufSize)
			for {
				n, err := conn.Read(buf)
				if n > 0 {
					if _, werr := conn.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// serveStream is aio/stream's Serve on one loop, a handler task per
// connection: ReadInto a buffer, Write it, and Drain when anything is left
// buffered.
func serveStream(ready func(net.Addr)) error {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			buf := make([]byte, echoBufSize)
			for {
				n, err := s.ReadInto(c, buf)
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				if err := s.Write(c, buf[:n]); err != nil {
					return err
				}
				if s.WriteBuffered() > 0 {
					if err := s.Drain(c); err != nil {
						return err
					}
				}
			}
		})
		if err != nil {
			return struct{}{}, err
		}
		ready(srv.Addr())
		return struct{}{}, srv.Wait(c)
	}, aio.WithoutInterrupt())
	return err
}

// The environment variables that make this binary an echo child.
const (
	echoServerEnv = "AIO_BENCH_ECHO_SERVER"
	echoClientEnv = "AIO_BENCH_ECHO_CLIENT"
)

// echoChildMain runs an echo server or load client and exits, if this
// process is a child started by the echo benchmark; otherwise it returns at
// once. main calls it first (and the tests' init).
func echoChildMain() {
	if key, ok := os.LookupEnv(echoServerEnv); ok {
		os.Exit(echoServerChild(key, os.Stdin, os.Stdout, os.Stderr))
	}
	if spec, ok := os.LookupEnv(echoClientEnv); ok {
		os.Exit(echoClientChild(spec, os.Stdin, os.Stdout, os.Stderr))
	}
}

// echoServerChild runs the server of the given key, and answers the
// parent's commands on stdin.
func echoServerChild(key string, stdin io.Reader, stdout, stderr io.Writer) int {
	s, ok := findEchoServer(key)
	if !ok {
		fmt.Fprintf(stderr, "echo server child: no server %q\n", key)
		return 2
	}
	var out sync.Mutex // stdout: the address, then the answers
	var once sync.Once
	ready := func(addr net.Addr) {
		once.Do(func() {
			out.Lock()
			fmt.Fprintf(stdout, "addr %s\n", addr)
			out.Unlock()
			go func() {
				sc := bufio.NewScanner(stdin)
				for sc.Scan() {
					if sc.Text() != "usage" {
						fmt.Fprintf(stderr, "echo server child: unknown command %q\n", sc.Text())
						os.Exit(2)
					}
					cpu, mallocs := selfUsage()
					out.Lock()
					fmt.Fprintf(stdout, "usage %d %d\n", cpu, mallocs)
					out.Unlock()
				}
				os.Exit(0) // the parent closed stdin, or is gone
			}()
		})
	}
	err := s.serve(ready)
	fmt.Fprintf(stderr, "echo server child %s: serve returned: %v\n", s.name, err)
	return 1
}

// selfUsage returns this process's CPU time (user+system, microseconds) and
// its count of heap allocations.
func selfUsage() (cpuMicros int64, mallocs uint64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpuMicros = ru.Utime.Sec*1e6 + int64(ru.Utime.Usec) + ru.Stime.Sec*1e6 + int64(ru.Stime.Usec)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return cpuMicros, ms.Mallocs
}

// echoClientSpec is what the load client is told, as JSON in its
// environment.
type echoClientSpec struct {
	Addr   string        `json:"addr"`
	Conns  int           `json:"conns"`
	Size   int           `json:"size"`
	Warmup time.Duration `json:"warmup"`
	Window time.Duration `json:"window"`
}

// echoClientResult is what the load client reports: the round trips that
// ended in the window, and their latency percentiles in nanoseconds.
type echoClientResult struct {
	Requests int           `json:"requests"`
	Elapsed  time.Duration `json:"elapsed"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	P999     time.Duration `json:"p999"`
	Max      time.Duration `json:"max"`
}

// Phases of the load client.
const (
	phaseWarmup int32 = iota
	phaseWindow
	phaseDone
)

// echoClientChild is the load client: it runs spec's connections and
// talks to the parent on stdin and stdout.
func echoClientChild(specJSON string, stdin io.Reader, stdout, stderr io.Writer) int {
	var spec echoClientSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil || spec.Conns < 1 || spec.Size < 8 || spec.Window <= 0 {
		fmt.Fprintf(stderr, "echo client child: bad %s=%q (%v)\n", echoClientEnv, specJSON, err)
		return 2
	}
	res, err := echoLoad(spec, stdin, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "echo client child:", err)
		return 1
	}
	b, _ := json.Marshal(res)
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}

// echoLoad dials spec.Conns connections, keeps each busy in a closed loop,
// says "ready" after the warm-up, waits for "start", measures for
// spec.Window, says "stopped", and returns what the window saw.
func echoLoad(spec echoClientSpec, stdin io.Reader, stdout io.Writer) (echoClientResult, error) {
	conns := make([]net.Conn, 0, spec.Conns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	d := net.Dialer{Timeout: 10 * time.Second}
	for range spec.Conns {
		c, err := d.Dial("tcp", spec.Addr)
		if err != nil {
			return echoClientResult{}, fmt.Errorf("dial %d of %d: %w", len(conns)+1, spec.Conns, err)
		}
		conns = append(conns, c)
	}
	var phase atomic.Int32
	samples := make([][]time.Duration, len(conns))
	var failed struct {
		sync.Mutex
		err error // the first connection's error
	}
	failure := func() error {
		failed.Lock()
		defer failed.Unlock()
		return failed.err
	}
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			s, err := echoConn(c, spec.Size, uint64(i)<<40, &phase)
			samples[i] = s
			if err != nil {
				failed.Lock()
				if failed.err == nil {
					failed.err = fmt.Errorf("connection %d: %w", i+1, err)
				}
				failed.Unlock()
			}
		})
	}
	stopAll := func() {
		phase.Store(phaseDone)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			for _, c := range conns {
				c.Close() // unblocks the reads: a server that stopped answering
			}
			<-done
		}
	}
	time.Sleep(spec.Warmup)
	if err := failure(); err != nil { // a connection failed in the warm-up
		stopAll()
		return echoClientResult{}, err
	}
	fmt.Fprintln(stdout, "ready")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil || line != "start\n" {
		stopAll()
		return echoClientResult{}, fmt.Errorf("waiting for start: got %q, %v", line, err)
	}
	phase.Store(phaseWindow)
	t0 := time.Now()
	time.Sleep(spec.Window)
	phase.Store(phaseDone)
	elapsed := time.Since(t0)
	fmt.Fprintln(stdout, "stopped")
	stopAll()
	if err := failure(); err != nil {
		return echoClientResult{}, err
	}
	all := slices.Concat(samples...)
	slices.Sort(all)
	return echoClientResult{
		Requests: len(all),
		Elapsed:  elapsed,
		P50:      percentile(all, 50),
		P99:      percentile(all, 99),
		P999:     percentile(all, 99.9),
		Max:      percentile(all, 100),
	}, nil
}

// echoConn runs one connection's closed loop until the phase is done, and
// returns the round trips that ended in the window. Each message carries a
// sequence number in its first 8 bytes; an echo that differs from what was
// sent is an error.
func echoConn(c net.Conn, size int, seq uint64, phase *atomic.Int32) ([]time.Duration, error) {
	msg, buf := make([]byte, size), make([]byte, size)
	for i := range msg {
		msg[i] = byte(i)
	}
	var samples []time.Duration
	for {
		seq++
		binary.LittleEndian.PutUint64(msg, seq)
		t := time.Now()
		if _, err := c.Write(msg); err != nil {
			return nil, fmt.Errorf("write: %w", err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		rtt := time.Since(t)
		if !bytes.Equal(buf, msg) {
			return nil, fmt.Errorf("echo %d differs from the message sent", seq)
		}
		switch phase.Load() {
		case phaseWindow:
			samples = append(samples, rtt)
		case phaseDone:
			return samples, nil
		}
	}
}

// percentile returns the q-th percentile (0 < q <= 100) of sorted: the
// smallest sample that q percent of the samples are at most (the nearest
// rank); 0 for no samples.
func percentile(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The rank, ceil(q/100*n), computed on integers where q has at most
	// three decimals, so that 99.9% of 1000 is rank 999, not 1000.
	k := int64(q*1000 + 0.5)
	rank := int((k*int64(n) + 100_000 - 1) / 100_000)
	return sorted[min(max(rank, 1), n)-1]
}

// An echoConfig is one measurement's shape.
type echoConfig struct {
	conns  int
	size   int
	warmup time.Duration
	window time.Duration
}

// An echoResult is one measurement of one server.
type echoResult struct {
	server     string
	requests   int
	reqPerSec  float64
	cpuPerReq  float64 // server CPU ns per request
	cpuSource  string  // "clock" or "getrusage"
	allocsReq  float64 // server heap allocations per request
	p50, p99   time.Duration
	p999, pmax time.Duration
	pinned     string // how the processes were placed
}

// echoLimit bounds one measurement, children and all.
func echoLimit(cfg echoConfig) time.Duration {
	return cfg.warmup + cfg.window + 30*time.Second
}

// measureEcho measures one server under cfg's load: it starts the server
// and the client children, runs the window, and stops both. No child
// outlives it, on any path.
func measureEcho(s echoServer, cfg echoConfig) (echoResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return echoResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), echoLimit(cfg))
	defer cancel()
	procs := max(s.procs, 1)
	srvCPUs, clCPU, pinned := echoPlace(procs)

	srv, err := startEchoChild(ctx, "echo server "+s.name, exe, echoServerEnv+"="+s.key, procs, srvCPUs)
	if err != nil {
		return echoResult{}, fmt.Errorf("echo server %s: start: %w", s.name, err)
	}
	defer srv.stop()
	var u0, u1 serverUsage
	var clock0, clock1 int64
	var clockErr, clockErr1 error
	pid := srv.cmd.Process.Pid
	cr, err := driveEcho(ctx, s.name, exe, srv, cfg, clCPU,
		func() (err error) {
			u0, err = srv.usage(ctx)
			clock0, clockErr = processCPUTime(pid)
			return err
		},
		func() (err error) {
			clock1, clockErr1 = processCPUTime(pid)
			u1, err = srv.usage(ctx)
			return err
		})
	if err != nil {
		return echoResult{}, err
	}
	r := echoResult{
		server:    s.name,
		requests:  cr.Requests,
		reqPerSec: float64(cr.Requests) / cr.Elapsed.Seconds(),
		allocsReq: float64(u1.mallocs-u0.mallocs) / float64(cr.Requests),
		p50:       cr.P50, p99: cr.P99, p999: cr.P999, pmax: cr.Max,
		pinned: pinned,
	}
	if clockErr == nil && clockErr1 == nil {
		r.cpuPerReq, r.cpuSource = float64(clock1-clock0)/float64(cr.Requests), "clock"
	} else {
		r.cpuPerReq, r.cpuSource = float64((u1.cpuMicros-u0.cpuMicros)*1000)/float64(cr.Requests), "getrusage"
	}
	return r, nil
}

// driveEcho runs the bench's load client against srv, a started echo
// server called name: it reads the server's address, starts the client on
// CPU clCPU, lets it connect and warm up, and calls before and after around
// the measured window (to sample the server's CPU time), and returns the
// client's result. The caller stops srv; the client is stopped here.
func driveEcho(ctx context.Context, name, exe string, srv *echoChild, cfg echoConfig, clCPU int, before, after func() error) (echoClientResult, error) {
	var cr echoClientResult
	line, err := srv.line(ctx)
	addr, ok := strings.CutPrefix(line, "addr ")
	if err != nil || !ok {
		return cr, srv.fail("start", line, err)
	}
	spec, _ := json.Marshal(echoClientSpec{Addr: addr, Conns: cfg.conns, Size: cfg.size, Warmup: cfg.warmup, Window: cfg.window})
	cl, err := startEchoChild(ctx, "echo client", exe, echoClientEnv+"="+string(spec), 1, []int{clCPU})
	if err != nil {
		return cr, fmt.Errorf("echo client: start: %w", err)
	}
	defer cl.stop()
	clFail := func(step, line string, err error) error {
		err = cl.fail(step, line, err)
		srv.stop() // for its stderr: the client's trouble may be the server's
		if s := strings.TrimSpace(srv.stderr.String()); s != "" {
			err = fmt.Errorf("%w; the server's stderr: %s", err, tail(s, 600))
		}
		return err
	}
	if line, err := cl.line(ctx); err != nil || line != "ready" {
		return cr, clFail("connect and warm up", line, err)
	}
	if err := before(); err != nil {
		return cr, err
	}
	if err := cl.send("start"); err != nil {
		return cr, clFail("start", "", err)
	}
	if line, err := cl.line(ctx); err != nil || line != "stopped" {
		return cr, clFail("window", line, err)
	}
	if err := after(); err != nil {
		return cr, err
	}
	line, err = cl.line(ctx)
	if err == nil {
		err = json.Unmarshal([]byte(line), &cr)
	}
	if err != nil {
		return cr, clFail("result", line, err)
	}
	if err := cl.wait(); err != nil {
		return cr, clFail("exit", "", err)
	}
	if cr.Requests == 0 {
		return cr, fmt.Errorf("%s: no request completed in the %v window", name, cr.Elapsed)
	}
	return cr, nil
}

// An echoChild is a running child process of the benchmark, with its
// stdin and its stdout's lines.
type echoChild struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout's lines; closed at its end
	stderr *lockedBuffer
	waited bool
	werr   error
}

// startEchoChild starts exe, called name in errors, with env added to this
// process's environment and GOMAXPROCS=procs, on the CPUs cpus (those that
// are not negative; none: not pinned).
func startEchoChild(ctx context.Context, name, exe, env string, procs int, cpus []int) (*echoChild, error) {
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), env, fmt.Sprintf("GOMAXPROCS=%d", procs))
	return startChild(cmd, name, cpus)
}

// line returns the child's next line of output.
func (ch *echoChild) line(ctx context.Context) (string, error) {
	select {
	case l, ok := <-ch.lines:
		if !ok {
			return "", io.EOF
		}
		return l, nil
	case <-ctx.Done():
		return "", fmt.Errorf("no answer: %w", ctx.Err())
	}
}

func (ch *echoChild) send(cmd string) error {
	_, err := io.WriteString(ch.stdin, cmd+"\n")
	return err
}

// A serverUsage is the server child's answer to "usage".
type serverUsage struct {
	cpuMicros int64
	mallocs   uint64
}

func (ch *echoChild) usage(ctx context.Context) (serverUsage, error) {
	if err := ch.send("usage"); err != nil {
		return serverUsage{}, ch.fail("usage", "", err)
	}
	line, err := ch.line(ctx)
	f := strings.Fields(line)
	if err != nil || len(f) != 3 || f[0] != "usage" {
		return serverUsage{}, ch.fail("usage", line, err)
	}
	cpu, err1 := strconv.ParseInt(f[1], 10, 64)
	m, err2 := strconv.ParseUint(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return serverUsage{}, ch.fail("usage", line, errors.Join(err1, err2))
	}
	return serverUsage{cpu, m}, nil
}

// wait waits for the child to exit (the context kills it when it ends).
func (ch *echoChild) wait() error {
	if ch.waited {
		return ch.werr
	}
	ch.waited = true
	go func() {
		for range ch.lines { // the rest of its output, if any
		}
	}()
	ch.werr = ch.cmd.Wait()
	return ch.werr
}

// stop closes the child's stdin (a server exits on it), waits up to a
// second for it to exit, then kills it, and waits for it.
func (ch *echoChild) stop() {
	if ch.waited {
		return
	}
	ch.stdin.Close()
	t := time.AfterFunc(time.Second, func() { ch.cmd.Process.Kill() })
	ch.wait()
	t.Stop()
}

// fail returns the error of a step of the child that went wrong, with
// what it wrote on stderr. It stops the child first, for its stderr.
func (ch *echoChild) fail(step, line string, err error) error {
	ch.stop()
	msg := fmt.Sprintf("%s: %s", ch.name, step)
	if line != "" {
		msg += fmt.Sprintf(": unexpected %q", line)
	}
	if err != nil {
		msg += fmt.Sprintf(": %v", err)
	}
	if s := strings.TrimSpace(ch.stderr.String()); s != "" {
		msg += "; its stderr: " + s
	}
	return errors.New(msg)
}

// A lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 64<<10 {
		return len(p), nil // enough to say what went wrong
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
