//go:build unix

package loops_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/internal/leakcheck"
	"github.com/aiogo/aio/aio/loops"
	"github.com/aiogo/aio/aio/stream"
	"github.com/aiogo/aio/aio/transport"
)

// echoStream echoes a stream until EOF.
func echoStream(c *aio.Ctx, s *stream.Stream) error {
	for {
		b, err := s.Read(c, 64<<10)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Write(c, b); err != nil {
			return err
		}
		if err := s.Drain(c); err != nil {
			return err
		}
	}
}

type echoProto struct {
	transport.BaseProtocol
	t *transport.Transport
}

func (p *echoProto) ConnectionMade(t *transport.Transport) { p.t = t }
func (p *echoProto) DataReceived(b []byte)                 { p.t.Write(b) }

// exercise opens conns connections to addr, sends msgs distinct messages
// of size bytes on each and checks the echo byte for byte.
func exercise(t testing.TB, addr string, conns, msgs, size int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for k := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cn, err := net.DialTimeout("tcp", addr, testTimeout)
			if err != nil {
				errs <- err
				return
			}
			defer cn.Close()
			cn.SetDeadline(time.Now().Add(testTimeout))
			want := make([]byte, size)
			got := make([]byte, size)
			for m := range msgs {
				for i := range want {
					want[i] = byte(k*31 + m*7 + i)
				}
				if _, err := cn.Write(want); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(cn, got); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, want) {
					errs <- fmt.Errorf("conn %d msg %d: echo differs", k, m)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// serveEcho starts an echo server of kind ("stream" or "protocol") on g,
// with one acceptor or (where the system has it) SO_REUSEPORT.
func serveEcho(t *testing.T, g *loops.Group, kind string, acceptor bool) *loops.Server {
	t.Helper()
	var opts []loops.ServeOption
	if acceptor {
		opts = append(opts, loops.WithAcceptor())
	}
	var srv *loops.Server
	var err error
	if kind == "stream" {
		srv, err = loops.ServeStream(g, "tcp", "127.0.0.1:0", echoStream, opts...)
	} else {
		srv, err = loops.ServeProtocol(g, "tcp", "127.0.0.1:0", func() *echoProto { return &echoProto{} }, opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// The sharded servers, in both modes, for streams and protocols: every
// connection is echoed byte for byte, and every loop serves some of them.
func TestServeModes(t *testing.T) {
	for _, kind := range []string{"stream", "protocol"} {
		for _, acceptor := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/acceptor=%v", kind, acceptor), func(t *testing.T) {
				fds := leakcheck.OpenFDs(t)
				g := startGroup(t, 3)
				srv := serveEcho(t, g, kind, acceptor)
				wantMode := loops.ReusePort
				if acceptor || runtime.GOOS != "linux" {
					wantMode = loops.Acceptor
				}
				if srv.Mode() != wantMode {
					t.Errorf("Mode = %v, want %v", srv.Mode(), wantMode)
				}
				exercise(t, srv.Addr().String(), 60, 5, 3000)
				served := srv.Served()
				total := uint64(0)
				for i, n := range served {
					total += n
					if n == 0 {
						t.Errorf("loop %d served nothing: %v", i, served)
					}
				}
				if total != 60 {
					t.Errorf("served %v, total %d, want 60", served, total)
				}
				srv.Close()
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				if err := srv.Wait(ctx); err != nil {
					t.Errorf("Wait = %v", err)
				}
				if _, err := net.Dial("tcp", srv.Addr().String()); err == nil {
					t.Error("connected after Close")
				}
				g.Close()
				if n := leakcheck.OpenFDs(t); n != fds {
					t.Errorf("%d fds open, %d before", n, fds)
				}
			})
		}
	}
}

// CloseClients ends the connections in progress, on every loop, and Wait
// returns then.
func TestServeCloseClients(t *testing.T) {
	for _, acceptor := range []bool{false, true} {
		g := startGroup(t, 2)
		var opts []loops.ServeOption
		if acceptor {
			opts = append(opts, loops.WithAcceptor())
		}
		srv, err := loops.ServeStream(g, "tcp", "127.0.0.1:0", echoStream, opts...)
		if err != nil {
			t.Fatal(err)
		}
		var cs []net.Conn
		for range 6 {
			cn, err := net.Dial("tcp", srv.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			cn.Write([]byte("x"))
			io.ReadFull(cn, make([]byte, 1))
			cs = append(cs, cn)
		}
		srv.Close()
		srv.CloseClients()
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		if err := srv.Wait(ctx); err != nil {
			t.Errorf("Wait = %v", err)
		}
		cancel()
		for _, cn := range cs {
			cn.SetReadDeadline(time.Now().Add(testTimeout))
			if _, err := cn.Read(make([]byte, 1)); err == nil {
				t.Error("connection still open after CloseClients")
			}
			cn.Close()
		}
		g.Close()
	}
}

// Serving needs a started group and a plain goroutine.
func TestServeBadInput(t *testing.T) {
	g, _ := loops.New(1)
	if _, err := loops.ServeStream(g, "tcp", "127.0.0.1:0", echoStream); err == nil {
		t.Error("ServeStream before Start succeeded")
	}
	g.Start()
	defer g.Close()
	if _, err := loops.ServeStream(g, "tcp", "127.0.0.1:0", nil); err == nil {
		t.Error("ServeStream with a nil handler succeeded")
	}
	if _, err := loops.ServeStream(g, "tcp", "not an address", echoStream); err == nil {
		t.Error("ServeStream on a bad address succeeded")
	}
}

// Closing the group under a server with connections open ends them all
// (the peers read EOF) and leaves no descriptor, in both modes, for
// streams and protocols.
func TestGroupCloseUnderServer(t *testing.T) {
	for _, kind := range []string{"stream", "protocol"} {
		for _, acceptor := range []bool{false, true} {
			fds := leakcheck.OpenFDs(t)
			g, _ := loops.New(2)
			g.Start()
			srv := serveEcho(t, g, kind, acceptor)
			var cs []net.Conn
			for range 6 {
				cn, err := net.Dial("tcp", srv.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				cn.SetDeadline(time.Now().Add(testTimeout))
				cn.Write([]byte("x"))
				io.ReadFull(cn, make([]byte, 1))
				cs = append(cs, cn)
			}
			if err := g.Close(); err != nil {
				t.Errorf("%s acceptor=%v: Close = %v", kind, acceptor, err)
			}
			for _, cn := range cs {
				if _, err := cn.Read(make([]byte, 1)); err == nil {
					t.Errorf("%s acceptor=%v: a connection is still open", kind, acceptor)
				}
				cn.Close()
			}
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			if err := srv.Wait(ctx); err != nil {
				t.Errorf("%s acceptor=%v: Wait = %v", kind, acceptor, err)
			}
			cancel()
			if n := leakcheck.OpenFDs(t); n != fds {
				t.Errorf("%s acceptor=%v: %d fds open, %d before", kind, acceptor, n, fds)
			}
		}
	}
}
