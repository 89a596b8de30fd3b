//go:build unix

package prop_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/loops"
	"github.com/aiogo/aio/aio/stream"
	"github.com/aiogo/aio/aio/transport"
	"pgregory.net/rapid"
)

// Property tests of package aio/loops: random hand-offs between 2 to 8
// loops through loops.Queue (homed on random loops, bounded, used from
// tasks of every loop) and loops.Call, with random cancellations (timeouts
// of zero to two milliseconds around the operations), counting every
// value: nothing lost, nothing duplicated, and the values of each sender
// in the order it sent them; the sharded server under many connections,
// byte-exact, in both modes; and one loop killed mid-run while the others
// serve.

type item struct{ sender, seq int }

// TestPropLoopsHandOff: each sender (a task on a random loop) sends its
// values, in order, each to a random queue, retrying a Put that was
// cancelled before it put (and counting one that completed despite its
// cancellation); the consumer of each queue, a task on a random loop, gets
// as many values as were sent to it, with cancelled Gets in between, and
// each value is checked once. Each sender also Calls a random loop per
// value with a function that appends to that loop's log (loop-local,
// unlocked): every log is in per-sender order, and each Call that
// reported success (or ErrCompleted) appended exactly once.
func TestPropLoopsHandOff(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(2, 8).Draw(rt, "loops")
		g, err := loops.New(n, loops.WithShutdownTimeout(testDeadline()))
		if err != nil {
			rt.Fatal(err)
		}
		g.Start()
		defer g.Close()
		nq := rapid.IntRange(1, n).Draw(rt, "queues")
		qs := make([]*loops.Queue[item], nq)
		for i := range qs {
			qs[i] = loops.NewQueue[item](g.Loop(rapid.IntRange(0, n-1).Draw(rt, "home")), rapid.IntRange(0, 3).Draw(rt, "cap"))
		}
		ns := rapid.IntRange(1, 6).Draw(rt, "senders")
		type plan struct {
			loop    int
			targets []int // queue per value
			calls   []int // loop per value
			cancel  []int // 0: none, else a timeout in 1/2 ms
		}
		plans := make([]plan, ns)
		expect := make([]int, nq)
		for s := range plans {
			k := rapid.IntRange(0, 20).Draw(rt, "values")
			p := plan{loop: rapid.IntRange(0, n-1).Draw(rt, "senderLoop")}
			for range k {
				q := rapid.IntRange(0, nq-1).Draw(rt, "target")
				p.targets = append(p.targets, q)
				p.calls = append(p.calls, rapid.IntRange(0, n-1).Draw(rt, "callLoop"))
				p.cancel = append(p.cancel, rapid.IntRange(0, 4).Draw(rt, "cancel"))
				expect[q]++
			}
			plans[s] = p
		}
		logs := make([][]item, n) // each written by its loop only
		var calls atomic.Int64    // Calls that ran their function
		var mu sync.Mutex
		var fails []string
		fail := func(f string, a ...any) {
			mu.Lock()
			fails = append(fails, fmt.Sprintf(f, a...))
			mu.Unlock()
		}
		under := func(c *aio.Ctx, k int, body func(c *aio.Ctx) error) error {
			if k == 0 {
				return body(c)
			}
			return aio.WithTimeout(c, time.Duration(k)*500*time.Microsecond, body)
		}
		var tasks []*aio.Task[struct{}]
		for s, p := range plans {
			task, _ := aio.Spawn(g.Loop(p.loop), func(c *aio.Ctx) (struct{}, error) {
				for seq, q := range p.targets {
					v := item{s, seq}
					for put := false; !put; {
						// Inside the scope: its exit turns our cancellation,
						// ErrCompleted or not, into ErrTimeout.
						err := under(c, p.cancel[seq], func(c *aio.Ctx) error {
							err := qs[q].Put(c, v)
							if errors.Is(err, loops.ErrCompleted) {
								put = true
							}
							return err
						})
						switch {
						case err == nil:
							put = true
						case put:
						case errors.Is(err, aio.ErrTimeout), errors.Is(err, context.Canceled):
						default:
							fail("sender %d: Put: %v", s, err)
							return struct{}{}, nil
						}
					}
					target := p.calls[seq]
					for done := false; !done; {
						_, err := loops.Call(c, g.Loop(target), func(rc *aio.Ctx) (int, error) {
							logs[target] = append(logs[target], v)
							calls.Add(1)
							return 0, nil
						})
						done = err == nil
						if err != nil {
							fail("sender %d: Call: %v", s, err)
							return struct{}{}, nil
						}
					}
				}
				return struct{}{}, nil
			})
			tasks = append(tasks, task)
		}
		got := make([][]item, nq)
		for q := range qs {
			loop := rapid.IntRange(0, n-1).Draw(rt, "consumerLoop")
			cancel := rapid.IntRange(0, 4).Draw(rt, "consumerCancel")
			task, _ := aio.Spawn(g.Loop(loop), func(c *aio.Ctx) (struct{}, error) {
				for len(got[q]) < expect[q] {
					var v item
					err := under(c, cancel, func(c *aio.Ctx) error {
						var err error
						v, err = qs[q].Get(c)
						return err
					})
					switch {
					case err == nil:
						got[q] = append(got[q], v)
					case errors.Is(err, aio.ErrTimeout), errors.Is(err, context.Canceled):
						if errors.Is(err, loops.ErrCompleted) {
							fail("consumer %d: a Get returned ErrCompleted", q)
						}
					default:
						fail("consumer %d: Get: %v", q, err)
						return struct{}{}, nil
					}
				}
				return struct{}{}, nil
			})
			tasks = append(tasks, task)
		}
		ctx, cancelCtx := context.WithTimeout(context.Background(), testDeadline())
		defer cancelCtx()
		for _, task := range tasks {
			if _, err := task.Wait(ctx); err != nil {
				g.Close()
				rt.Fatalf("a task did not finish: %v (%v)", err, fails)
			}
		}
		if len(fails) > 0 {
			rt.Fatal(fails)
		}
		// Count and order: every value once, in each sender's order.
		seen := map[item]int{}
		for q := range got {
			last := map[int]int{}
			for _, v := range got[q] {
				seen[v]++
				if l, ok := last[v.sender]; ok && v.seq <= l {
					rt.Fatalf("queue %d: sender %d's %d after %d", q, v.sender, v.seq, l)
				}
				last[v.sender] = v.seq
			}
		}
		total := 0
		for s, p := range plans {
			total += len(p.targets)
			for seq := range p.targets {
				if c := seen[item{s, seq}]; c != 1 {
					rt.Fatalf("value %d/%d got %d times", s, seq, c)
				}
			}
		}
		if len(seen) != total {
			rt.Fatalf("%d distinct values, %d sent", len(seen), total)
		}
		// The logs are read after the loops closed (no race).
		g.Close()
		if int(calls.Load()) != total {
			rt.Fatalf("%d calls ran, %d made", calls.Load(), total)
		}
		for i, lg := range logs {
			last := map[int]int{}
			for _, v := range lg {
				if l, ok := last[v.sender]; ok && v.seq <= l {
					rt.Fatalf("loop %d's log: sender %d's %d after %d", i, v.sender, v.seq, l)
				}
				last[v.sender] = v.seq
			}
		}
	})
}

