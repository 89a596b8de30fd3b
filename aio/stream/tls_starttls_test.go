//go:build linux

package stream_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
)

// prefixConn sends prefix in the same write as the first data written
// through it: a client that pipelines its ClientHello right behind a
// plaintext command.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Write(b []byte) (int, error) {
	if p.prefix == nil {
		return p.Conn.Write(b)
	}
	all := append(p.prefix, b...)
	p.prefix = nil
	n, err := p.Conn.Write(all)
	return max(n-(len(all)-len(b)), 0), err
}

// readerConn is a net.Conn that reads through r (a bufio.Reader on it).
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c *readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// tlsLines serves TLS lines on tc: each line read is written back with
// "tls: " in front, until the end of the stream.
func tlsLines(tc *tls.Conn) {
	r := bufio.NewReader(tc)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if _, err := tc.Write([]byte("tls: " + line)); err != nil {
			return
		}
	}
}

// STARTTLS with an aio client and a Go crypto/tls server: the plaintext
// command the client wrote (8 MiB, more than the socket takes at once, so
// that StartTLS finds it still in the write buffer) reaches the server
// whole and before the ClientHello; the handshake verifies the server's
// certificate; lines then go both ways over the *tls.Conn.
func TestStartTLSClient(t *testing.T) {
	cert, pool := selfSigned(t)
	payload := bytes.Repeat([]byte("p"), 8<<20)
	command := append(append([]byte("STARTTLS "), payload...), '\n')
	plainOK := make(chan bool, 1)
	addr, stop := peer(t, func(cn net.Conn) {
		got := make([]byte, len(command))
		_, err := io.ReadFull(cn, got)
		plainOK <- err == nil && bytes.Equal(got, command)
		tc := tls.Server(cn, &tls.Config{Certificates: []tls.Certificate{cert}})
		defer tc.Close()
		tlsLines(tc)
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		if err := s.Write(c, command); err != nil {
			t.Errorf("Write: %v", err)
			return nil
		}
		if s.WriteBuffered() == 0 {
			t.Logf("the socket took all of %d bytes at once: the drain is not exercised", len(command))
		}
		tc, err := s.StartTLS(c, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err != nil {
			t.Errorf("StartTLS: %v", err)
			return nil
		}
		if s.WriteBuffered() != 0 {
			t.Errorf("%d bytes still buffered after StartTLS", s.WriteBuffered())
		}
		if st := tc.ConnectionState(); !st.HandshakeComplete || st.Version != tls.VersionTLS13 {
			t.Errorf("connection state: complete %v, version %x", st.HandshakeComplete, st.Version)
		}
		r := bufio.NewReader(tc)
		for _, msg := range []string{"one\n", "two\n"} {
			if _, err := tc.Write([]byte(msg)); err != nil {
				t.Errorf("Write: %v", err)
			}
			if line, err := r.ReadString('\n'); line != "tls: "+msg || err != nil {
				t.Errorf("reply %q, %v", line, err)
			}
		}
		if ok, _, _ := aio.GoRecv(c, plainOK); !ok {
			t.Errorf("the server did not get the plaintext command whole")
		}
		if err := tc.Close(); err != nil {
			t.Errorf("tls Close: %v", err)
		}
		if err := s.WaitClosed(c); err != nil {
			t.Errorf("WaitClosed: %v", err)
		}
		return nil
	})
}

// STARTTLS with a Go crypto/tls client and an aio server: the client sends
// its ClientHello in the same write as the plaintext command, so that the
// server's ReadLine buffers the start of the handshake with the command;
// StartTLSServer reads it from the buffer (nothing is lost), the client
// verifies the certificate, and lines go both ways.
func TestStartTLSServerPipelined(t *testing.T) {
	checkFDs(t)
	cert, pool := selfSigned(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	run(t, func(c *aio.Ctx) error {
		buffered := -1
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			line, err := s.ReadLine(c)
			if err != nil || string(line) != "STARTTLS\n" {
				return fmt.Errorf("command %q, %v", line, err)
			}
			buffered = s.Buffered()
			tc, err := s.StartTLSServer(c, cfg)
			if err != nil {
				return err
			}
			defer tc.Close()
			r := bufio.NewReader(tc)
			line2, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			_, err = tc.Write([]byte("tls: " + line2))
			return err
		})
		if err != nil {
			return err
		}
		reply := make(chan string, 1)
		go func() {
			cn, err := net.Dial("tcp", srv.Addr().String())
			if err != nil {
				reply <- "dial: " + err.Error()
				return
			}
			defer cn.Close()
			cn.SetDeadline(time.Now().Add(testTimeout))
			tc := tls.Client(&prefixConn{Conn: cn, prefix: []byte("STARTTLS\n")}, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
			if _, err := tc.Write([]byte("hello\n")); err != nil { // handshakes first
				reply <- "write: " + err.Error()
				return
			}
			line, err := bufio.NewReader(tc).ReadString('\n')
			if err != nil {
				reply <- "read: " + err.Error()
				return
			}
			reply <- line
		}()
		if got, _, _ := aio.GoRecv(c, reply); got != "tls: hello\n" {
			t.Errorf("the client got %q", got)
		}
		srv.Close()
		if err := srv.Wait(c); err != nil {
			t.Errorf("handler: %v", err)
		}
		if buffered <= 0 {
			t.Errorf("%d bytes buffered after the command: the ClientHello did not come with it", buffered)
		}
		return nil
	})
}

// silent is a peer that reads and drops everything until the end of the
// stream, and never answers.
func silent(cn net.Conn) { io.Copy(io.Discard, cn) }

// A handshake with a peer that never answers is bounded by an
// aio.WithTimeout around StartTLS: WithTimeout returns aio.ErrTimeout
// (matching context.DeadlineExceeded), StartTLS itself returned the
// scope's cancellation, and the stream is closed with no fd left. A
// handshake cancelled with Task.Cancel returns the cancellation (matching
// context.Canceled, not aio.ErrTimeout), and closes the stream too.
func TestStartTLSHandshakeTimeout(t *testing.T) {
	_, pool := selfSigned(t)
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	addr, stop := peer(t, silent)
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		var inner error
		err := aio.WithTimeout(c, 50*time.Millisecond, func(c *aio.Ctx) error {
			tc, err := s.StartTLS(c, cfg)
			if tc != nil {
				t.Errorf("a *tls.Conn from a failed handshake")
			}
			inner = err
			return err
		})
		if !errors.Is(err, aio.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WithTimeout(StartTLS) = %v, want aio.ErrTimeout", err)
		}
		var ce *aio.CanceledError
		if !errors.As(inner, &ce) {
			t.Errorf("StartTLS = %v, want the scope's cancellation", inner)
		}
		if !s.IsClosing() {
			t.Errorf("the stream is not closed after the failed handshake")
		}
		if err := s.WaitClosed(c); err != nil {
			t.Errorf("WaitClosed: %v", err)
		}

		// Task.Cancel.
		s2 := open(t, c, addr)
		if s2 == nil {
			return nil
		}
		started := false
		task, err := aio.Spawn(c, func(c *aio.Ctx) (*tls.Conn, error) {
			started = true // StartTLS runs on to its first wait: the server's answer
			return s2.StartTLS(c, cfg)
		})
		if err != nil {
			return err
		}
		for i := 0; i < 1000 && !started; i++ {
			aio.Yield(c)
		}
		task.Cancel(nil)
		_, err = aio.Await(c, task)
		if !errors.Is(err, context.Canceled) || errors.Is(err, aio.ErrTimeout) {
			t.Errorf("cancelled StartTLS: %v, want context.Canceled", err)
		}
		if err := s2.WaitClosed(c); err != nil {
			t.Errorf("WaitClosed: %v", err)
		}
		return nil
	})
}

