//go:build linux

package socket_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/aiogo/aio/aio/internal/leakcheck"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
)

// pair returns a connected pair of loop sockets over TCP loopback: the
// client from Connect, the server side from Accept.
func pair(c *aio.Ctx, t *testing.T) (cl, sv *socket.Socket, ok bool) {
	ln, err := socket.Listen(c, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Errorf("Listen: %v", err)
		return nil, nil, false
	}
	defer ln.Close()
	cl, err = socket.Connect(c, "tcp", ln.LocalAddr().String())
	if err != nil {
		t.Errorf("Connect: %v", err)
		return nil, nil, false
	}
	sv, err = ln.Accept(c)
	if err != nil {
		cl.Close()
		t.Errorf("Accept: %v", err)
		return nil, nil, false
	}
	return cl, sv, true
}

// Connects to a listener whose backlog is full and that never accepts:
// one of them does not complete, and ends with the WithTimeout around it.
func TestConnectTimeoutFullBacklog(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		ln, err := socket.Listen(c, "tcp", "127.0.0.1:0", socket.WithBacklog(1))
		if err != nil {
			t.Errorf("Listen: %v", err)
			return nil
		}
		defer ln.Close()
		var conns []*socket.Socket
		defer func() {
			for _, s := range conns {
				s.Close()
			}
		}()
		for i := 0; i < 16; i++ {
			var s *socket.Socket
			err := aio.WithTimeout(c, 300*time.Millisecond, func(c *aio.Ctx) error {
				var err error
				s, err = socket.Connect(c, "tcp", ln.LocalAddr().String())
				return err
			})
			if s != nil {
				conns = append(conns, s)
			}
			if errors.Is(err, aio.ErrTimeout) {
				return nil // the property
			}
			if err != nil {
				t.Errorf("Connect %d: %v", i, err)
				return nil
			}
		}
		t.Skip("the kernel completed 16 connects to a backlog of 1: nothing timed out here")
		return nil
	})
}

// A peer that resets the connection (SO_LINGER 0) while the task sends
// makes SendAll fail with ECONNRESET or EPIPE, and nothing hangs.
func TestPeerReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		cn, err := ln.Accept()
		if err != nil {
			return
		}
		cn.SetDeadline(time.Now().Add(testTimeout))
		buf := make([]byte, 1000)
		io.ReadFull(cn, buf) // some of the transfer, then the reset
		cn.(*net.TCPConn).SetLinger(0)
		cn.Close()
	}()
	run(t, func(c *aio.Ctx) error {
		s, err := socket.Connect(c, "tcp", ln.Addr().String())
		if err != nil {
			t.Errorf("Connect: %v", err)
			return nil
		}
		defer s.Close()
		big := make([]byte, 64<<20)
		n, err := s.SendAll(c, big)
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Errorf("SendAll to a peer that reset: %d, %v; want ECONNRESET or EPIPE", n, err)
		}
		if n >= len(big) {
			t.Errorf("SendAll sent everything (%d) to a reset peer", n)
		}
		return nil
	})
	<-done
}

// A Recv cancelled while it waits takes nothing: the data sent afterwards
// is all read by the next Recv.
func TestCancelRecvLosesNothing(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		cl, sv, ok := pair(c, t)
		if !ok {
			return nil
		}
		defer cl.Close()
		defer sv.Close()
		task, _ := aio.Spawn(c, func(c *aio.Ctx) ([]byte, error) { return sv.Recv(c, 100) })
		aio.Yield(c)
		aio.Yield(c)
		task.Cancel(nil)
		if _, err := aio.Await(c, task); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Recv: %v", err)
		}
		cl.SendAll(c, []byte("after"))
		b, err := sv.Recv(c, 100)
		if err != nil || string(b) != "after" {
			t.Errorf("Recv after a cancelled one: %q, %v", b, err)
		}
		// The cancelled wait left the registration consistent: a wait
		// with a timeout works and ends.
		err = aio.WithTimeout(c, 20*time.Millisecond, func(c *aio.Ctx) error {
			_, err := sv.Recv(c, 1)
			return err
		})
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("Recv with nothing to read under a timeout: %v", err)
		}
		return nil
	})
}

// An Accept cancelled while it waits takes no connection: the next Accept
// returns the one that came afterwards.
func TestCancelAcceptLosesNothing(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		ln, err := socket.Listen(c, "tcp", "127.0.0.1:0")
		if err != nil {
			t.Errorf("Listen: %v", err)
			return nil
		}
		defer ln.Close()
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (*socket.Socket, error) { return ln.Accept(c) })
		aio.Yield(c)
		aio.Yield(c)
		task.Cancel(nil)
		if s, err := aio.Await(c, task); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Accept: %v, %v", s, err)
			if s != nil {
				s.Close()
			}
		}
		cl, err := socket.Connect(c, "tcp", ln.LocalAddr().String())
		if err != nil {
			t.Errorf("Connect: %v", err)
			return nil
		}
		defer cl.Close()
		sv, err := ln.Accept(c)
		if err != nil {
			t.Errorf("Accept after a cancelled one: %v", err)
			return nil
		}
		defer sv.Close()
		if sv.RemoteAddr().String() != cl.LocalAddr().String() {
			t.Errorf("accepted %v, connected from %v", sv.RemoteAddr(), cl.LocalAddr())
		}
		return nil
	})
}