func testDeadline() time.Duration { return 60 * time.Second }

func loopsEcho(c *aio.Ctx, s *stream.Stream) error {
	for {
		b, err := s.Read(c, 64<<10)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		s.Write(c, b)
		if err := s.Drain(c); err != nil {
			return err
		}
	}
}

// echoConns opens conns connections and echoes msgs random messages on
// each, byte-exact; it returns the first error.
func echoConns(addr string, conns, msgs int, sizes []int, prefix bool) error {
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for k := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cn, err := net.DialTimeout("tcp", addr, testDeadline())
			if err != nil {
				errs <- err
				return
			}
			defer cn.Close()
			cn.SetDeadline(time.Now().Add(testDeadline()))
			if prefix { // the index of the serving loop
				if _, err := io.ReadFull(cn, make([]byte, 1)); err != nil {
					errs <- err
					return
				}
			}
			for m := range msgs {
				want := make([]byte, sizes[(k+m)%len(sizes)])
				for i := range want {
					want[i] = byte(k ^ m*13 ^ i)
				}
				if _, err := cn.Write(want); err != nil {
					errs <- err
					return
				}
				got := make([]byte, len(want))
				if _, err := io.ReadFull(cn, got); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, want) {
					errs <- fmt.Errorf("conn %d msg %d differs", k, m)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// loopsEchoProto writes back what it receives.
type loopsEchoProto struct {
	transport.BaseProtocol
	t *transport.Transport
}

func (p *loopsEchoProto) ConnectionMade(t *transport.Transport) { p.t = t }
func (p *loopsEchoProto) DataReceived(b []byte)                 { p.t.Write(b) }

// TestPropLoopsShardedServer: a group of 1 to 4 loops serves streams or protocols from
// every loop (SO_REUSEPORT on Linux, or the acceptor), and many
// connections with messages of random sizes are echoed byte for byte.
func TestPropLoopsShardedServer(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 4).Draw(rt, "loops")
		acceptor := rapid.Bool().Draw(rt, "acceptor")
		proto := rapid.Bool().Draw(rt, "protocol")
		conns := rapid.IntRange(1, 150).Draw(rt, "conns")
		sizes := rapid.SliceOfN(rapid.IntRange(1, 40000), 1, 4).Draw(rt, "sizes")
		g, _ := loops.New(n)
		g.Start()
		defer g.Close()
		var opts []loops.ServeOption
		if acceptor {
			opts = append(opts, loops.WithAcceptor())
		}
		var srv *loops.Server
		var err error
		if proto {
			srv, err = loops.ServeProtocol(g, "tcp", "127.0.0.1:0", func() *loopsEchoProto { return &loopsEchoProto{} }, opts...)
		} else {
			srv, err = loops.ServeStream(g, "tcp", "127.0.0.1:0", loopsEcho, opts...)
		}
		if err != nil {
			rt.Fatal(err)
		}
		if err := echoConns(srv.Addr().String(), conns, 3, sizes, false); err != nil {
			rt.Fatal(err)
		}
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline())
		defer cancel()
		if err := srv.Wait(ctx); err != nil {
			rt.Fatal(err)
		}
	})
}