// An aio server's handshake with a client that connects and never starts
// it is bounded by an aio.WithTimeout around StartTLSServer, which returns
// aio.ErrTimeout; the stream is closed and the server goes on.
func TestStartTLSServerTimeout(t *testing.T) {
	checkFDs(t)
	cert, _ := selfSigned(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	run(t, func(c *aio.Ctx) error {
		errs := make(chan error, 1)
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			errs <- aio.WithTimeout(c, 50*time.Millisecond, func(c *aio.Ctx) error {
				_, err := s.StartTLSServer(c, cfg)
				return err
			})
			if !s.IsClosing() {
				t.Errorf("the stream is not closed after the failed handshake")
			}
			return nil
		})
		if err != nil {
			return err
		}
		cn, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		defer cn.Close()
		if err, _, _ := aio.GoRecv(c, errs); !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("WithTimeout(StartTLSServer) = %v, want aio.ErrTimeout", err)
		}
		// The server closed its end: the client reads the end of the stream.
		cn.SetReadDeadline(time.Now().Add(testTimeout))
		done := make(chan error, 1)
		go func() {
			_, err := cn.Read(make([]byte, 1))
			done <- err
		}()
		if err, _, _ := aio.GoRecv(c, done); err != io.EOF {
			t.Errorf("the client read %v, want io.EOF", err)
		}
		srv.Close()
		return srv.Wait(c)
	})
}

