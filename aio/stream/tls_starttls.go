//go:build unix

package stream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/aiogo/aio/aio"
)

// ErrUpgraded is returned (wrapped) by the reading and writing methods of a
// Stream (Read, ReadInto, ReadExactly, ReadLine, ReadUntil, Write, Drain,
// WriteEOF, and its Conn's Read and Write) once StartTLS or StartTLSServer
// has begun the handshake (and after a failed one too: the stream is then
// closed): the bytes on the wire are TLS records from then on, read and
// written through the returned *tls.Conn.
var ErrUpgraded = errors.New("stream: upgraded to TLS (use its *tls.Conn)")

// StartTLS upgrades the connection to TLS in place, as the client
// (asyncio's StreamWriter.start_tls and loop.start_tls), and returns the
// *tls.Conn to read and write from then on. The data written before is
// sent first (StartTLS drains the write buffer); bytes already read into
// the Stream's buffer and not consumed are the start of the TLS stream,
// read by the TLS layer before anything else. The handshake runs in the
// task c with its cancellation: it is bounded by aio.WithTimeout and the
// other cancel scopes around StartTLS (it returns the cancellation, so a
// WithTimeout around it returns aio.ErrTimeout), and crypto/tls sees
// c.Context() (tls.Conn.HandshakeContext).
//
// If the handshake fails the stream is aborted (its socket closed;
// WaitClosed waits for it) and the error returned. If the stream cannot be
// upgraded (cfg is nil or has neither ServerName nor InsecureSkipVerify,
// the stream is closing or was shut down for writing, another task is
// reading it, the drain fails or is cancelled) StartTLS returns an error
// and the stream is left as it was.
//
// After StartTLS has begun the handshake, the Stream's own reads and
// writes return an error matching ErrUpgraded; Close, Abort, WaitClosed
// and IsClosing still apply to the connection (Close drops TLS's
// close_notify: close the *tls.Conn to send it). The *tls.Conn is bound to
// the task c, as Conn(c) is: use it from that task only. Its deadlines
// (SetDeadline...) run on the loop's timers, as Conn's.
func (s *Stream) StartTLS(c *aio.Ctx, cfg *tls.Config) (*tls.Conn, error) {
	return s.startTLS(c, cfg, false)
}

// StartTLSServer is StartTLS for the server side of the connection (the
// server_side=True of asyncio's loop.start_tls): cfg must hold the
// server's certificate (Certificates, GetCertificate or
// GetConfigForClient). A client's ClientHello that came with the command
// before it (read into the buffer by a ReadLine) is not lost: the
// handshake reads it from the buffer.
func (s *Stream) StartTLSServer(c *aio.Ctx, cfg *tls.Config) (*tls.Conn, error) {
	return s.startTLS(c, cfg, true)
}

// OpenTLS connects to addr (Open) and starts TLS as the client (StartTLS):
// asyncio's open_connection(ssl=...). If cfg has no ServerName, a copy of
// it with the host of addr is used, as tls.Dial does. On a failure nothing
// is left open.
func OpenTLS(c *aio.Ctx, network, addr string, cfg *tls.Config, opts ...Option) (*Stream, *tls.Conn, error) {
	if cfg == nil {
		return nil, nil, errors.New("stream: OpenTLS: nil *tls.Config")
	}
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	s, err := Open(c, network, addr, opts...)
	if err != nil {
		return nil, nil, err
	}
	tc, err := s.StartTLS(c, cfg)
	if err != nil {
		s.Abort() // a stream StartTLS refused is left open
		return nil, nil, err
	}
	return s, tc, nil
}

