//go:build linux

package stream_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
)

// open connects to addr, reporting a failure with t.Errorf.
func open(t *testing.T, c *aio.Ctx, addr string, opts ...stream.Option) *stream.Stream {
	t.Helper()
	s, err := stream.Open(c, "tcp", addr, opts...)
	if err != nil {
		t.Errorf("Open: %v", err)
	}
	return s
}

// Messages of several sizes written with Write and Drain come back from an
// echo peer intact through ReadExactly; the end of the stream after
// WriteEOF is io.EOF and AtEOF.
func TestEcho(t *testing.T) {
	addr, stop := peer(t, echo)
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		for i, size := range []int{1, 100, 4096, 300000} {
			msg := bytes.Repeat([]byte{byte('a' + i)}, size)
			if err := s.Write(c, msg); err != nil {
				t.Errorf("Write: %v", err)
				return nil
			}
			if err := s.Drain(c); err != nil {
				t.Errorf("Drain: %v", err)
			}
			got, err := s.ReadExactly(c, size)
			if err != nil || !bytes.Equal(got, msg) {
				t.Errorf("echo of %d bytes: %d bytes, %v", size, len(got), err)
			}
		}
		if err := s.WriteEOF(); err != nil {
			t.Errorf("WriteEOF: %v", err)
		}
		if b, err := s.Read(c, 10); err != io.EOF || b != nil {
			t.Errorf("Read at the end: %q, %v, want io.EOF", b, err)
		}
		if !s.AtEOF() {
			t.Errorf("AtEOF false at the end")
		}
		if s.RemoteAddr().String() != addr {
			t.Errorf("RemoteAddr %v, want %s", s.RemoteAddr(), addr)
		}
		return nil
	})
}

// ReadExactly past the end of the stream returns an *IncompleteReadError
// holding the bytes that came and the size asked for; it matches
// io.ErrUnexpectedEOF.
func TestReadExactlyEarlyEOF(t *testing.T) {
	addr, stop := peer(t, sendThenClose("hel", "lo"))
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		b, err := s.ReadExactly(c, 2)
		if err != nil || string(b) != "he" {
			t.Errorf("ReadExactly(2): %q, %v", b, err)
		}
		_, err = s.ReadExactly(c, 10)
		var ie *stream.IncompleteReadError
		if !errors.As(err, &ie) || string(ie.Partial) != "llo" || ie.Expected != 10 || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("ReadExactly(10) at the end: %v (%#v)", err, ie)
		}
		_, err = s.ReadExactly(c, 1)
		if !errors.Is(err, io.EOF) {
			t.Errorf("ReadExactly(1) after the end: %v, want one matching io.EOF", err)
		}
		return nil
	})
}

// ReadLine returns each line with its '\n', whatever the chunking, then
// the unterminated rest, then io.EOF.
func TestReadLine(t *testing.T) {
	addr, stop := peer(t, sendThenClose("one\ntw", "o\n", "\nthr", "ee"))
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		var got []string
		for {
			l, err := s.ReadLine(c)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("ReadLine: %v", err)
				return nil
			}
			got = append(got, string(l))
		}
		want := []string{"one\n", "two\n", "\n", "three"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("lines %q, want %q", got, want)
		}
		return nil
	})
}

// ReadUntil with two separators returns the shortest chunk ending in
// either; past the limit it returns a *LimitOverrunError, the data stays
// buffered and the stream goes on working.
func TestReadUntilSeparatorsAndLimit(t *testing.T) {
	long := strings.Repeat("x", 40)
	addr, stop := peer(t, sendThenClose("a;b", "\r\nc\r", "\n;", long+";tail;"))
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr, stream.WithLimit(16))
		if s == nil {
			return nil
		}
		defer s.Close()
		seps := [][]byte{[]byte("\r\n"), []byte(";")}
		var got []string
		for range 4 {
			b, err := s.ReadUntil(c, seps...)
			if err != nil {
				t.Errorf("ReadUntil: %v", err)
				return nil
			}
			got = append(got, string(b))
		}
		if w := "a;|b\r\n|c\r\n|;"; strings.Join(got, "|") != w {
			t.Errorf("chunks %q, want %q", strings.Join(got, "|"), w)
		}
		_, err := s.ReadUntil(c, seps...)
		var le *stream.LimitOverrunError
		if !errors.As(err, &le) || !errors.Is(err, stream.ErrLimitOverrun) || le.Limit != 16 || le.Consumed < 16 {
			t.Errorf("ReadUntil past the limit: %v", err)
			return nil
		}
		// The stream is still usable: skip the long chunk and read on.
		b, err := s.ReadExactly(c, len(long)+1)
		if err != nil || string(b) != long+";" {
			t.Errorf("ReadExactly after the overrun: %q, %v", b, err)
		}
		b, err = s.ReadUntil(c, seps...)
		if err != nil || string(b) != "tail;" {
			t.Errorf("ReadUntil after the overrun: %q, %v", b, err)
		}
		_, err = s.ReadUntil(c, seps...)
		var ie *stream.IncompleteReadError
		if !errors.As(err, &ie) || len(ie.Partial) != 0 {
			t.Errorf("ReadUntil at the end: %v", err)
		}
		return nil
	})
}