// A server certificate the client does not trust fails the client's
// handshake with crypto/tls's verification error; the stream is closed
// (no fd is left) and its reads and writes return ErrUpgraded. A client
// that does not trust the aio server's certificate fails the server's
// handshake (the client's alert), and the server's stream is closed.
func TestStartTLSBadCertificate(t *testing.T) {
	cert, _ := selfSigned(t)
	serverErr := make(chan error, 1)
	addr, stop := peer(t, func(cn net.Conn) {
		tc := tls.Server(cn, &tls.Config{Certificates: []tls.Certificate{cert}})
		serverErr <- tc.Handshake()
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		_, err := s.StartTLS(c, &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "127.0.0.1"})
		var verr *tls.CertificateVerificationError
		if !errors.As(err, &verr) {
			t.Errorf("StartTLS with an untrusted certificate: %v, want a *tls.CertificateVerificationError", err)
		}
		if !s.IsClosing() {
			t.Errorf("the stream is not closed after the failed handshake")
		}
		if err := s.WaitClosed(c); err != nil {
			t.Errorf("WaitClosed: %v", err)
		}
		if _, err := s.Read(c, 1); !errors.Is(err, stream.ErrUpgraded) {
			t.Errorf("Read after a failed StartTLS: %v", err)
		}
		if err, _, _ := aio.GoRecv(c, serverErr); err == nil {
			t.Errorf("the Go server's handshake succeeded")
		}

		// The other way: the Go client does not trust the aio server.
		handlerErr := make(chan error, 1)
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			_, err := s.StartTLSServer(c, &tls.Config{Certificates: []tls.Certificate{cert}})
			handlerErr <- err
			if !s.IsClosing() {
				t.Errorf("the server's stream is not closed after the failed handshake")
			}
			return nil
		})
		if err != nil {
			return err
		}
		clientErr := make(chan error, 1)
		go func() {
			tc, err := tls.Dial("tcp", srv.Addr().String(), &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "127.0.0.1"})
			if err == nil {
				tc.Close()
			}
			clientErr <- err
		}()
		if err, _, _ := aio.GoRecv(c, clientErr); err == nil {
			t.Errorf("the Go client trusted the certificate")
		}
		if err, _, _ := aio.GoRecv(c, handlerErr); err == nil || !strings.Contains(err.Error(), "tls") {
			t.Errorf("StartTLSServer with a client that rejects it: %v, want the client's alert", err)
		}
		srv.Close()
		return srv.Wait(c)
	})
}

// After StartTLS the Stream's own reads and writes (Read, ReadInto,
// ReadExactly, ReadLine, ReadUntil, Write, Drain, WriteEOF, its Conn's,
// and StartTLS again) return an error matching ErrUpgraded, while the
// *tls.Conn works; the Stream's Close still closes the connection (the
// *tls.Conn's reads then fail with net.ErrClosed). Before the upgrade,
// bad arguments are refused and the stream stays usable in plaintext;
// after WriteEOF StartTLS is refused.
func TestStartTLSStreamRefused(t *testing.T) {
	cert, pool := selfSigned(t)
	addr, stop := peer(t, func(cn net.Conn) {
		r := bufio.NewReader(cn)
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if line != "STARTTLS\n" { // a plaintext echo until STARTTLS
			cn.Write([]byte(line))
			if line, err = r.ReadString('\n'); err != nil || line != "STARTTLS\n" {
				return
			}
		}
		// The ClientHello may be in r's buffer already.
		tc := tls.Server(&readerConn{Conn: cn, r: r}, &tls.Config{Certificates: []tls.Certificate{cert}})
		defer tc.Close()
		tlsLines(tc)
	})
	defer stop()
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		if _, err := s.StartTLS(c, nil); err == nil {
			t.Errorf("StartTLS(nil) succeeded")
		}
		if _, err := s.StartTLS(c, &tls.Config{RootCAs: pool}); err == nil {
			t.Errorf("StartTLS without ServerName succeeded")
		}
		if _, err := s.StartTLSServer(c, nil); err == nil {
			t.Errorf("StartTLSServer(nil) succeeded")
		}
		// Still a plaintext stream.
		s.Write(c, []byte("plain\n"))
		if line, err := s.ReadLine(c); string(line) != "plain\n" || err != nil {
			t.Errorf("plaintext echo after refused StartTLS: %q, %v", line, err)
		}
		s.Write(c, []byte("STARTTLS\n"))
		tc, err := s.StartTLS(c, cfg)
		if err != nil {
			t.Errorf("StartTLS: %v", err)
			return nil
		}
		buf := make([]byte, 8)
		refused := map[string]error{}
		_, refused["Read"] = s.Read(c, 1)
		_, refused["ReadInto"] = s.ReadInto(c, buf)
		_, refused["ReadExactly"] = s.ReadExactly(c, 1)
		_, refused["ReadLine"] = s.ReadLine(c)
		_, refused["ReadUntil"] = s.ReadUntil(c, []byte("x"))
		refused["Write"] = s.Write(c, []byte("plain"))
		refused["Drain"] = s.Drain(c)
		refused["WriteEOF"] = s.WriteEOF()
		_, refused["Conn.Read"] = s.Conn(c).Read(buf)
		_, refused["Conn.Write"] = s.Conn(c).Write(buf)
		_, refused["StartTLS"] = s.StartTLS(c, cfg)
		_, refused["StartTLSServer"] = s.StartTLSServer(c, cfg)
		for op, err := range refused {
			if !errors.Is(err, stream.ErrUpgraded) {
				t.Errorf("%s after StartTLS: %v, want ErrUpgraded", op, err)
			}
		}
		if _, err := tc.Write([]byte("still\n")); err != nil {
			t.Errorf("tls Write: %v", err)
		}
		r := bufio.NewReader(tc)
		if line, err := r.ReadString('\n'); line != "tls: still\n" || err != nil {
			t.Errorf("tls reply %q, %v", line, err)
		}
		if s.IsClosing() {
			t.Errorf("the stream is closing")
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := s.WaitClosed(c); err != nil {
			t.Errorf("WaitClosed: %v", err)
		}
		if _, err := tc.Read(buf); !errors.Is(err, net.ErrClosed) {
			t.Errorf("tls Read after the Stream's Close: %v, want net.ErrClosed", err)
		}

		// WriteEOF, then StartTLS: refused, and the stream is left as it was.
		s3 := open(t, c, addr)
		if s3 == nil {
			return nil
		}
		defer s3.Close()
		s3.WriteEOF()
		if _, err := s3.StartTLS(c, cfg); err == nil || errors.Is(err, stream.ErrUpgraded) {
			t.Errorf("StartTLS after WriteEOF: %v, want a refusal", err)
		}
		if s3.IsClosing() {
			t.Errorf("a refused StartTLS closed the stream")
		}
		return nil
	})
}