// Close wakes a task waiting in Recv with net.ErrClosed; later operations
// return net.ErrClosed too.
func TestCloseWakesWaiters(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		cl, sv, ok := pair(c, t)
		if !ok {
			return nil
		}
		defer cl.Close()
		task, _ := aio.Spawn(c, func(c *aio.Ctx) ([]byte, error) { return sv.Recv(c, 10) })
		aio.Yield(c)
		aio.Yield(c)
		sv.Close()
		if _, err := aio.Await(c, task); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Recv woken by Close: %v", err)
		}
		if _, err := sv.Send(c, []byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Send after Close: %v", err)
		}
		if err := sv.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close: %v", err)
		}
		return nil
	})
}

// SendAll of 16 MiB to a peer that reads slowly completes intact, while
// another task of the loop keeps running (the loop is never blocked): the
// peer starts reading only when that task has run three times, so SendAll
// can complete only if the loop ran it meanwhile.
func TestSendAllSlowReader(t *testing.T) {
	const size = 16 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sum := make(chan []byte, 1)
	start := make(chan struct{}) // closed by the other task of the loop
	go func() {
		cn, err := ln.Accept()
		if err != nil {
			sum <- nil
			return
		}
		defer cn.Close()
		select {
		case <-start:
		case <-time.After(testTimeout):
		}
		cn.SetDeadline(time.Now().Add(testTimeout))
		got := make([]byte, 0, size)
		buf := make([]byte, 256<<10)
		for i := 0; ; i++ {
			n, err := cn.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
			if i%8 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		sum <- got
	}()
	run(t, func(c *aio.Ctx) error {
		s, err := socket.Connect(c, "tcp", ln.Addr().String())
		if err != nil {
			t.Errorf("Connect: %v", err)
			return nil
		}
		msg := make([]byte, size)
		for i := range msg {
			msg[i] = byte(i * 7)
		}
		ticks := 0
		stop := false
		ticker, _ := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
			for !stop {
				ticks++
				if ticks == 3 {
					close(start) // the peer reads only from now on
				}
				if err := aio.Sleep(c, 0); err != nil {
					return struct{}{}, err
				}
			}
			return struct{}{}, nil
		})
		n, err := s.SendAll(c, msg)
		stop = true
		aio.Await(c, ticker)
		s.Close()
		if err != nil || n != size {
			t.Errorf("SendAll: %d, %v", n, err)
		}
		if ticks < 3 {
			// Cannot happen: the peer reads nothing before the third
			// tick, and 16 MiB do not fit in the socket buffers.
			t.Errorf("the other task ran %d times during SendAll", ticks)
		}
		for {
			select {
			case got := <-sum:
				if !bytes.Equal(got, msg) {
					t.Errorf("peer got %d bytes, not the message", len(got))
				}
				return nil
			default:
				aio.Sleep(c, time.Millisecond)
			}
		}
	})
}

// SendFile sends a temporary file (all of it, and a range), which the
// peer receives intact; with sendfile(2) and with the copying fallback.
func TestSendFile(t *testing.T) {
	t.Run("sendfile", testSendFile)
	t.Run("copy", func(t *testing.T) {
		defer socket.SetForceCopy(true)()
		testSendFile(t)
	})
}

func testSendFile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "sf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(i*13 + i>>11)
	}
	f.Write(data)
	run(t, func(c *aio.Ctx) error {
		cl, sv, ok := pair(c, t)
		if !ok {
			return nil
		}
		defer cl.Close()
		defer sv.Close()
		recv, _ := aio.Spawn(c, func(c *aio.Ctx) ([]byte, error) {
			var out []byte
			buf := make([]byte, 64<<10)
			for {
				n, err := sv.RecvInto(c, buf)
				out = append(out, buf[:n]...)
				if err == io.EOF {
					return out, nil
				}
				if err != nil {
					return out, err
				}
			}
		})
		n, err := cl.SendFile(c, f, 0, 0)
		if err != nil || n != int64(len(data)) {
			t.Errorf("SendFile of the whole file: %d, %v", n, err)
		}
		n, err = cl.SendFile(c, f, 1000, 5000)
		if err != nil || n != 5000 {
			t.Errorf("SendFile of a range: %d, %v", n, err)
		}
		cl.ShutdownWrite()
		got, err := aio.Await(c, recv)
		want := append(append([]byte(nil), data...), data[1000:6000]...)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("peer got %d bytes (%v), want %d", len(got), err, len(want))
		}
		return nil
	})
}

