//go:build linux

package socket_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/aiotest"
	"github.com/aiogo/aio/aio/socket"
)

// readFull reads len(buf) bytes with RecvInto.
func readFull(c *aio.Ctx, s *socket.Socket, buf []byte) error {
	for got := 0; got < len(buf); {
		n, err := s.RecvInto(c, buf[got:])
		if err != nil {
			return err
		}
		got += n
	}
	return nil
}

// echoRoundTrips connects to a Go net echo server and checks round trips.
func echoRoundTrips(t *testing.T, network, listenAddr string) {
	addr, stop := echoServer(t, network, listenAddr)
	defer stop()
	run(t, func(c *aio.Ctx) error {
		s, err := socket.Connect(c, network, addr.String())
		if err != nil {
			t.Errorf("Connect: %v", err)
			return nil
		}
		defer s.Close()
		for i, size := range []int{1, 100, 4096, 300000} {
			msg := bytes.Repeat([]byte{byte('a' + i)}, size)
			if n, err := s.SendAll(c, msg); err != nil || n != size {
				t.Errorf("SendAll: %d, %v", n, err)
				return nil
			}
			got := make([]byte, size)
			if err := readFull(c, s, got); err != nil || !bytes.Equal(got, msg) {
				t.Errorf("echo of %d bytes: %v", size, err)
			}
		}
		if s.LocalAddr() == nil || s.RemoteAddr() == nil || s.RemoteAddr().String() != addr.String() {
			t.Errorf("addresses: local %v remote %v, want remote %v", s.LocalAddr(), s.RemoteAddr(), addr)
		}
		s.ShutdownWrite()
		if _, err := s.Recv(c, 10); err != io.EOF {
			t.Errorf("Recv after the peer closed: %v, want io.EOF", err)
		}
		return nil
	})
}

// Echo round trips over TCP on IPv4 arrive intact, and the end of the
// stream is io.EOF.
func TestEchoTCP4(t *testing.T) { echoRoundTrips(t, "tcp", "127.0.0.1:0") }

// Echo round trips over TCP on IPv6 arrive intact.
func TestEchoTCP6(t *testing.T) {
	if !haveIPv6() {
		t.Skip("no IPv6 loopback ([::1]) in this environment")
	}
	echoRoundTrips(t, "tcp6", "[::1]:0")
}

// Echo round trips over a Unix stream socket arrive intact.
func TestEchoUnix(t *testing.T) {
	echoRoundTrips(t, "unix", filepath.Join(t.TempDir(), "s"))
}

// A UDP datagram sent with SendTo comes back from a Go echo peer, read
// with RecvFrom with the peer's address; on IPv4 and IPv6.
func TestEchoUDP(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{{"udp4", "127.0.0.1:0"}, {"udp6", "[::1]:0"}} {
		t.Run(tc.network, func(t *testing.T) {
			if tc.network == "udp6" && !haveIPv6() {
				t.Skip("no IPv6 loopback")
			}
			pc, err := net.ListenPacket(tc.network, tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				buf := make([]byte, 2048)
				pc.SetDeadline(time.Now().Add(testTimeout))
				for {
					n, from, err := pc.ReadFrom(buf)
					if err != nil {
						return
					}
					pc.WriteTo(buf[:n], from)
				}
			}()
			defer func() { pc.Close(); <-done }()
			run(t, func(c *aio.Ctx) error {
				host := "127.0.0.1:0"
				if tc.network == "udp6" {
					host = "[::1]:0"
				}
				s, err := socket.ListenPacket(c, tc.network, host)
				if err != nil {
					t.Errorf("ListenPacket: %v", err)
					return nil
				}
				defer s.Close()
				buf := make([]byte, 2048)
				for i := 0; i < 5; i++ {
					msg := bytes.Repeat([]byte{byte('0' + i)}, 10*i+1)
					if _, err := s.SendTo(c, msg, pc.LocalAddr()); err != nil {
						t.Errorf("SendTo: %v", err)
						return nil
					}
					n, from, err := s.RecvFrom(c, buf)
					if err != nil || !bytes.Equal(buf[:n], msg) || from.String() != pc.LocalAddr().String() {
						t.Errorf("RecvFrom: %q from %v, %v", buf[:n], from, err)
					}
				}
				return nil
			})
		})
	}
}

