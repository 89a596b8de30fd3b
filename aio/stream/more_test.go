//go:build linux

package stream_test

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
)

// A read while another task waits in a read of the same stream returns
// ErrConcurrentRead (asyncio's RuntimeError), and the first read is not
// disturbed.
func TestConcurrentReadRejected(t *testing.T) {
	release := make(chan struct{})
	addr, stop := peer(t, func(cn net.Conn) {
		select {
		case <-release:
		case <-time.After(testTimeout):
		}
		cn.Write([]byte("x\n"))
	})
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		defer s.Close()
		first, _ := aio.Spawn(c, func(c *aio.Ctx) ([]byte, error) { return s.ReadLine(c) })
		aio.Yield(c) // first parks in its read
		if _, err := s.Read(c, 1); !errors.Is(err, stream.ErrConcurrentRead) || !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("concurrent Read: %v, want ErrConcurrentRead", err)
		}
		close(release)
		if b, err := aio.Await(c, first); err != nil || string(b) != "x\n" {
			t.Errorf("first read: %q, %v", b, err)
		}
		return nil
	})
}

// To a peer that never reads, Drain blocks (here until a timeout) with
// the write buffer holding only what was written, and a Conn Write with a
// write deadline returns an error matching os.ErrDeadlineExceeded with
// Timeout() true; Abort then closes at once.
func TestStalledPeer(t *testing.T) {
	release := make(chan struct{})
	addr, stop := peer(t, func(cn net.Conn) {
		select {
		case <-release:
		case <-time.After(testTimeout):
		}
	})
	defer stop()
	defer close(release)
	run(t, func(c *aio.Ctx) error {
		s := open(t, c, addr)
		if s == nil {
			return nil
		}
		const chunk = 1 << 20
		if err := s.Write(c, make([]byte, 48*chunk)); err != nil {
			t.Errorf("Write: %v", err)
		}
		err := aio.WithTimeout(c, 20*time.Millisecond, s.Drain)
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("Drain to a stalled peer: %v, want a timeout", err)
		}
		if n := s.WriteBuffered(); n == 0 || n > 48*chunk {
			t.Errorf("%d bytes buffered", n)
		}
		conn := s.Conn(c)
		conn.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
		_, err = conn.Write([]byte("more"))
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Conn.Write past its deadline: %v", err)
		}
		s.Abort()
		if err := s.WaitClosed(c); err != nil {
			t.Errorf("WaitClosed after Abort: %v", err)
		}
		if err := s.Write(c, []byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after Abort: %v", err)
		}
		return nil
	})
}

// A loop closed without a Shutdown (its tasks unwound by Close) leaves no
// descriptor of its streams and servers open and does not panic: the
// handlers' and the accept task's deferred closes run as the bodies unwind.
func TestCloseWithoutShutdownClosesStreams(t *testing.T) {
	checkFDs(t)
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	var reports []aio.ErrorContext
	l.SetErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) { reports = append(reports, ec) })
	var srv *stream.Server
	var cl *stream.Stream
	ready := false
	aio.Spawn(l, func(c *aio.Ctx) (struct{}, error) {
		var err error
		srv, err = stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			_, err := s.ReadLine(c) // waits for ever
			return err
		})
		if err != nil {
			return struct{}{}, err
		}
		cl, err = stream.Open(c, "tcp", srv.Addr().String())
		if err != nil {
			return struct{}{}, err
		}
		defer cl.Close()
		ready = true
		_, err = cl.ReadLine(c) // waits for ever
		return struct{}{}, err
	})
	if err := l.RunUntil(func() bool { return ready && srv.Clients() == 1 }); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ec := range reports {
		var pe *aio.PanicError
		if errors.As(ec.Err, &pe) {
			t.Errorf("a panic while the tasks unwound: %v", ec)
		}
	}
}
