//go:build linux

package transport_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/aiotest"
	"github.com/aiogo/aio/aio/transport"
)

// recorder is a protocol that records what its transport tells it, and
// runs the test's hooks.
type recorder struct {
	transport.BaseProtocol
	t       *transport.Transport
	events  []string
	data    []byte
	lost    error
	onMade  func(r *recorder)
	onData  func(r *recorder, b []byte)
	onEOF   func(r *recorder) bool
	onPause func(r *recorder, paused bool)
}

func (r *recorder) ConnectionMade(t *transport.Transport) {
	r.t = t
	r.events = append(r.events, "made")
	if r.onMade != nil {
		r.onMade(r)
	}
}

func (r *recorder) DataReceived(b []byte) {
	if n := len(r.events); n == 0 || r.events[n-1] != "data" {
		r.events = append(r.events, "data")
	}
	r.data = append(r.data, b...)
	if r.onData != nil {
		r.onData(r, b)
	}
}

func (r *recorder) EOFReceived() bool {
	r.events = append(r.events, "eof")
	if r.onEOF != nil {
		return r.onEOF(r)
	}
	return false
}

func (r *recorder) ConnectionLost(err error) {
	r.events = append(r.events, "lost")
	r.lost = err
}

func (r *recorder) PauseWriting() {
	r.events = append(r.events, "pause")
	if r.onPause != nil {
		r.onPause(r, true)
	}
}

func (r *recorder) ResumeWriting() {
	r.events = append(r.events, "resume")
	if r.onPause != nil {
		r.onPause(r, false)
	}
}

// echoProto writes back what it receives.
type echoProto struct {
	transport.BaseProtocol
	t    *transport.Transport
	lost chan error
}

func (e *echoProto) ConnectionMade(t *transport.Transport) { e.t = t }
func (e *echoProto) DataReceived(b []byte)                 { e.t.Write(b) }
func (e *echoProto) ConnectionLost(err error) {
	if e.lost != nil {
		e.lost <- err
	}
}

// roundTrips dials addr from a goroutine and sends messages of random
// sizes (up to max bytes, in random pieces), checking that each comes
// back byte for byte.
func roundTrips(addr string, seed uint64, msgs, maxSize int) error {
	rng := rand.New(rand.NewPCG(seed, 1))
	cn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer cn.Close()
	cn.SetDeadline(time.Now().Add(testTimeout))
	for i := range msgs {
		msg := make([]byte, 1+rng.IntN(maxSize))
		for j := range msg {
			msg[j] = byte(rng.Uint32())
		}
		errc := make(chan error, 1)
		go func() {
			rest := msg
			for len(rest) > 0 {
				k := min(len(rest), 1+rng.IntN(len(msg)))
				if _, err := cn.Write(rest[:k]); err != nil {
					errc <- err
					return
				}
				rest = rest[k:]
			}
			errc <- nil
		}()
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(cn, got); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		if err := <-errc; err != nil {
			return err
		}
		if !bytes.Equal(got, msg) {
			return fmt.Errorf("message %d of %d bytes came back different", i, len(msg))
		}
	}
	return nil
}

// A protocol echo server returns every byte of every message of several
// concurrent Go clients, whatever the message sizes (up to 1 MiB, beyond
// the socket buffers, so that writes queue and flush); each connection's
// ConnectionLost comes with nil when its client closes; after Close and
// Wait no connection is left and a new connect is refused.
func TestEchoServer(t *testing.T) {
	checkFDs(t)
	run(t, func(c *aio.Ctx) error {
		lost := make(chan error, 16)
		srv, err := transport.Serve(c, "tcp", "127.0.0.1:0", func() *echoProto { return &echoProto{lost: lost} })
		if err != nil {
			return err
		}
		addr := srv.Addr().String()
		var chans []<-chan error
		for i := range 4 {
			chans = append(chans, goDo(func() error { return roundTrips(addr, uint64(i), 20, 1<<20) }))
		}
		for i, ch := range chans {
			if err := awaitGo(c, ch); err != nil {
				t.Errorf("client %d: %v", i, err)
			}
		}
		for range 4 {
			v, _, err := aio.GoRecv(c, lost)
			if err != nil {
				return err
			}
			if v != nil {
				t.Errorf("ConnectionLost(%v), want nil", v)
			}
		}
		srv.Close()
		if err := srv.Wait(c); err != nil {
			return err
		}
		if n := srv.Clients(); n != 0 {
			t.Errorf("Clients() = %d after Wait", n)
		}
		if err := awaitGo(c, goDo(func() error {
			cn, err := net.Dial("tcp", addr)
			if err == nil {
				cn.Close()
				return errors.New("a connect after Close succeeded")
			}
			return nil
		})); err != nil {
			t.Error(err)
		}
		return nil
	})
}