// Datagrams between two unixgram sockets of the loop arrive intact, with
// the sender's address; Connect("unixgram") then Send works too.
func TestUnixgram(t *testing.T) {
	dir := t.TempDir()
	pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	run(t, func(c *aio.Ctx) error {
		a, err := socket.ListenPacket(c, "unixgram", pa)
		if err != nil {
			t.Errorf("ListenPacket: %v", err)
			return nil
		}
		defer a.Close()
		b, err := socket.ListenPacket(c, "unixgram", pb)
		if err != nil {
			t.Errorf("ListenPacket: %v", err)
			return nil
		}
		defer b.Close()
		if _, err := a.SendTo(c, []byte("ping"), b.LocalAddr()); err != nil {
			t.Errorf("SendTo: %v", err)
			return nil
		}
		buf := make([]byte, 100)
		n, from, err := b.RecvFrom(c, buf)
		if err != nil || string(buf[:n]) != "ping" || from == nil || from.String() != pa {
			t.Errorf("RecvFrom: %q from %v, %v", buf[:n], from, err)
		}
		d, err := socket.Connect(c, "unixgram", pb)
		if err != nil {
			t.Errorf("Connect unixgram: %v", err)
			return nil
		}
		defer d.Close()
		if _, err := d.Send(c, []byte("pong")); err != nil {
			t.Errorf("Send: %v", err)
		}
		if n, _, err := b.RecvFrom(c, buf); err != nil || string(buf[:n]) != "pong" {
			t.Errorf("RecvFrom: %q, %v", buf[:n], err)
		}
		return nil
	})
	if _, err := os.Stat(pa); !os.IsNotExist(err) {
		t.Errorf("socket file %s not removed by Close: %v", pa, err)
	}
}

// A task-side listener accepts a connection from a Go net.Dial client,
// echoes to it, and the client reads the echo.
func TestAcceptFromNetDial(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{{"tcp", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}, {"unix", ""}} {
		t.Run(tc.network, func(t *testing.T) {
			if tc.network == "tcp6" && !haveIPv6() {
				t.Skip("no IPv6 loopback")
			}
			addr := tc.addr
			if tc.network == "unix" {
				addr = filepath.Join(t.TempDir(), "l")
			}
			run(t, func(c *aio.Ctx) error {
				ln, err := socket.Listen(c, tc.network, addr)
				if err != nil {
					t.Errorf("Listen: %v", err)
					return nil
				}
				defer ln.Close()
				la := ln.LocalAddr()
				res := make(chan error, 1)
				go func() {
					cn, err := net.DialTimeout(tc.network, la.String(), testTimeout)
					if err != nil {
						res <- err
						return
					}
					defer cn.Close()
					cn.SetDeadline(time.Now().Add(testTimeout))
					cn.Write([]byte("hello"))
					buf := make([]byte, 5)
					_, err = io.ReadFull(cn, buf)
					if err == nil && string(buf) != "hello" {
						err = errors.New("bad echo " + string(buf))
					}
					res <- err
				}()
				s, err := ln.Accept(c)
				if err != nil {
					t.Errorf("Accept: %v", err)
					return nil
				}
				defer s.Close()
				b, err := s.Recv(c, 5)
				for err == nil && len(b) < 5 {
					var more []byte
					more, err = s.Recv(c, 5-len(b))
					b = append(b, more...)
				}
				if err != nil {
					t.Errorf("Recv: %v", err)
					return nil
				}
				if _, err := s.SendAll(c, b); err != nil {
					t.Errorf("SendAll: %v", err)
				}
				// The client's result, awaited without blocking the loop.
				for {
					select {
					case err := <-res:
						if err != nil {
							t.Errorf("client: %v", err)
						}
						return nil
					default:
						aio.Sleep(c, time.Millisecond)
					}
				}
			})
		})
	}
}

// Connecting to a port nobody listens on fails with ECONNREFUSED.
func TestConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	run(t, func(c *aio.Ctx) error {
		s, err := socket.Connect(c, "tcp", addr)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Connect to a closed port: %v, %v; want ECONNREFUSED", s, err)
			if s != nil {
				s.Close()
			}
		}
		return nil
	})
}

// A Connect that cannot complete (a non-routable address) ends with the
// timeout of aio.WithTimeout around it, and leaves no fd.
func TestConnectTimeout(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var s *socket.Socket
		err := aio.WithTimeout(c, 200*time.Millisecond, func(c *aio.Ctx) error {
			var err error
			s, err = socket.Connect(c, "tcp", "10.255.255.1:81")
			return err
		})
		if s != nil {
			s.Close()
		}
		switch {
		case err == nil:
			t.Log("the environment connected to 10.255.255.1: nothing to time out")
		case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ECONNREFUSED):
			t.Logf("the environment answered at once: %v", err)
		case !errors.Is(err, aio.ErrTimeout):
			t.Errorf("Connect under WithTimeout: %v, want a timeout", err)
		}
		return nil
	})
}

