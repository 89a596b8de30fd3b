//go:build linux

package transport_test

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/internal/nettest"
	"github.com/aiogo/aio/aio/transport"
)

// dialAndEcho connects to addr from a goroutine, sends msg, and returns
// what comes back before EOF (after a CloseWrite), or an error.
func dialAndEcho(network, addr, msg string) <-chan error {
	return goDo(func() error {
		cn, err := net.Dial(network, addr)
		if err != nil {
			return err
		}
		defer cn.Close()
		cn.SetDeadline(time.Now().Add(testTimeout))
		if _, err := cn.Write([]byte(msg)); err != nil {
			return err
		}
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(cn, buf); err != nil {
			return err
		}
		if string(buf) != msg {
			return errors.New("echoed " + string(buf))
		}
		return nil
	})
}

// A server made WithoutServing does not accept (a connection waits in the
// backlog) until Start; Serving says so; Close stops accepting while the
// connections go on; CloseClients closes them gracefully (the queued bytes
// are sent first); Wait returns once they are lost; Start after Close
// returns an error matching net.ErrClosed.
func TestServerLifecycle(t *testing.T) {
	checkFDs(t)
	run(t, func(c *aio.Ctx) error {
		var protos []*recorder
		srv, err := transport.Serve(c, "tcp", "127.0.0.1:0", func() *recorder {
			r := &recorder{onData: func(r *recorder, b []byte) { r.t.Write(b) }}
			protos = append(protos, r)
			return r
		}, transport.WithoutServing())
		if err != nil {
			return err
		}
		if srv.Serving() {
			t.Error("Serving before Start")
		}
		addr := srv.Addr().String()
		cn, err := net.Dial("tcp", addr) // waits in the backlog
		if err != nil {
			return err
		}
		defer cn.Close()
		aio.Sleep(c, 10*time.Millisecond)
		if len(protos) != 0 {
			t.Fatalf("%d connections accepted before Start", len(protos))
		}
		if err := srv.Start(); err != nil {
			return err
		}
		if !srv.Serving() {
			t.Error("not Serving after Start")
		}
		if err := awaitGo(c, dialAndEcho("tcp", addr, "ping")); err != nil {
			t.Error(err)
		}
		// The second client has closed; its transport may be lost by now.
		if n := srv.Clients(); len(protos) != 2 || n < 1 || n > 2 {
			t.Errorf("%d protocols, %d clients, want 2 and 1 or 2", len(protos), n)
		}
		srv.Close()
		if srv.Serving() {
			t.Error("Serving after Close")
		}
		if err := srv.Start(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Start after Close = %v, want net.ErrClosed", err)
		}
		// The first connection still works after Close.
		reply := goDo(func() error {
			cn.SetDeadline(time.Now().Add(testTimeout))
			cn.Write([]byte("still"))
			buf := make([]byte, 5)
			if _, err := io.ReadFull(cn, buf); err != nil || string(buf) != "still" {
				return errors.New("no echo after Close: " + string(buf))
			}
			return nil
		})
		if err := awaitGo(c, reply); err != nil {
			t.Error(err)
		}
		waited := false
		w, err := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
			err := srv.Wait(c)
			waited = true
			return struct{}{}, err
		})
		if err != nil {
			return err
		}
		aio.Sleep(c, time.Millisecond)
		if waited {
			t.Error("Wait returned with a connection open")
		}
		protos[0].t.Write([]byte("bye"))
		srv.CloseClients()
		if _, err := aio.Await(c, w); err != nil {
			return err
		}
		got := goDo(func() error {
			b, err := io.ReadAll(cn)
			if string(b) != "bye" {
				return errors.New("read " + string(b) + " before EOF, want bye")
			}
			return err
		})
		if err := awaitGo(c, got); err != nil {
			t.Error(err)
		}
		return nil
	})
}

// AbortClients drops the connections at once, queued bytes and all.
func TestServerAbortClients(t *testing.T) {
	checkFDs(t)
	run(t, func(c *aio.Ctx) error {
		var p *recorder
		srv, err := transport.Serve(c, "tcp", "127.0.0.1:0", func() *recorder {
			p = &recorder{}
			return p
		})
		if err != nil {
			return err
		}
		cn, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		defer cn.Close()
		for p == nil {
			aio.Sleep(c, time.Millisecond)
		}
		p.t.Write(make([]byte, 8<<20)) // more than the socket buffers: some is queued
		if p.t.WriteBufferSize() == 0 {
			t.Fatal("nothing queued")
		}
		srv.Close()
		srv.AbortClients()
		if err := srv.Wait(c); err != nil {
			return err
		}
		if p.lost != nil || p.t.WriteBufferSize() != 0 {
			t.Errorf("ConnectionLost(%v), %d bytes still queued", p.lost, p.t.WriteBufferSize())
		}
		return nil
	})
}

