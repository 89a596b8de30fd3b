//go:build linux

package stream_test

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/internal/nettest"
	"github.com/aiogo/aio/aio/stream"
)

// A server whose Accept fails because the process is out of file
// descriptors (EMFILE) reports it through the loop's error handler, backs
// off, and serves the waiting connection once descriptors are free again,
// as Go's net/http does. The descriptor limit is lowered for the moment of
// the test and restored.
func TestServeOutOfFDs(t *testing.T) {
	var reported []error
	run(t, func(c *aio.Ctx) error {
		c.Loop().SetErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) { reported = append(reported, ec.Err) })
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			line, err := s.ReadLine(c)
			if err != nil {
				return err
			}
			return s.Write(c, line)
		})
		if err != nil {
			return err
		}
		// The connection waits in the listener's backlog: the accept task
		// has not run yet (this task has not suspended).
		conn, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		defer conn.Close()
		restore := nettest.ExhaustFDs(t)
		for i := 0; i < 1000 && len(reported) == 0; i++ {
			aio.Sleep(c, time.Millisecond) // the accept task runs, and fails
		}
		restore()
		if len(reported) == 0 || !errors.Is(reported[0], syscall.EMFILE) {
			t.Errorf("reported %v, want an EMFILE", reported)
		}
		// The server serves on: the connection is accepted and echoed.
		reply := make(chan string, 1)
		go func() {
			conn.Write([]byte("still serving\n"))
			buf := make([]byte, len("still serving\n"))
			_, err := io.ReadFull(conn, buf)
			if err != nil {
				reply <- err.Error()
				return
			}
			reply <- string(buf)
		}()
		if got, _, err := aio.GoRecv(c, reply); got != "still serving\n" || err != nil {
			t.Errorf("after the backoff: %q, %v", got, err)
		}
		srv.Close()
		return srv.Wait(c)
	})
}