// Bad network names and addresses give clear errors, never a hang.
func TestBadInput(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		if _, err := socket.Connect(c, "tcpx", "1.2.3.4:5"); !errors.Is(err, socket.ErrNetwork) {
			t.Errorf("bad network: %v", err)
		}
		if _, err := socket.Listen(c, "udp", ":0"); !errors.Is(err, socket.ErrNetwork) {
			t.Errorf("Listen udp: %v", err)
		}
		if _, err := socket.ListenPacket(c, "tcp", ":0"); !errors.Is(err, socket.ErrNetwork) {
			t.Errorf("ListenPacket tcp: %v", err)
		}
		for _, a := range []string{"localhost:80", "1.2.3.4", "1.2.3.4:99999", "[::1]:x"} {
			if _, err := socket.Connect(c, "tcp", a); !errors.Is(err, socket.ErrAddress) {
				t.Errorf("Connect(%q): %v", a, err)
			}
		}
		if _, err := socket.Connect(c, "tcp4", "[::1]:80"); !errors.Is(err, socket.ErrAddress) {
			t.Errorf("tcp4 with an IPv6 address: %v", err)
		}
		return nil
	})
}

// After a short read (the socket held less than the buffer's room) the
// next RecvInto waits for readiness rather than reading at once: bytes
// that arrived in between (already there when it is called) are still
// returned without delay beyond a poll; a RecvInto cancelled in that wait
// takes nothing, and the next one reads what came.
func TestRecvAfterShortRead(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peerc := make(chan net.Conn, 1)
	go func() {
		cn, err := ln.Accept()
		if err == nil {
			peerc <- cn
		}
		close(peerc)
	}()
	run(t, func(c *aio.Ctx) error {
		s, err := socket.Connect(c, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer s.Close()
		peer, _, err := aio.GoRecv(c, (<-chan net.Conn)(peerc))
		if err != nil || peer == nil {
			return errors.New("no peer")
		}
		defer peer.Close()
		buf := make([]byte, 100)
		peer.Write([]byte("one"))
		if err := readFull(c, s, buf[:3]); err != nil || string(buf[:3]) != "one" {
			t.Errorf("first read %q, %v", buf[:3], err)
		}
		// The socket is drained; "two" arrives before the next call.
		peer.Write([]byte("two"))
		n, err := s.RecvInto(c, buf)
		if err != nil || string(buf[:n]) != "two" {
			t.Errorf("after a short read: %q, %v", buf[:n], err)
		}
		// A wait cancelled before anything came takes nothing.
		err = aio.WithTimeout(c, 0, func(c *aio.Ctx) error {
			_, err := s.RecvInto(c, buf)
			return err
		})
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("a cancelled RecvInto: %v", err)
		}
		peer.Write([]byte("three"))
		n, err = s.RecvInto(c, buf)
		if err != nil || string(buf[:n]) != "three" {
			t.Errorf("after a cancelled wait: %q, %v", buf[:n], err)
		}
		return nil
	})
}

// On a virtual clock, a task waiting in RecvInto holds the clock: a peer
// outside the loop that answers after a moment of real time is heard
// before a task sleeping an hour of virtual time wakes. An Accept does not
// hold it: with only a listener waiting, the hour passes at once.
func TestRecvHoldsVirtualClock(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peerDone := make(chan struct{})
	go func() {
		defer close(peerDone)
		cn, err := ln.Accept()
		if err != nil {
			return
		}
		defer cn.Close()
		time.Sleep(20 * time.Millisecond)
		cn.Write([]byte("late"))
		io.Copy(io.Discard, cn)
	}()
	// The peer closes its end when it reads the EOF of the loop's Close:
	// wait for it, so that no descriptor outlives the test.
	defer func() { ln.Close(); <-peerDone }()
	aiotest.Run(t, func(c *aio.Ctx) error {
		s, err := socket.Connect(c, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer s.Close()
		var order []string
		sleeper, err := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
			err := aio.Sleep(c, time.Hour)
			order = append(order, "slept")
			return struct{}{}, err
		})
		if err != nil {
			return err
		}
		buf := make([]byte, 10)
		n, err := s.RecvInto(c, buf)
		if err != nil || string(buf[:n]) != "late" {
			t.Errorf("RecvInto: %q, %v", buf[:n], err)
		}
		order = append(order, "received")
		if _, err := aio.Await(c, sleeper); err != nil {
			return err
		}
		if fmt.Sprint(order) != "[received slept]" {
			t.Errorf("order %v: the clock jumped past a receive in progress", order)
		}

		l, err := socket.Listen(c, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer l.Close()
		start := c.Loop().Now()
		err = aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error {
			_, err := l.Accept(c)
			return err
		})
		if !errors.Is(err, aio.ErrTimeout) || c.Loop().Now().Sub(start) != time.Hour {
			t.Errorf("an Accept under an hour's timeout: %v after %v", err, c.Loop().Now().Sub(start))
		}
		return nil
	})
}
