//go:build linux

package stream_test

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
	"github.com/aiogo/aio/aio/stream"
)

// manyConns is the number of simultaneous connections TestManyConnections
// aims at.
const manyConns = 10_000

// 10,000 connections are open at once on one loop, each a client task and
// a server handler task (two descriptors each, both in this process): every
// client sends a line and gets it back while all the others are connected.
// The descriptor limit is raised for the test; where the hard limit is
// lower than 20,200 the test uses as many connections as it allows (and
// says so), and skips below 1,000.
func TestManyConnections(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip("getrlimit:", err)
	}
	conns := manyConns
	if fit := int(min(lim.Max, 1<<30)-200) / 2; fit < conns {
		conns = fit
		if conns < 1000 {
			t.Skipf("the hard limit on open files (%d) leaves room for %d connections only", lim.Max, conns)
		}
		t.Logf("the hard limit on open files is %d: %d connections (both ends in this process)", lim.Max, conns)
	}
	need := uint64(2*conns + 200)
	raised := lim
	raised.Cur = max(lim.Cur, need)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		t.Skip("setrlimit:", err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	run(t, func(c *aio.Ctx) error {
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			line, err := s.ReadLine(c)
			if err != nil {
				return err
			}
			return s.Write(c, line)
		}, stream.WithSocketOptions(socket.WithBacklog(4096)))
		if err != nil {
			return err
		}
		var streams []*stream.Stream
		defer func() {
			for _, s := range streams {
				s.Abort()
			}
		}()
		// Connect all, then talk on all: every connection is open at once.
		for i := range conns {
			s, err := stream.Open(c, "tcp", srv.Addr().String())
			if err != nil {
				return fmt.Errorf("connection %d: %w", i, err)
			}
			streams = append(streams, s)
		}
		err = aio.WithGroup(c, func(g *aio.Group) error {
			for i, s := range streams {
				g.Go(func(c *aio.Ctx) error {
					msg := fmt.Sprintf("line %d\n", i)
					if err := s.Write(c, []byte(msg)); err != nil {
						return err
					}
					got, err := s.ReadLine(c)
					if err != nil {
						return err
					}
					if string(got) != msg {
						return fmt.Errorf("connection %d: got %q", i, got)
					}
					return nil
				})
			}
			return nil
		})
		if err != nil {
			t.Error(err)
		}
		srv.Close()
		srv.CloseClients()
		return srv.Wait(c)
	})
}