// FromConn of a Go net.Conn (and FromListener of a net.Listener) gives a
// loop socket on the same connection, usable from tasks.
func TestFromConn(t *testing.T) {
	addr, stop := echoServer(t, "tcp", "127.0.0.1:0")
	defer stop()
	run(t, func(c *aio.Ctx) error {
		// Go's net on the loop goroutine: loopback, at once.
		cn, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Errorf("Dial: %v", err)
			return nil
		}
		gl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			cn.Close()
			t.Errorf("Listen: %v", err)
			return nil
		}
		defer gl.Close()
		s, err := socket.FromConn(cn.(*net.TCPConn))
		cn.Close() // the Socket holds its own descriptor
		if err != nil {
			t.Errorf("FromConn: %v", err)
			return nil
		}
		defer s.Close()
		if _, err := s.SendAll(c, []byte("via FromConn")); err != nil {
			t.Errorf("SendAll: %v", err)
		}
		buf := make([]byte, 12)
		if err := readFull(c, s, buf); err != nil || string(buf) != "via FromConn" {
			t.Errorf("echo: %q, %v", buf, err)
		}
		ls, err := socket.FromListener(gl)
		if err != nil {
			t.Errorf("FromListener: %v", err)
			return nil
		}
		defer ls.Close()
		cl, err := socket.Connect(c, "tcp", gl.Addr().String())
		if err != nil {
			t.Errorf("Connect: %v", err)
			return nil
		}
		defer cl.Close()
		sv, err := ls.Accept(c)
		if err != nil {
			t.Errorf("Accept on FromListener: %v", err)
			return nil
		}
		sv.Close()
		if _, err := socket.FromFile(os.Stdin); !errors.Is(err, syscall.ENOTSOCK) && err == nil {
			t.Errorf("FromFile of a non-socket: %v", err)
		}
		return nil
	})
}

// WaitReadable and WaitWritable on a raw fd: several tasks waiting on the
// same fd are all woken when it becomes readable; a cancelled waiter
// leaves the others waiting and the registration consistent.
func TestWaitReadable(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		var p [2]int
		if err := syscall.Pipe2(p[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
			t.Errorf("pipe: %v", err)
			return nil
		}
		defer syscall.Close(p[0])
		defer syscall.Close(p[1])
		if err := socket.WaitWritable(c, p[1]); err != nil {
			t.Errorf("WaitWritable: %v", err)
		}
		var tasks []*aio.Task[struct{}]
		for i := 0; i < 3; i++ {
			tk, _ := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
				return struct{}{}, socket.WaitReadable(c, p[0])
			})
			tasks = append(tasks, tk)
		}
		aio.Yield(c)
		aio.Yield(c)
		tasks[1].Cancel(nil)
		aio.Yield(c)
		syscall.Write(p[1], []byte("x"))
		for i, tk := range tasks {
			_, err := aio.Await(c, tk)
			if i == 1 && !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled waiter: %v", err)
			}
			if i != 1 && err != nil {
				t.Errorf("waiter %d: %v", i, err)
			}
		}
		// All waiters are gone: the fd is no longer watched, and may be
		// watched by the loop directly.
		if err := c.Loop().AddReader(p[0], func() {}); err != nil {
			t.Errorf("AddReader after the waits: %v", err)
		}
		c.Loop().RemoveReader(p[0])
		return nil
	})
}

// A Socket outlives its loop: closed after the loop has closed, it closes
// its descriptor; used from another loop's task, it returns an error.
func TestSocketAfterLoop(t *testing.T) {
	before := leakcheck.OpenFDs(t)
	s, err := aio.Run(func(c *aio.Ctx) (*socket.Socket, error) {
		return socket.Listen(c, "tcp", "127.0.0.1:0")
	})
	if err != nil {
		t.Fatal(err)
	}
	run(t, func(c *aio.Ctx) error {
		if _, err := s.Accept(c); !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("Accept from another loop: %v, want ErrInvalidState", err)
		}
		return nil
	})
	if err := s.Close(); err != nil {
		t.Errorf("Close after the loop closed: %v", err)
	}
	if after := leakcheck.OpenFDs(t); after != before {
		t.Errorf("fds: %d before, %d after", before, after)
	}
}

// Misuse gives errors, not a crash: a nil Ctx, a negative fd, an fd that
// is not open, a Close off the loop.
func TestMisuse(t *testing.T) {
	if err := socket.WaitReadable(nil, 0); !errors.Is(err, aio.ErrNotInTask) {
		t.Errorf("WaitReadable(nil): %v", err)
	}
	run(t, func(c *aio.Ctx) error {
		if err := socket.WaitReadable(c, -1); !errors.Is(err, syscall.EBADF) {
			t.Errorf("WaitReadable(-1): %v", err)
		}
		if err := socket.WaitWritable(c, 1<<20); !errors.Is(err, syscall.EBADF) {
			t.Errorf("WaitWritable(not open): %v", err)
		}
		ln, err := socket.Listen(c, "tcp", "127.0.0.1:0")
		if err != nil {
			t.Errorf("Listen: %v", err)
			return nil
		}
		res := make(chan error, 1)
		go func() { res <- ln.Close() }()
		for len(res) == 0 {
			aio.Sleep(c, time.Millisecond)
		}
		if err := <-res; !errors.Is(err, aio.ErrNotOnLoop) {
			t.Errorf("Close from another goroutine: %v", err)
		}
		if err := ln.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		return nil
	})
}