func (s *Stream) startTLS(c *aio.Ctx, cfg *tls.Config, server bool) (*tls.Conn, error) {
	op := "StartTLS"
	if server {
		op = "StartTLSServer"
	}
	switch {
	case cfg == nil:
		return nil, fmt.Errorf("stream: %s: nil *tls.Config", op)
	case !server && cfg.ServerName == "" && !cfg.InsecureSkipVerify:
		return nil, fmt.Errorf("stream: %s: the tls.Config has neither ServerName nor InsecureSkipVerify", op)
	}
	if err := s.upgradable(op); err != nil {
		return nil, err
	}
	// The plaintext phase's data goes first (asyncio's start_tls drains).
	if err := s.drainTo(c, 0, 0); err != nil {
		return nil, fmt.Errorf("stream: %s: drain: %w", op, err)
	}
	// The drain may have let other tasks run: look again. From here on
	// nothing suspends until the Stream is marked.
	if err := s.upgradable(op); err != nil {
		return nil, err
	}
	s.upgraded = true
	t := &tlsTransport{conn: conn{s: s, c: c}, loop: c.Loop()}
	var tc *tls.Conn
	if server {
		tc = tls.Server(t, cfg)
	} else {
		tc = tls.Client(t, cfg)
	}
	err := tc.HandshakeContext(c.Context())
	if err == nil {
		return tc, nil
	}
	switch {
	case t.canceled != nil:
		// The cancellation itself, not crypto/tls's context.Canceled in its
		// place: the scope that cancelled (a WithTimeout) recognises it.
		err = t.canceled
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// crypto/tls saw the context done before a read or write of ours
		// met the cancellation: take it, so that it is not lost.
		if yerr := aio.Yield(c); yerr != nil {
			err = yerr
		}
	}
	s.Abort() // asyncio closes the transport on a failed handshake
	return nil, fmt.Errorf("stream: %s: TLS handshake: %w", op, err)
}

// upgradable returns why the stream cannot be upgraded now, or nil.
func (s *Stream) upgradable(op string) error {
	if s.upgraded {
		return fmt.Errorf("%w: %s", ErrUpgraded, op)
	}
	if err := s.canWrite(op); err != nil {
		return err
	}
	if s.reading {
		return ErrConcurrentRead
	}
	return nil
}

// tlsTransport is the net.Conn under the *tls.Conn of an upgraded Stream:
// Conn(c) without the upgrade checks, as only TLS uses it.
type tlsTransport struct {
	conn
	loop     *aio.Loop // the Stream's, for Close
	canceled error     // the first cancellation a read or write returned
}

func (k *tlsTransport) note(err error) {
	var ce *aio.CanceledError
	if k.canceled == nil && errors.As(err, &ce) {
		k.canceled = ce
	}
}

func (k *tlsTransport) Read(p []byte) (int, error) {
	if k.s.closed {
		return 0, k.opErr("read", net.ErrClosed)
	}
	var n int
	err := k.under(k.rd, func(c *aio.Ctx) error {
		var err error
		n, err = k.s.readInto(c, p)
		return err
	})
	if err == io.EOF {
		return 0, err
	}
	if err != nil {
		k.note(err)
		return n, k.opErr("read", err)
	}
	return n, nil
}

func (k *tlsTransport) Write(b []byte) (int, error) {
	if err := k.s.canWrite("write"); err != nil {
		return 0, k.opErr("write", err)
	}
	if err := k.s.write(k.c, b); err != nil {
		return 0, k.opErr("write", err)
	}
	err := k.under(k.wd, func(c *aio.Ctx) error {
		return k.s.drainTo(c, k.s.o.low, k.s.o.low)
	})
	if err != nil {
		k.note(err)
		return len(b), k.opErr("write", err)
	}
	return len(b), nil
}

// Close closes the Stream, on its loop. crypto/tls also calls it from a
// goroutine of its own (context.AfterFunc) to interrupt a handshake whose
// context is done: that Close must not touch the Stream, and need not, as
// the cancellation that made the context done reaches the task's own
// waits too, and startTLS aborts the stream when the handshake fails.
func (k *tlsTransport) Close() error {
	if aio.RunningLoop() != k.loop {
		return fmt.Errorf("stream: Close of a TLS connection off its loop: %w", aio.ErrNotOnLoop)
	}
	return k.conn.Close()
}
