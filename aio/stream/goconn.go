//go:build unix

package stream

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/aiogo/aio/aio"
)

// GoConn returns a net.Conn on s for plain goroutines (not the loop's
// goroutine or its tasks, which would deadlock: use Conn there): each Read,
// Write and Close is posted to the loop l (the Stream's) as a task, and the
// calling goroutine waits for its outcome. Deadlines apply as for Conn.
// One Read and one Write may run at once, from different goroutines, as
// net/http's Transport does. When the loop has closed, operations return
// an error matching net.ErrClosed.
func (s *Stream) GoConn(l *aio.Loop) net.Conn { return &goConn{s: s, l: l} }

// Dialer returns a DialContext hook (for net/http's Transport, or anything
// taking one) that connects with Open on the loop l from any goroutine and
// returns the Stream's GoConn. ctx's cancellation is not followed yet: the
// connect is bounded by the system's connect timeout.
func Dialer(l *aio.Loop, opts ...Option) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var s *Stream
		err := post(l, func(c *aio.Ctx) error {
			var err error
			s, err = Open(c, network, addr, opts...)
			return err
		})
		if err != nil {
			return nil, err
		}
		return s.GoConn(l), nil
	}
}

// post runs f in a new task of l and waits for its error.
func post(l *aio.Loop, f func(c *aio.Ctx) error) error {
	done := make(chan error, 1)
	tch := make(chan aio.AnyTask, 1)
	_, err := l.CallSoon(func() {
		t, err := aio.Spawn(l, func(c *aio.Ctx) (struct{}, error) {
			done <- f(c)
			return struct{}{}, nil
		}, aio.WithName("stream GoConn"))
		if err != nil {
			done <- err
			return
		}
		tch <- t
	})
	if err != nil {
		return fmt.Errorf("stream: %w (%v)", net.ErrClosed, err)
	}
	select {
	case err := <-done:
		return err
	case t := <-tch:
		select {
		case err := <-done:
			return err
		case <-t.Done():
			select {
			case err := <-done:
				return err
			default:
				return fmt.Errorf("stream: the loop ended the operation: %w", net.ErrClosed)
			}
		}
	}
}

type goConn struct {
	s      *Stream
	l      *aio.Loop
	mu     sync.Mutex
	rd, wd time.Time
}

func (g *goConn) deadlines() (time.Time, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rd, g.wd
}

func (g *goConn) Read(p []byte) (int, error) {
	rd, _ := g.deadlines()
	var n int
	var err error
	if perr := post(g.l, func(c *aio.Ctx) error {
		k := &conn{s: g.s, c: c, rd: rd}
		n, err = k.Read(p)
		return nil
	}); perr != nil {
		return 0, perr
	}
	return n, err
}

func (g *goConn) Write(b []byte) (int, error) {
	_, wd := g.deadlines()
	var n int
	var err error
	if perr := post(g.l, func(c *aio.Ctx) error {
		k := &conn{s: g.s, c: c, wd: wd}
		n, err = k.Write(b)
		return nil
	}); perr != nil {
		return 0, perr
	}
	return n, err
}

func (g *goConn) Close() error {
	return post(g.l, func(c *aio.Ctx) error {
		return (&conn{s: g.s, c: c}).Close()
	})
}

func (g *goConn) LocalAddr() net.Addr  { return g.s.local }
func (g *goConn) RemoteAddr() net.Addr { return g.s.remote }

func (g *goConn) SetDeadline(t time.Time) error {
	g.mu.Lock()
	g.rd, g.wd = t, t
	g.mu.Unlock()
	return nil
}

func (g *goConn) SetReadDeadline(t time.Time) error {
	g.mu.Lock()
	g.rd = t
	g.mu.Unlock()
	return nil
}

func (g *goConn) SetWriteDeadline(t time.Time) error {
	g.mu.Lock()
	g.wd = t
	g.mu.Unlock()
	return nil
}