// ReadLine over a line longer than the limit returns a LimitOverrunError
// and leaves the line in the buffer.
func TestReadLineLimit(t *testing.T) {
	addr, stop := peer(t, sendThenClose("0123456789abcdef\nok\n"))
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr, stream.WithLimit(8))
		if s == nil {
			return nil
		}
		defer s.Close()
		if _, err := s.ReadLine(c); !errors.Is(err, stream.ErrLimitOverrun) {
			t.Errorf("ReadLine of a long line: %v", err)
		}
		if b, err := s.ReadExactly(c, 17); err != nil || string(b) != "0123456789abcdef\n" {
			t.Errorf("the long line stayed: %q, %v", b, err)
		}
		if b, err := s.ReadLine(c); err != nil || string(b) != "ok\n" {
			t.Errorf("next line: %q, %v", b, err)
		}
		return nil
	})
}

// Two tasks draining at once a stream to a peer that reads slowly both
// return (none is stranded) once the buffer is low, and everything written
// reaches the peer in order.
func TestDrainFromTwoTasks(t *testing.T) {
	const total = 4 << 20
	var received atomic.Int64
	sum := make(chan []byte, 1)
	addr, stop := peer(t, func(cn net.Conn) {
		var all []byte
		buf := make([]byte, 4096)
		for {
			n, err := cn.Read(buf)
			all = append(all, buf[:n]...)
			received.Add(int64(n))
			if err != nil {
				break
			}
			if len(all) < 1<<20 {
				time.Sleep(100 * time.Microsecond) // slow at first
			}
		}
		sum <- all
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr, stream.WithWriteBufferLimits(64<<10, 16<<10))
		if s == nil {
			return nil
		}
		msg := make([]byte, total)
		for i := range msg {
			msg[i] = byte(i % 251)
		}
		if err := s.Write(c, msg); err != nil {
			t.Errorf("Write: %v", err)
		}
		if s.WriteBuffered() <= 64<<10 {
			t.Logf("only %d bytes buffered: the kernel took the rest", s.WriteBuffered())
		}
		var done atomic.Int32
		err := aio.WithGroup(c, func(g *aio.Group) error {
			for range 2 {
				g.Go(func(c *aio.Ctx) error {
					if err := s.Drain(c); err != nil {
						return err
					}
					if s.WriteBuffered() > 16<<10 {
						t.Errorf("Drain returned with %d bytes buffered", s.WriteBuffered())
					}
					done.Add(1)
					return nil
				})
			}
			return nil
		})
		if err != nil || done.Load() != 2 {
			t.Errorf("drains: %v, %d done", err, done.Load())
		}
		s.Close()
		if err := s.WaitClosed(c); err != nil {
			t.Errorf("WaitClosed: %v", err)
		}
		return nil
	})
	all := <-sum
	if !bytes.Equal(all, func() []byte {
		m := make([]byte, total)
		for i := range m {
			m[i] = byte(i % 251)
		}
		return m
	}()) {
		t.Errorf("the peer got %d bytes, not the %d written in order", len(all), total)
	}
}

// After WriteEOF the peer reads the end of the stream and can still write
// back, which the stream reads.
func TestWriteEOF(t *testing.T) {
	addr, stop := peer(t, func(cn net.Conn) {
		b, _ := io.ReadAll(cn)
		cn.Write([]byte("got " + string(b)))
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		s.Write(c, []byte("ping"))
		if err := s.WriteEOF(); err != nil {
			t.Errorf("WriteEOF: %v", err)
		}
		if err := s.Write(c, []byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after WriteEOF: %v, want net.ErrClosed", err)
		}
		b, err := s.Read(c, -1)
		if err != nil || string(b) != "got ping" {
			t.Errorf("reply: %q, %v", b, err)
		}
		return nil
	})
}