// Transports and servers still open when their loop closes are closed by
// it: each protocol's ConnectionLost gets aio.ErrClosed, and no fd is
// left.
func TestLoopCloseClosesTransports(t *testing.T) {
	addr, _ := peer(t, echo)
	var client *recorder
	var accepted []*recorder
	run(t, func(c *aio.Ctx) error {
		srv, err := transport.Serve(c, "tcp", "127.0.0.1:0", func() *recorder {
			r := &recorder{}
			accepted = append(accepted, r)
			return r
		})
		if err != nil {
			return err
		}
		_, client, err = transport.Connect(c, "tcp", addr, func() *recorder { return &recorder{} })
		if err != nil {
			return err
		}
		if _, _, err := transport.Connect(c, "tcp", srv.Addr().String(), func() *recorder { return &recorder{} }); err != nil {
			return err
		}
		for len(accepted) == 0 {
			aio.Sleep(c, time.Millisecond)
		}
		return nil // Run closes the loop with all of it open
	})
	for _, r := range append(accepted, client) {
		if !errors.Is(r.lost, aio.ErrClosed) {
			t.Errorf("ConnectionLost(%v), want aio.ErrClosed", r.lost)
		}
	}
}

// A server on a Unix socket serves as a TCP one does, and removes its
// socket file when closed; Connect reaches it over "unix".
func TestUnixServer(t *testing.T) {
	checkFDs(t)
	path := filepath.Join(t.TempDir(), "s")
	run(t, func(c *aio.Ctx) error {
		srv, err := transport.Serve(c, "unix", path, func() *echoProto { return &echoProto{} })
		if err != nil {
			return err
		}
		if err := awaitGo(c, dialAndEcho("unix", path, "over unix")); err != nil {
			t.Error(err)
		}
		got := make(chan struct{})
		tr, rec, err := transport.Connect(c, "unix", path, func() *recorder {
			return &recorder{onData: func(r *recorder, b []byte) {
				if string(r.data) == "hi" {
					close(got)
				}
			}}
		})
		if err != nil {
			return err
		}
		tr.Write([]byte("hi"))
		aio.GoRecv(c, (<-chan struct{})(got))
		tr.Close()
		tr.WaitClosed(c)
		if string(rec.data) != "hi" {
			t.Errorf("received %q", rec.data)
		}
		srv.Close()
		if err := srv.Wait(c); err != nil {
			return err
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("socket file after Close: %v", err)
		}
		return nil
	})
}

// A server whose accept fails because the process is out of file
// descriptors (EMFILE) reports it through the loop's error handler, pauses
// accepting, and serves the waiting connection once descriptors are free
// again. The descriptor limit is lowered for the moment of the test.
func TestServerOutOfFDs(t *testing.T) {
	var reported []error
	run(t, func(c *aio.Ctx) error {
		c.Loop().SetErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) { reported = append(reported, ec.Err) })
		srv, err := transport.Serve(c, "tcp", "127.0.0.1:0", func() *echoProto { return &echoProto{} }, transport.WithoutServing())
		if err != nil {
			return err
		}
		conn, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			return err
		}
		defer conn.Close()
		restore := nettest.ExhaustFDs(t)
		srv.Start()
		for i := 0; i < 1000 && len(reported) == 0; i++ {
			aio.Sleep(c, time.Millisecond)
		}
		restore()
		if len(reported) == 0 || !errors.Is(reported[0], syscall.EMFILE) {
			t.Errorf("reported %v, want an EMFILE", reported)
		}
		if srv.Serving() {
			t.Error("Serving while backing off")
		}
		reply := goDo(func() error {
			conn.SetDeadline(time.Now().Add(testTimeout))
			conn.Write([]byte("still serving"))
			buf := make([]byte, len("still serving"))
			_, err := io.ReadFull(conn, buf)
			return err
		})
		if err := awaitGo(c, reply); err != nil {
			t.Errorf("after the backoff: %v", err)
		}
		srv.Close()
		srv.AbortClients()
		return srv.Wait(c)
	})
}