// The protocol's methods come in order: ConnectionMade, DataReceived,
// EOFReceived when the peer shuts down its side; a protocol that keeps the
// connection open can still write, and its Close sends the queued bytes
// before ConnectionLost(nil); the peer reads them, then EOF.
func TestEventOrderAndHalfClose(t *testing.T) {
	checkFDs(t)
	run(t, func(c *aio.Ctx) error {
		var rec *recorder
		srv, err := transport.Serve(c, "tcp", "127.0.0.1:0", func() *recorder {
			rec = &recorder{onEOF: func(r *recorder) bool {
				r.t.Write([]byte("got " + string(r.data)))
				r.t.Close()
				return true
			}}
			return rec
		})
		if err != nil {
			return err
		}
		defer srv.Close()
		var reply []byte
		err = awaitGo(c, goDo(func() error {
			cn, err := net.Dial("tcp", srv.Addr().String())
			if err != nil {
				return err
			}
			defer cn.Close()
			cn.SetDeadline(time.Now().Add(testTimeout))
			cn.Write([]byte("hello"))
			cn.(*net.TCPConn).CloseWrite()
			reply, err = io.ReadAll(cn)
			return err
		}))
		if err != nil {
			return err
		}
		if string(reply) != "got hello" {
			t.Errorf("the peer read %q, want %q", reply, "got hello")
		}
		if err := srv.Close(); err != nil {
			return err
		}
		if err := srv.Wait(c); err != nil {
			return err
		}
		if got := fmt.Sprint(rec.events); got != "[made data eof lost]" {
			t.Errorf("events %s, want [made data eof lost]", got)
		}
		if rec.lost != nil {
			t.Errorf("ConnectionLost(%v), want nil", rec.lost)
		}
		return nil
	})
}

// Connect dials a Go server and returns the transport and the protocol,
// ConnectionMade having run; what the protocol writes (with Writev) is
// echoed back;
// Close ends with ConnectionLost(nil), which WaitClosed returns.
func TestConnect(t *testing.T) {
	addr, _ := peer(t, echo)
	run(t, func(c *aio.Ctx) error {
		got := make(chan struct{})
		tr, rec, err := transport.Connect(c, "tcp", addr, func() *recorder {
			return &recorder{onData: func(r *recorder, b []byte) {
				if len(r.data) == 5 {
					close(got)
				}
			}}
		})
		if err != nil {
			return err
		}
		if rec.t != tr || len(rec.events) != 1 {
			t.Fatalf("after Connect: events %v, transport %p, want [made] and %p", rec.events, rec.t, tr)
		}
		if tr.RemoteAddr().String() != addr {
			t.Errorf("RemoteAddr %v, want %s", tr.RemoteAddr(), addr)
		}
		if err := tr.Writev([]byte("hel"), nil, []byte("lo")); err != nil {
			return err
		}
		if _, _, err := aio.GoRecv(c, (<-chan struct{})(got)); err != nil {
			return err
		}
		tr.Close()
		if err := tr.WaitClosed(c); err != nil {
			t.Errorf("WaitClosed = %v", err)
		}
		if string(rec.data) != "hello" || fmt.Sprint(rec.events) != "[made data lost]" {
			t.Errorf("data %q, events %v", rec.data, rec.events)
		}
		return nil
	})
}