// TestPropLoopsKilledLoop: while connections are served by a group of 2
// to 4 loops with restart, one loop is killed (runtime.Goexit in a task);
// connections on the other loops are echoed byte for byte throughout,
// the killed loop's connections end with an error or EOF (never with
// wrong bytes), and after the restart every loop serves again.
func TestPropLoopsKilledLoop(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(2, 4).Draw(rt, "loops")
		acceptor := rapid.Bool().Draw(rt, "acceptor")
		first := 0
		if acceptor {
			first = 1 // the acceptor's loop is not killed: see TestKilledAcceptor
		}
		victim := rapid.IntRange(first, n-1).Draw(rt, "victim")
		fds := openFDs()
		failed := make(chan loops.Failure, 1)
		g, _ := loops.New(n, loops.WithRestart(),
			loops.WithOnFailure(func(f loops.Failure) { failed <- f }),
			loops.WithErrorHandler(func(int, *aio.Loop, aio.ErrorContext) {}))
		g.Start()
		defer g.Close()
		var opts []loops.ServeOption
		if acceptor {
			opts = append(opts, loops.WithAcceptor())
		}
		// The handler says which loop serves the connection, then echoes.
		srv, err := loops.ServeStream(g, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			s.Write(c, []byte{byte(g.Index(c.Loop()))})
			return loopsEcho(c, s)
		}, opts...)
		if err != nil {
			rt.Fatal(err)
		}
		addr := srv.Addr().String()
		type conn struct {
			cn   net.Conn
			loop int
		}
		var cs []conn
		for range 4 * n {
			cn, err := net.DialTimeout("tcp", addr, testDeadline())
			if err != nil {
				rt.Fatal(err)
			}
			cn.SetDeadline(time.Now().Add(testDeadline()))
			b := make([]byte, 1)
			if _, err := io.ReadFull(cn, b); err != nil {
				rt.Fatal(err)
			}
			cs = append(cs, conn{cn, int(b[0])})
		}
		defer func() {
			for _, c := range cs {
				c.cn.Close()
			}
		}()
		aio.Spawn(g.Loop(victim), func(c *aio.Ctx) (struct{}, error) { runtime.Goexit(); return struct{}{}, nil })
		select {
		case <-failed:
		case <-time.After(testDeadline()):
			rt.Fatal("no failure")
		}
		for k, c := range cs {
			msg := []byte(fmt.Sprintf("message %d", k))
			_, werr := c.cn.Write(msg)
			got := make([]byte, len(msg))
			_, rerr := io.ReadFull(c.cn, got)
			if c.loop == victim {
				if werr == nil && rerr == nil && bytes.Equal(got, msg) {
					rt.Fatalf("conn %d of the killed loop still echoes", k)
				}
				if rerr == nil && !bytes.Equal(got, msg) {
					rt.Fatalf("conn %d of the killed loop: wrong bytes", k)
				}
				continue
			}
			if werr != nil || rerr != nil || !bytes.Equal(got, msg) {
				rt.Fatalf("conn %d on loop %d: %v %v %q", k, c.loop, werr, rerr, got)
			}
		}
		// New connections are served, byte-exact, by the loops (the
		// restarted one included).
		if err := echoConns(addr, 20, 2, []int{100, 5000}, true); err != nil {
			rt.Fatal(err)
		}
		srv.Close()
		srv.CloseClients()
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline())
		defer cancel()
		srv.Wait(ctx)
		// No descriptor is left: neither the killed loop's (its listener,
		// its connections) nor the others'.
		for _, c := range cs {
			c.cn.Close()
		}
		cs = nil
		g.Close()
		if n := openFDs(); n != fds {
			rt.Fatalf("%d fds open, %d before", n, fds)
		}
	})
}

