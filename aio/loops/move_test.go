//go:build unix

package loops_test

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/loops"
	"github.com/aiogo/aio/aio/stream"
	"github.com/aiogo/aio/aio/transport"
)

// A stream served on one loop moves to another between two messages: the
// client's bytes sent meanwhile are read on the new loop, nothing is lost,
// and a stream with bytes buffered is refused with ErrNotIdle.
func TestMoveStream(t *testing.T) {
	g := startGroup(t, 2)
	moved := make(chan *aio.Loop, 1)
	srv, err := loops.ServeStream(g, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
		line, err := s.ReadLine(c)
		if err != nil {
			return err
		}
		s.Write(c, line)
		if err := s.Drain(c); err != nil {
			return err
		}
		target := g.Loop(0)
		if c.Loop() == target {
			target = g.Loop(1)
		}
		_, err = loops.MoveStream(c, s, target, func(c *aio.Ctx, s *stream.Stream) error {
			moved <- c.Loop()
			return echoStream(c, s)
		})
		return err
	}, loops.WithAcceptor())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cn.Close()
	cn.SetDeadline(time.Now().Add(testTimeout))
	cn.Write([]byte("hello\n"))
	buf := make([]byte, 6)
	if _, err := io.ReadFull(cn, buf); err != nil || string(buf) != "hello\n" {
		t.Fatalf("first echo %q, %v", buf, err)
	}
	cn.Write([]byte("after the move"))
	buf = make([]byte, 14)
	if _, err := io.ReadFull(cn, buf); err != nil || string(buf) != "after the move" {
		t.Fatalf("echo after the move %q, %v", buf, err)
	}
	if l := <-moved; l == nil {
		t.Error("no loop")
	}
}

// A stream with bytes read and not consumed is refused with ErrNotIdle.
func TestMoveStreamNotIdle(t *testing.T) {
	g := startGroup(t, 2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		cn, err := ln.Accept()
		if err == nil {
			cn.Write([]byte("two\nlines\n"))
			io.Copy(io.Discard, cn)
			cn.Close()
		}
	}()
	_, err = onLoop(t, g.Loop(0), func(c *aio.Ctx) (int, error) {
		s, err := stream.Open(c, "tcp", ln.Addr().String())
		if err != nil {
			return 0, err
		}
		defer s.Close()
		if _, err := s.ReadLine(c); err != nil {
			return 0, err
		}
		for s.Buffered() == 0 {
			aio.Sleep(c, time.Millisecond)
			break
		}
		if s.Buffered() == 0 {
			return 0, nil // the second line came in a packet of its own
		}
		_, err = loops.MoveStream(c, s, g.Loop(1), echoStream)
		if !errors.Is(err, loops.ErrNotIdle) {
			t.Errorf("MoveStream with bytes buffered = %v", err)
		}
		if line, err := s.ReadLine(c); err != nil || string(line) != "lines\n" {
			t.Errorf("the stream after a refused move: %q, %v", line, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A transport moves to another loop: its old protocol gets no
// ConnectionLost, the new one gets ConnectionMade on the target and the
// bytes sent after the move.
func TestMoveTransport(t *testing.T) {
	g := startGroup(t, 2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer := make(chan net.Conn, 1)
	go func() {
		cn, _ := ln.Accept()
		peer <- cn
	}()
	oldLost := make(chan error, 1)
	made := make(chan *aio.Loop, 1)
	_, err = onLoop(t, g.Loop(0), func(c *aio.Ctx) (int, error) {
		tr, _, err := transport.Connect(c, "tcp", ln.Addr().String(), func() *lostProto { return &lostProto{lost: oldLost} })
		if err != nil {
			return 0, err
		}
		nt, err := loops.MoveTransport(c, tr, g.Loop(1), &madeProto{made: made})
		if err != nil {
			return 0, err
		}
		if nt.Loop() != g.Loop(1) || !tr.IsClosing() {
			t.Error("the transport did not move")
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if l := <-made; l != g.Loop(1) {
		t.Error("ConnectionMade ran off the target")
	}
	cn := <-peer
	defer cn.Close()
	cn.SetDeadline(time.Now().Add(testTimeout))
	cn.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(cn, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo after the move %q, %v", buf, err)
	}
	select {
	case err := <-oldLost:
		t.Errorf("the old protocol lost its connection: %v", err)
	default:
	}
}

type lostProto struct {
	transport.BaseProtocol
	lost chan error
}

func (p *lostProto) ConnectionLost(err error) { p.lost <- err }

type madeProto struct {
	echoProto
	made chan *aio.Loop
}

func (p *madeProto) ConnectionMade(t *transport.Transport) {
	p.echoProto.t = t
	p.made <- aio.RunningLoop()
}