// A closed stream written to returns an error matching net.ErrClosed; a
// peer that resets the connection gives errors matching
// syscall.ECONNRESET, syscall.EPIPE or net.ErrClosed, never a hang.
func TestClosedAndReset(t *testing.T) {
	addr, stop := peer(t, func(cn net.Conn) {
		io.ReadFull(cn, make([]byte, 5))
		cn.(*net.TCPConn).SetLinger(0) // close with a RST
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		err := s.Write(c, []byte("hello"))
		for range 1000 {
			if err = s.Write(c, make([]byte, 64<<10)); err == nil {
				err = s.Drain(c)
			}
			if err != nil {
				break
			}
		}
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("writes to a reset peer: %v", err)
		}
		s.Close()
		s.Close()
		if err := s.Write(c, []byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after Close: %v", err)
		}
		if _, err := s.Read(c, 1); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read after Close: %v", err)
		}
		return nil
	})
}

// A cancelled Read loses no bytes: what arrives after is read whole.
func TestCancelledReadLosesNothing(t *testing.T) {
	release := make(chan struct{})
	addr, stop := peer(t, func(cn net.Conn) {
		select {
		case <-release:
		case <-time.After(testTimeout):
		}
		cn.Write([]byte("line\n"))
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		err := aio.WithTimeout(c, 5*time.Millisecond, func(c *aio.Ctx) error {
			_, err := s.ReadLine(c)
			return err
		})
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("ReadLine under a timeout: %v", err)
		}
		close(release)
		if b, err := s.ReadLine(c); err != nil || string(b) != "line\n" {
			t.Errorf("ReadLine after the cancellation: %q, %v", b, err)
		}
		return nil
	})
}

// bufio.Reader and bufio.Writer work over Conn(c).
func TestBufio(t *testing.T) {
	addr, stop := peer(t, echo)
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		conn := s.Conn(c)
		w := bufio.NewWriter(conn)
		r := bufio.NewReader(conn)
		for i := range 100 {
			w.WriteString(strings.Repeat("z", i) + "\n")
		}
		if err := w.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		for i := range 100 {
			l, err := r.ReadString('\n')
			if err != nil || l != strings.Repeat("z", i)+"\n" {
				t.Errorf("line %d: %q, %v", i, l, err)
				return nil
			}
		}
		return nil
	})
}

// encoding/json's Encoder and Decoder work over Conn(c).
func TestJSON(t *testing.T) {
	addr, stop := peer(t, echo)
	defer stop()
	type msg struct {
		N    int
		Text string
	}
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		enc, dec := json.NewEncoder(s.Conn(c)), json.NewDecoder(s.Conn(c))
		for i := range 20 {
			in := msg{i, strings.Repeat("j", i*100)}
			if err := enc.Encode(in); err != nil {
				t.Errorf("Encode: %v", err)
				return nil
			}
			var out msg
			if err := dec.Decode(&out); err != nil || out != in {
				t.Errorf("Decode: %+v, %v", out.N, err)
				return nil
			}
		}
		return nil
	})
}

// net/textproto reads a dot-less command exchange and MIME header over
// Conn(c) from a Go peer.
func TestTextproto(t *testing.T) {
	addr, stop := peer(t, func(cn net.Conn) {
		tp := textproto.NewConn(cn)
		defer tp.Close()
		tp.PrintfLine("220 ready")
		l, _ := tp.ReadLine()
		tp.PrintfLine("250 hello %s", strings.TrimPrefix(l, "HELO "))
		tp.PrintfLine("Subject: hi")
		tp.PrintfLine("X-N: 1")
		tp.PrintfLine("")
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		tp := textproto.NewConn(s.Conn(c))
		if _, _, err := tp.ReadCodeLine(220); err != nil {
			t.Errorf("greeting: %v", err)
		}
		if err := tp.PrintfLine("HELO aio"); err != nil {
			t.Errorf("PrintfLine: %v", err)
		}
		if _, m, err := tp.ReadCodeLine(250); err != nil || m != "hello aio" {
			t.Errorf("reply: %q, %v", m, err)
		}
		h, err := tp.ReadMIMEHeader()
		if err != nil || h.Get("Subject") != "hi" || h.Get("X-N") != "1" {
			t.Errorf("header %v, %v", h, err)
		}
		return nil
	})
}