// bufio.Reader and bufio.Writer work over the *tls.Conn of StartTLS: lines
// of many sizes, some longer than a TLS record (16 KiB) and than the
// Stream's write-buffer marks, come back whole and in order.
func TestStartTLSBufio(t *testing.T) {
	cert, pool := selfSigned(t)
	addr, stop := peer(t, func(cn net.Conn) {
		tc := tls.Server(cn, &tls.Config{Certificates: []tls.Certificate{cert}})
		defer tc.Close()
		tlsLines(tc)
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.WaitClosed(c)
		tc, err := s.StartTLS(c, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err != nil {
			t.Errorf("StartTLS: %v", err)
			s.Close()
			return nil
		}
		defer tc.Close()
		w := bufio.NewWriter(tc)
		r := bufio.NewReaderSize(tc, 4096)
		sizes := []int{0, 1, 100, 4095, 16 << 10, 16<<10 + 1, 100 << 10, 3}
		var want []string
		for i, n := range sizes {
			line := strings.Repeat(string(rune('a'+i)), n) + "\n"
			want = append(want, "tls: "+line)
			if _, err := w.WriteString(line); err != nil {
				t.Errorf("WriteString: %v", err)
			}
			if i%3 == 2 { // several lines per flush, and flushes mid-way
				if err := w.Flush(); err != nil {
					t.Errorf("Flush: %v", err)
				}
			}
		}
		if err := w.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		for i, wl := range want {
			var got []byte
			for {
				part, err := r.ReadSlice('\n')
				got = append(got, part...)
				if err == bufio.ErrBufferFull {
					continue
				}
				if err != nil {
					t.Errorf("line %d: %v", i, err)
					return nil
				}
				break
			}
			if string(got) != wl {
				t.Errorf("line %d: %d bytes, want %d", i, len(got), len(wl))
			}
		}
		return nil
	})
}

// OpenTLS connects and handshakes in one call, taking the ServerName from
// the address; a refused connect returns the connect's error and leaves
// nothing open.
func TestOpenTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	addr, stop := peer(t, func(cn net.Conn) {
		tc := tls.Server(cn, &tls.Config{Certificates: []tls.Certificate{cert}})
		defer tc.Close()
		tlsLines(tc)
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s, tc, err := stream.OpenTLS(c, "tcp", addr, &tls.Config{RootCAs: pool})
		if err != nil {
			t.Errorf("OpenTLS: %v", err)
			return nil
		}
		tc.Write([]byte("open\n"))
		if line, err := bufio.NewReader(tc).ReadString('\n'); line != "tls: open\n" || err != nil {
			t.Errorf("reply %q, %v", line, err)
		}
		tc.Close()
		if err := s.WaitClosed(c); err != nil {
			t.Errorf("WaitClosed: %v", err)
		}
		if _, _, err := stream.OpenTLS(c, "tcp", addr, nil); err == nil {
			t.Errorf("OpenTLS(nil config) succeeded")
		}
		return nil
	})
}