// Writing to a closed or closing transport returns an error matching
// net.ErrClosed, never panics; writing after WriteEOF returns
// ErrWriteAfterEOF; Close, Abort and WriteEOF again do nothing; a call
// from another goroutine returns an error matching aio.ErrNotOnLoop.
func TestMisuse(t *testing.T) {
	addr, _ := peer(t, echo)
	run(t, func(c *aio.Ctx) error {
		tr, _, err := transport.Connect(c, "tcp", addr, func() *recorder { return &recorder{} })
		if err != nil {
			return err
		}
		errc := make(chan error)
		go func() { errc <- tr.Write([]byte("x")) }()
		werr, _, _ := aio.GoRecv(c, errc)
		if !errors.Is(werr, aio.ErrNotOnLoop) {
			t.Errorf("Write from a goroutine = %v, want ErrNotOnLoop", werr)
		}
		if err := tr.WriteEOF(); err != nil {
			t.Errorf("WriteEOF = %v", err)
		}
		if err := tr.Write([]byte("x")); !errors.Is(err, transport.ErrWriteAfterEOF) {
			t.Errorf("Write after WriteEOF = %v", err)
		}
		if err := tr.WriteEOF(); err != nil {
			t.Errorf("WriteEOF again = %v", err)
		}
		tr.Close()
		if err := tr.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after Close = %v, want net.ErrClosed", err)
		}
		if err := tr.Close(); err != nil {
			t.Errorf("Close again = %v", err)
		}
		tr.WaitClosed(c)
		if err := tr.Abort(); err != nil {
			t.Errorf("Abort after close = %v", err)
		}
		if err := tr.Write(nil); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after the loss = %v, want net.ErrClosed", err)
		}
		if !tr.IsClosing() || tr.IsReading() {
			t.Errorf("IsClosing %v, IsReading %v after close", tr.IsClosing(), tr.IsReading())
		}
		return nil
	})
}

// Against a peer that never reads, the write buffer grows past the
// high-water mark once: PauseWriting is called, and a protocol that stops
// writing then keeps the buffer bounded by the mark plus one write; when
// the peer reads, the buffer drains, ResumeWriting is called, and every
// byte arrives in order.
func TestFlowControl(t *testing.T) {
	const chunk, total = 16 << 10, 8 << 20
	release := make(chan struct{})
	received := make(chan []byte, 1)
	addr, _ := peer(t, func(cn net.Conn) {
		<-release
		b, _ := io.ReadAll(cn)
		received <- b
	})
	run(t, func(c *aio.Ctx) error {
		var sent, maxBuf int
		paused := make(chan struct{}, 1)
		done := make(chan struct{})
		write := func(r *recorder) {
			for sent < total && !r.t.IsClosing() {
				b := make([]byte, chunk)
				for i := range b {
					b[i] = byte((sent + i) / 7)
				}
				r.t.Write(b)
				sent += chunk
				maxBuf = max(maxBuf, r.t.WriteBufferSize())
				if n := len(r.events); r.events[n-1] == "pause" {
					return
				}
			}
			if sent >= total {
				r.t.Close()
				close(done)
			}
		}
		tr, rec, err := transport.Connect(c, "tcp", addr, func() *recorder {
			return &recorder{onPause: func(r *recorder, p bool) {
				if p {
					select {
					case paused <- struct{}{}:
					default:
					}
					return
				}
				write(r)
			}}
		}, transport.WithWriteBufferLimits(256<<10, 64<<10))
		if err != nil {
			return err
		}
		write(rec)
		if _, _, err := aio.GoRecv(c, (<-chan struct{})(paused)); err != nil {
			return err
		}
		if low, high := tr.WriteBufferLimits(); low != 64<<10 || high != 256<<10 {
			t.Errorf("limits %d, %d", low, high)
		}
		// Let the loop run a while: the peer still does not read.
		aio.Sleep(c, 20*time.Millisecond)
		if maxBuf > 256<<10+chunk {
			t.Errorf("write buffer reached %d bytes, beyond the mark %d plus one write", maxBuf, 256<<10)
		}
		close(release)
		if _, _, err := aio.GoRecv(c, (<-chan struct{})(done)); err != nil {
			return err
		}
		tr.WaitClosed(c)
		b, _, err := aio.GoRecv(c, (<-chan []byte)(received))
		if err != nil {
			return err
		}
		if len(b) != total {
			t.Fatalf("the peer received %d bytes, want %d", len(b), total)
		}
		for i := range b {
			if b[i] != byte(i/7) {
				t.Fatalf("byte %d is %d, want %d", i, b[i], byte(i/7))
			}
		}
		pauses, resumes := 0, 0
		for _, e := range rec.events {
			switch e {
			case "pause":
				pauses++
			case "resume":
				resumes++
			}
		}
		if pauses == 0 || pauses != resumes && pauses != resumes+1 {
			t.Errorf("%d pauses and %d resumes: want alternation, at least one", pauses, resumes)
		}
		return nil
	})
}