// openFDs counts the process's open descriptors (Linux; -1 elsewhere).
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// TestPropLoopsQueueMachine: a rapid state machine drives a loops.Queue
// homed on one loop of a group of 2 to 4, one operation at a time, each
// from a task of a random loop: Put, Get, and Gets and Puts under a timeout
// of zero to 200 microseconds that may cancel them anywhere on their way.
// The model is the queue's contents: a Get returns the model's head; a
// cancelled Get takes nothing; a cancelled Put put nothing unless it says
// ErrCompleted. After each step the queue's length on its home loop equals
// the model's.
func TestPropLoopsQueueMachine(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(2, 4).Draw(rt, "loops")
		g, _ := loops.New(n)
		g.Start()
		defer g.Close()
		home := rapid.IntRange(0, n-1).Draw(rt, "home")
		q := loops.NewQueue[int](g.Loop(home), 0)
		var model []int
		next := 0
		on := func(i int, body func(c *aio.Ctx) (int, error)) (int, error) {
			task, err := aio.Spawn(g.Loop(i), body)
			if err != nil {
				rt.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), testDeadline())
			defer cancel()
			return task.Wait(ctx)
		}
		timeout := func() time.Duration {
			return time.Duration(rapid.IntRange(0, 200).Draw(rt, "us")) * time.Microsecond
		}
		rt.Repeat(map[string]func(*rapid.T){
			"put": func(rt *rapid.T) {
				i := rapid.IntRange(0, n-1).Draw(rt, "from")
				v := next
				next++
				if _, err := on(i, func(c *aio.Ctx) (int, error) { return 0, q.Put(c, v) }); err != nil {
					rt.Fatal(err)
				}
				model = append(model, v)
			},
			"get": func(rt *rapid.T) {
				if len(model) == 0 {
					rt.Skip("empty")
				}
				i := rapid.IntRange(0, n-1).Draw(rt, "from")
				v, err := on(i, func(c *aio.Ctx) (int, error) { return q.Get(c) })
				if err != nil || v != model[0] {
					rt.Fatalf("Get = %v, %v; want %d", v, err, model[0])
				}
				model = model[1:]
			},
			"cancelledGet": func(rt *rapid.T) {
				i := rapid.IntRange(0, n-1).Draw(rt, "from")
				d := timeout()
				type out struct {
					v  int
					ok bool
				}
				var o out
				_, err := on(i, func(c *aio.Ctx) (int, error) {
					err := aio.WithTimeout(c, d, func(c *aio.Ctx) error {
						v, err := q.Get(c)
						if err == nil {
							o = out{v, true}
						} else if errors.Is(err, loops.ErrCompleted) {
							return fmt.Errorf("Get returned ErrCompleted: %w", err)
						}
						return err
					})
					if err != nil && !errors.Is(err, aio.ErrTimeout) {
						return 0, err
					}
					return 0, nil
				})
				if err != nil {
					rt.Fatal(err)
				}
				if o.ok {
					if len(model) == 0 || o.v != model[0] {
						rt.Fatalf("Get = %d, model %v", o.v, model)
					}
					model = model[1:]
				}
			},
			"cancelledPut": func(rt *rapid.T) {
				i := rapid.IntRange(0, n-1).Draw(rt, "from")
				d := timeout()
				v := next
				next++
				put := false
				_, err := on(i, func(c *aio.Ctx) (int, error) {
					err := aio.WithTimeout(c, d, func(c *aio.Ctx) error {
						err := q.Put(c, v)
						if err == nil || errors.Is(err, loops.ErrCompleted) {
							put = true
						}
						return err
					})
					if err != nil && !errors.Is(err, aio.ErrTimeout) {
						return 0, err
					}
					return 0, nil
				})
				if err != nil {
					rt.Fatal(err)
				}
				if put {
					model = append(model, v)
				}
			},
			"": func(rt *rapid.T) {
				got, err := on(home, func(c *aio.Ctx) (int, error) { return q.Len(), nil })
				if err != nil || got != len(model) {
					rt.Fatalf("Len = %d, %v; model %v", got, err, model)
				}
			},
		})
	})
}