// A Read past its read deadline returns an error matching
// os.ErrDeadlineExceeded that is a net.Error with Timeout() true; the
// stream works after the deadline is cleared, with nothing lost.
func TestReadDeadline(t *testing.T) {
	release := make(chan struct{})
	addr, stop := peer(t, func(cn net.Conn) {
		select {
		case <-release:
		case <-time.After(testTimeout):
		}
		cn.Write([]byte("late"))
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		conn := s.Conn(c)
		conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		buf := make([]byte, 10)
		_, err := conn.Read(buf)
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Read past the deadline: %v", err)
		}
		// A deadline in the past fails at once.
		if _, err := conn.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("second Read past the deadline: %v", err)
		}
		close(release)
		conn.SetDeadline(time.Time{})
		if _, err := io.ReadFull(conn, buf[:4]); err != nil || string(buf[:4]) != "late" {
			t.Errorf("Read after clearing the deadline: %q, %v", buf[:4], err)
		}
		return nil
	})
}

// Serve runs a handler task per client: several clients get their lines
// echoed; Close stops accepting (a new connect is refused), CloseClients
// cancels an idle handler, Wait returns when all have ended.
func TestServe(t *testing.T) {
	checkFDs(t)
	run(t, func(c *aio.Ctx) error {
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			for {
				l, err := s.ReadLine(c)
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				if err := s.Write(c, append([]byte("echo: "), l...)); err != nil {
					return err
				}
			}
		})
		if err != nil {
			t.Errorf("Serve: %v", err)
			return nil
		}
		addr := srv.Addr().String()
		err = aio.WithGroup(c, func(g *aio.Group) error {
			for i := range 5 {
				g.Go(func(c *aio.Ctx) error {
					s, err := stream.Open(c, "tcp", addr)
					if err != nil {
						return err
					}
					defer s.Close()
					for j := range 3 {
						line := strings.Repeat(string(rune('a'+i)), j+1) + "\n"
						s.Write(c, []byte(line))
						got, err := s.ReadLine(c)
						if err != nil || string(got) != "echo: "+line {
							t.Errorf("client %d: %q, %v", i, got, err)
						}
					}
					return nil
				})
			}
			return nil
		})
		if err != nil {
			t.Errorf("clients: %v", err)
		}
		idle, err := stream.Open(c, "tcp", addr)
		if err != nil {
			t.Errorf("Open: %v", err)
			return nil
		}
		defer idle.Close()
		for srv.Clients() == 0 {
			aio.Sleep(c, time.Millisecond)
		}
		srv.Close()
		for srv.Clients() > 1 {
			aio.Sleep(c, time.Millisecond)
		}
		if s, err := stream.Open(c, "tcp", addr); err == nil {
			s.Close()
			t.Errorf("Open after Close succeeded")
		}
		srv.CloseClients()
		if err := srv.Wait(c); err != nil {
			t.Errorf("Wait: %v", err)
		}
		if _, err := idle.Read(c, 1); err != io.EOF {
			t.Errorf("the idle client read %v, want io.EOF", err)
		}
		return nil
	})
}

// Serve and Open work over a Unix socket (asyncio's start_unix_server and
// open_unix_connection).
func TestServeUnix(t *testing.T) {
	path := t.TempDir() + "/s"
	checkFDs(t)
	run(t, func(c *aio.Ctx) error {
		srv, err := stream.Serve(c, "unix", path, func(c *aio.Ctx, s *stream.Stream) error {
			b, err := s.Read(c, -1)
			if err != nil {
				return err
			}
			return s.Write(c, bytes.ToUpper(b))
		})
		if err != nil {
			t.Errorf("Serve: %v", err)
			return nil
		}
		s, err := stream.Open(c, "unix", path)
		if err != nil {
			t.Errorf("Open: %v", err)
		} else {
			s.Write(c, []byte("unix"))
			s.WriteEOF()
			if b, err := s.Read(c, -1); err != nil || string(b) != "UNIX" {
				t.Errorf("reply %q, %v", b, err)
			}
			s.Close()
		}
		srv.Close()
		if err := srv.Wait(c); err != nil {
			t.Errorf("Wait: %v", err)
		}
		return nil
	})
}