// A peer that resets the connection while the transport writes makes the
// transport lose it with an error matching ECONNRESET or EPIPE (given to
// ConnectionLost, and returned by the write that found it, if one did);
// nothing hangs and a later Write returns an error matching net.ErrClosed.
func TestPeerReset(t *testing.T) {
	addr, _ := peer(t, func(cn net.Conn) {
		buf := make([]byte, 1)
		io.ReadFull(cn, buf)
		cn.(*net.TCPConn).SetLinger(0)
		cn.Close() // an RST
	})
	run(t, func(c *aio.Ctx) error {
		tr, rec, err := transport.Connect(c, "tcp", addr, func() *recorder { return &recorder{} })
		if err != nil {
			return err
		}
		big := make([]byte, 1<<20)
		for !tr.IsClosing() {
			if err := tr.Write(big); err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
				t.Errorf("Write = %v, want ECONNRESET or EPIPE", err)
			}
			if tr.WriteBufferSize() > 0 {
				aio.Sleep(c, time.Millisecond)
			}
		}
		err = tr.WaitClosed(c)
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Errorf("ConnectionLost(%v), want ECONNRESET or EPIPE", err)
		}
		if !errors.Is(rec.lost, err) {
			t.Errorf("the protocol got %v, WaitClosed %v", rec.lost, err)
		}
		if err := tr.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after the reset = %v", err)
		}
		return nil
	})
}

// A transport paused in ConnectionMade delivers nothing until
// ResumeReading, and then all the bytes the peer sent meanwhile.
func TestPauseReading(t *testing.T) {
	addr, _ := peer(t, sendThenClose("one ", "two"))
	run(t, func(c *aio.Ctx) error {
		tr, rec, err := transport.Connect(c, "tcp", addr, func() *recorder {
			return &recorder{onMade: func(r *recorder) { r.t.PauseReading() }}
		})
		if err != nil {
			return err
		}
		if tr.IsReading() {
			t.Error("IsReading after PauseReading")
		}
		aio.Sleep(c, 30*time.Millisecond)
		if len(rec.data) != 0 {
			t.Errorf("received %q while paused", rec.data)
		}
		tr.ResumeReading()
		if err := tr.WaitClosed(c); err != nil {
			return err
		}
		if string(rec.data) != "one two" {
			t.Errorf("received %q, want %q", rec.data, "one two")
		}
		if fmt.Sprint(rec.events) != "[made data eof lost]" {
			t.Errorf("events %v", rec.events)
		}
		return nil
	})
}

// buffered is a BufferedProtocol with a small buffer of its own.
type buffered struct {
	transport.BaseProtocol
	buf   []byte
	got   []byte
	calls int
	hint  int
}

func (b *buffered) GetBuffer(hint int) []byte { b.hint = hint; return b.buf }
func (b *buffered) BufferUpdated(n int) {
	b.calls++
	b.got = append(b.got, b.buf[:n]...)
}
func (b *buffered) DataReceived([]byte) { panic("DataReceived on a BufferedProtocol") }

