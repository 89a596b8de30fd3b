//go:build unix

package stream

import (
	"errors"
	"io"
	"net"
	"os"
	"time"

	"github.com/aiogo/aio/aio"
)

// Conn returns a net.Conn on s bound to the task c: its methods must be
// called from that task (they suspend it, not the loop), so that code
// written for net.Conn (bufio, encoding/json, net/textproto, crypto/tls)
// runs on the loop unchanged. Read is ReadInto; Write is Write then a wait
// until at most the low-water mark is buffered (Drain's wait, but from any
// level), so a Write returns with its data sent or in a bounded buffer.
// Close is the Stream's Close.
//
// Deadlines are on the loop's timers: a Read or Write with a deadline set
// runs under aio.WithDeadline, and one past its deadline returns a
// *net.OpError that matches os.ErrDeadlineExceeded and whose Timeout() is
// true, as net.Conn's. A Read that times out has consumed nothing. A Write
// that times out has buffered all of its bytes (they are still sent) and
// reports len(b) with the error. A zero time clears a deadline.
func (s *Stream) Conn(c *aio.Ctx) net.Conn { return &conn{s: s, c: c} }

type conn struct {
	s      *Stream
	c      *aio.Ctx
	rd, wd time.Time
}

func (k *conn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: netOf(k.s.local), Source: k.s.local, Addr: k.s.remote, Err: err}
}

func netOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.Network()
}

// under runs f under the deadline d (none if zero), mapping its expiry to
// os.ErrDeadlineExceeded.
func (k *conn) under(d time.Time, f func(*aio.Ctx) error) error {
	if d.IsZero() {
		return f(k.c)
	}
	if !time.Now().Before(d) {
		return os.ErrDeadlineExceeded
	}
	err := aio.WithDeadline(k.c, d, f)
	if errors.Is(err, aio.ErrTimeout) {
		return os.ErrDeadlineExceeded
	}
	return err
}

func (k *conn) Read(p []byte) (int, error) {
	if k.s.closed {
		return 0, k.opErr("read", net.ErrClosed)
	}
	var n int
	err := k.under(k.rd, func(c *aio.Ctx) error {
		var err error
		n, err = k.s.ReadInto(c, p)
		return err
	})
	if err == io.EOF {
		return 0, err // io.EOF as is
	}
	if err != nil {
		return n, k.opErr("read", err)
	}
	return n, nil
}

func (k *conn) Write(b []byte) (int, error) {
	if err := k.s.Write(k.c, b); err != nil {
		return 0, k.opErr("write", err)
	}
	err := k.under(k.wd, func(c *aio.Ctx) error {
		return k.s.drainTo(c, k.s.o.low, k.s.o.low)
	})
	if err != nil {
		return len(b), k.opErr("write", err)
	}
	return len(b), nil
}

func (k *conn) Close() error {
	if k.s.closed || k.s.closing {
		return k.opErr("close", net.ErrClosed)
	}
	return k.s.Close()
}

func (k *conn) LocalAddr() net.Addr  { return k.s.local }
func (k *conn) RemoteAddr() net.Addr { return k.s.remote }

func (k *conn) SetDeadline(t time.Time) error {
	k.rd, k.wd = t, t
	return nil
}

func (k *conn) SetReadDeadline(t time.Time) error  { k.rd = t; return nil }
func (k *conn) SetWriteDeadline(t time.Time) error { k.wd = t; return nil }