// A BufferedProtocol's bytes are read into the buffer it gives, at most
// its length at a time, and arrive intact; DataReceived is not called.
func TestBufferedProtocol(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789"), 100)
	addr, _ := peer(t, sendThenClose(string(msg)))
	run(t, func(c *aio.Ctx) error {
		tr, p, err := transport.Connect(c, "tcp", addr, func() *buffered { return &buffered{buf: make([]byte, 7)} })
		if err != nil {
			return err
		}
		if err := tr.WaitClosed(c); err != nil {
			return err
		}
		if !bytes.Equal(p.got, msg) {
			t.Errorf("received %d bytes, want %d, intact", len(p.got), len(msg))
		}
		if p.calls < len(msg)/7 || p.hint != -1 {
			t.Errorf("%d BufferUpdated calls (want >= %d), hint %d", p.calls, len(msg)/7, p.hint)
		}
		return nil
	})
}

// A protocol that panics in DataReceived has its transport aborted with
// ErrProtocolPanic; the panic reaches the loop's error handler; the server
// goes on serving other connections.
func TestProtocolPanic(t *testing.T) {
	checkFDs(t)
	var reports []aio.ErrorContext
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		return struct{}{}, aio.WithTimeout(c, testTimeout, func(c *aio.Ctx) error {
			lost := make(chan error, 4)
			n := 0
			var first *recorder
			srv, err := transport.Serve(c, "tcp", "127.0.0.1:0", func() transport.Protocol {
				n++
				if n == 1 {
					first = &recorder{onData: func(*recorder, []byte) { panic("boom") }}
					return first
				}
				return &echoProto{lost: lost}
			})
			if err != nil {
				return err
			}
			addr := srv.Addr().String()
			err = awaitGo(c, goDo(func() error {
				cn, err := net.Dial("tcp", addr)
				if err != nil {
					return err
				}
				defer cn.Close()
				cn.SetDeadline(time.Now().Add(testTimeout))
				cn.Write([]byte("x"))
				if _, err := cn.Read(make([]byte, 1)); err == nil {
					return errors.New("the panicking connection answered")
				}
				return roundTrips(addr, 3, 3, 1000)
			}))
			if err != nil {
				t.Error(err)
			}
			srv.Close()
			srv.AbortClients()
			if err := srv.Wait(c); err != nil {
				return err
			}
			if first.lost != transport.ErrProtocolPanic {
				t.Errorf("the panicking protocol's ConnectionLost(%v), want ErrProtocolPanic", first.lost)
			}
			return nil
		})
	}, aio.WithErrorHandler(func(l *aio.Loop, ec aio.ErrorContext) { reports = append(reports, ec) }))
	if err != nil {
		t.Fatal(err)
	}
	var pe *aio.PanicError
	if len(reports) != 1 || !errors.As(reports[0].Err, &pe) || pe.Value != "boom" {
		t.Errorf("reports %v, want one panic boom", reports)
	}
}

// On a virtual clock, bytes queued for a peer that reads late hold the
// clock: the queue drains (the peer reading after a moment of real time)
// before a task sleeping an hour of virtual time wakes.
func TestBlockedWriteHoldsVirtualClock(t *testing.T) {
	addr, _ := peer(t, func(cn net.Conn) {
		time.Sleep(20 * time.Millisecond)
		io.Copy(io.Discard, cn)
	})
	aiotest.Run(t, func(c *aio.Ctx) error {
		tr, _, err := transport.Connect(c, "tcp", addr, func() *recorder { return &recorder{} })
		if err != nil {
			return err
		}
		var order []string
		sleeper, err := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
			err := aio.Sleep(c, time.Hour)
			order = append(order, "slept")
			return struct{}{}, err
		})
		if err != nil {
			return err
		}
		tr.Write(make([]byte, 8<<20))
		if tr.WriteBufferSize() == 0 {
			t.Fatal("nothing queued")
		}
		tr.Close() // sends the queue, then ConnectionLost
		if err := tr.WaitClosed(c); err != nil {
			return err
		}
		order = append(order, "flushed")
		aio.Await(c, sleeper)
		if fmt.Sprint(order) != "[flushed slept]" {
			t.Errorf("order %v: the clock jumped past a blocked write", order)
		}
		return nil
	})
}
