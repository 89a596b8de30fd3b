//go:build linux

package transport_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/aiotest"
	"github.com/aiogo/aio/aio/socket"
	"github.com/aiogo/aio/aio/transport"
	"golang.org/x/sys/unix"
)

// lostProbe records a protocol's ConnectionLost calls: how many, the last
// error, and whether one came while the test was inside a call of the
// transport (Close, Abort, Write), which the close rules forbid.
type lostProbe struct {
	inCall bool
	calls  int
	err    error
	during bool
	errs   []error // a datagram endpoint's ErrorReceived
	flow   []string
	size   func() int // the transport's WriteBufferSize, for flow
}

func (p *lostProbe) flowEvent(what string) {
	p.flow = append(p.flow, fmt.Sprintf("%s at %d", what, p.size()))
}

func (p *lostProbe) ConnectionLost(err error) {
	p.calls++
	p.err = err
	if p.inCall {
		p.during = true
	}
}

// call runs a call of the transport with p.inCall set.
func (p *lostProbe) call(fn func() error) error {
	p.inCall = true
	defer func() { p.inCall = false }()
	return fn()
}

type streamProbe struct {
	transport.BaseProtocol
	*lostProbe
}

func (s streamProbe) ConnectionLost(err error) { s.lostProbe.ConnectionLost(err) }
func (s streamProbe) PauseWriting()            { s.flowEvent("pause") }
func (s streamProbe) ResumeWriting()           { s.flowEvent("resume") }

type datagramProbe struct {
	transport.BaseDatagramProtocol
	*lostProbe
}

func (d datagramProbe) ConnectionLost(err error) { d.lostProbe.ConnectionLost(err) }
func (d datagramProbe) ErrorReceived(err error)  { d.errs = append(d.errs, err) }
func (d datagramProbe) PauseWriting()            { d.flowEvent("pause") }
func (d datagramProbe) ResumeWriting()           { d.flowEvent("resume") }

// A closeSubject is a transport of either kind, seen through what the close
// rules speak of, with its peer: the other end of a socket pair, a raw
// non-blocking descriptor that the test reads or closes.
type closeSubject struct {
	*lostProbe
	tr   closable
	peer int
}

// closable is what both kinds of transport have of the close rules.
type closable interface {
	Close() error
	Abort() error
	IsClosing() bool
	WaitClosed(c *aio.Ctx) error
	WriteBufferSize() int
	Write(b []byte) error
	SetWriteBufferLimits(high, low int) error
}

func (s *closeSubject) Close() error { return s.call(s.tr.Close) }
func (s *closeSubject) Abort() error { return s.call(s.tr.Abort) }
func (s *closeSubject) Write(b []byte) error {
	return s.call(func() error { return s.tr.Write(b) })
}

// fill writes msg until some of it is queued (the peer does not read), and
// returns the bytes written.
func (s *closeSubject) fill(msg []byte) (int, error) {
	for i := 0; i < 1<<12; i++ {
		if err := s.Write(msg); err != nil {
			return 0, err
		}
		if s.tr.WriteBufferSize() > 0 {
			return (i + 1) * len(msg), nil
		}
	}
	return 0, errors.New("nothing queued: the peer's buffers did not fill")
}

// drain reads the peer until done reports true with nothing left to read
// (or the peer's EOF), and returns the bytes read.
func (s *closeSubject) drain(c *aio.Ctx, done func() bool) (int, error) {
	buf := make([]byte, 64<<10)
	got := 0
	for {
		n, err := unix.Read(s.peer, buf)
		switch {
		case n > 0:
			got += n
		case err == nil || err == unix.EAGAIN && done():
			return got, nil // EOF, or all of it
		case err == unix.EAGAIN:
			if err := aio.Sleep(c, time.Millisecond); err != nil {
				return got, err
			}
		default:
			return got, err
		}
	}
}

// A closeKind makes a transport of one kind on a socket pair.
type closeKind struct {
	name  string
	msg   int // the size of one Write
	open  func(l *aio.Loop, sock *socket.Socket, p *lostProbe) (closable, error)
	stype int
	// resetLoses tells whether a peer that goes away loses the
	// transport (a stream: with an error matching ECONNRESET or EPIPE),
	// or leaves it open (a datagram endpoint: the error goes to
	// ErrorReceived or to the Write, and only Close ends it).
	resetLoses bool
}

var closeKinds = []closeKind{
	{
		name: "stream", msg: 16 << 10, stype: unix.SOCK_STREAM, resetLoses: true,
		open: func(l *aio.Loop, sock *socket.Socket, p *lostProbe) (closable, error) {
			return transport.New(l, sock, streamProbe{lostProbe: p})
		},
	},
	{
		name: "datagram", msg: 1 << 10, stype: unix.SOCK_DGRAM,
		open: func(l *aio.Loop, sock *socket.Socket, p *lostProbe) (closable, error) {
			return transport.NewDatagram(l, sock, datagramProbe{lostProbe: p})
		},
	},
}

// socketOf makes a Socket of fd, which it closes.
func socketOf(fd int) (*socket.Socket, error) {
	f := os.NewFile(uintptr(fd), "pair")
	defer f.Close()
	return socket.FromFile(f)
}

// openPair makes a socket pair of k's type and k's transport on one end; the
// other end is the subject's peer, closed by the test's cleanup.
func openPair(t *testing.T, l *aio.Loop, k closeKind) (*closeSubject, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, k.stype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	s := &closeSubject{lostProbe: &lostProbe{}, peer: fds[1]}
	t.Cleanup(s.closePeer)
	// A small send buffer: what the peer does not read is queued soon,
	// and the writer is woken for every few messages the peer reads.
	if err := unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<10); err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	sock, err := socketOf(fds[0])
	if err != nil {
		return nil, err
	}
	if s.tr, err = k.open(l, sock, s.lostProbe); err != nil {
		return nil, err
	}
	s.size = s.tr.WriteBufferSize
	return s, nil
}

// closePeer closes the peer's end, once.
func (s *closeSubject) closePeer() {
	if s.peer >= 0 {
		unix.Close(s.peer)
		s.peer = -1
	}
}

// closeScenario is one way of closing a transport. body runs in the main
// task with the subject open and a task already parked in WaitClosed; it
// returns the error class ConnectionLost must get. If loopCloses is set,
// body returns with the transport open, and the loop's close ends it.
type closeScenario struct {
	name       string
	loopCloses bool
	body       func(t *testing.T, c *aio.Ctx, k closeKind, s *closeSubject) (want func(error) bool, err error)
}

func isNil(err error) bool { return err == nil }

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

var closeScenarios = []closeScenario{
	{
		// Close sends what is queued first: the peer reads every byte
		// written, then ConnectionLost(nil).
		name: "Close with queued writes",
		body: func(t *testing.T, c *aio.Ctx, k closeKind, s *closeSubject) (func(error) bool, error) {
			sent, err := s.fill(make([]byte, k.msg))
			if err != nil {
				return nil, err
			}
			if err := s.Close(); err != nil {
				return nil, err
			}
			if !s.tr.IsClosing() || s.tr.WriteBufferSize() == 0 {
				t.Errorf("after Close: IsClosing %v, %d bytes queued; want closing, the queue kept", s.tr.IsClosing(), s.tr.WriteBufferSize())
			}
			if err := s.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Write after Close = %v, want net.ErrClosed", err)
			}
			got, err := s.drain(c, func() bool { return s.calls > 0 })
			if err != nil {
				return nil, err
			}
			if got != sent {
				t.Errorf("the peer read %d bytes, want %d", got, sent)
			}
			return isNil, nil
		},
	},
	{
		// Abort drops the queue and closes at once; ConnectionLost(nil)
		// comes later, in a callback of its own.
		name: "Abort with queued writes",
		body: func(t *testing.T, c *aio.Ctx, k closeKind, s *closeSubject) (func(error) bool, error) {
			if _, err := s.fill(make([]byte, k.msg)); err != nil {
				return nil, err
			}
			if err := s.Abort(); err != nil {
				return nil, err
			}
			if !s.tr.IsClosing() || s.tr.WriteBufferSize() != 0 {
				t.Errorf("after Abort: IsClosing %v, %d bytes queued; want closing, nothing queued", s.tr.IsClosing(), s.tr.WriteBufferSize())
			}
			if s.calls != 0 {
				t.Error("ConnectionLost before the Abort's caller went on")
			}
			return isNil, nil
		},
	},
	{
		// A second Close, and an Abort after it, do nothing and
		// return nil: one ConnectionLost(nil).
		name: "Close twice",
		body: func(t *testing.T, c *aio.Ctx, k closeKind, s *closeSubject) (func(error) bool, error) {
			for i, f := range []func() error{s.Close, s.Close, s.Abort} {
				if err := f(); err != nil {
					t.Errorf("call %d = %v, want nil", i, err)
				}
			}
			if err := s.tr.WaitClosed(c); err != nil {
				t.Errorf("WaitClosed = %v", err)
			}
			for i, f := range []func() error{s.Close, s.Abort} {
				if err := f(); err != nil {
					t.Errorf("call %d after the loss = %v, want nil", i, err)
				}
			}
			return isNil, nil
		},
	},
	{
		// The loop's close aborts a transport left open: ConnectionLost
		// gets aio.ErrClosed, once; the task in WaitClosed is ended by
		// the shutdown, not left hanging.
		name: "loop closed with the transport open", loopCloses: true,
		body: func(t *testing.T, c *aio.Ctx, k closeKind, s *closeSubject) (func(error) bool, error) {
			if err := s.Write([]byte("x")); err != nil {
				return nil, err
			}
			return func(err error) bool { return errors.Is(err, aio.ErrClosed) }, nil
		},
	},
	{
		// A peer that goes away with bytes unread: a stream is lost
		// with ECONNRESET or EPIPE; a datagram endpoint stays open (the
		// error goes to ErrorReceived or to the Write) until Close.
		name: "peer reset",
		body: func(t *testing.T, c *aio.Ctx, k closeKind, s *closeSubject) (func(error) bool, error) {
			if err := s.Write(make([]byte, k.msg)); err != nil {
				return nil, err
			}
			s.closePeer()
			var werr error
			for i := 0; i < 100 && !s.tr.IsClosing() && werr == nil; i++ {
				if werr = s.Write(make([]byte, k.msg)); werr == nil {
					if err := aio.Sleep(c, time.Millisecond); err != nil {
						return nil, err
					}
				}
			}
			if !k.resetLoses {
				if werr == nil && len(s.errs) == 0 || s.tr.IsClosing() {
					t.Errorf("after the reset: Write = %v, ErrorReceived %v, IsClosing %v; want an error, open", werr, s.errs, s.tr.IsClosing())
				}
				return isNil, s.Close()
			}
			if werr != nil && !isReset(werr) {
				t.Errorf("Write = %v, want ECONNRESET or EPIPE", werr)
			}
			if !s.tr.IsClosing() {
				t.Error("still open after the reset")
			}
			return isReset, nil
		},
	},
	{
		// A Close whose ConnectionLost is still scheduled when the loop
		// closes (the close drops pending callbacks) gets it all the
		// same, from the close, with nil: it is never skipped.
		name: "Close just before the loop closes", loopCloses: true,
		body: func(t *testing.T, c *aio.Ctx, k closeKind, s *closeSubject) (func(error) bool, error) {
			return isNil, s.Close()
		},
	},
}

// The close rules hold for both kinds of transport alike: in every way of
// closing (Close with writes queued, Abort, Close twice, the loop's close
// with the transport open, a peer's reset, a Close just before the loop's
// close), ConnectionLost is called exactly once, with the error class the
// way gives, never inside the call that closed the transport; the task
// parked in WaitClosed before the close returns that same error (or is
// ended by the loop's shutdown); and no descriptor is left.
func TestCloseRules(t *testing.T) {
	for _, k := range closeKinds {
		for _, sc := range closeScenarios {
			t.Run(k.name+"/"+sc.name, func(t *testing.T) {
				checkFDs(t)
				var s *closeSubject
				var want func(error) bool
				var waitErr error
				waited := false
				body := func(c *aio.Ctx) error {
					var err error
					if s, err = openPair(t, c.Loop(), k); err != nil {
						return err
					}
					waiter, err := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
						waitErr, waited = s.tr.WaitClosed(c), true
						return struct{}{}, nil
					})
					if err != nil {
						return err
					}
					aio.Sleep(c, 0) // the waiter parks
					if want, err = sc.body(t, c, k, s); err != nil {
						return err
					}
					if sc.loopCloses {
						if s.calls != 0 {
							t.Errorf("ConnectionLost(%v) before the loop's close", s.err)
						}
						return nil
					}
					if _, err := aio.Await(c, waiter); err != nil {
						return err
					}
					// Let callbacks run: a second ConnectionLost would
					// come now.
					return aio.Sleep(c, time.Millisecond)
				}
				if sc.loopCloses {
					runThenClose(t, body)
				} else {
					run(t, body)
				}
				if s == nil || want == nil {
					return
				}
				switch {
				case s.calls != 1:
					t.Errorf("ConnectionLost called %d times, want once", s.calls)
				case !want(s.err):
					t.Errorf("ConnectionLost(%v): not the error expected", s.err)
				case s.during:
					t.Error("ConnectionLost called inside the call that closed the transport")
				}
				switch {
				case !waited:
					t.Error("the task in WaitClosed did not return")
				case !sc.loopCloses && waitErr != s.err:
					t.Errorf("WaitClosed = %v, ConnectionLost got %v", waitErr, s.err)
				case sc.loopCloses && waitErr == nil:
					t.Error("WaitClosed returned nil on a loop closed under it")
				}
			})
		}
	}
}

// runThenClose runs body as a task of a loop of its own until it returns,
// and then closes the loop at once, as a program that drives its loop with
// RunUntilComplete does: callbacks still scheduled are dropped, the tasks
// left are unwound and the close hooks run.
func runThenClose(t *testing.T, body func(c *aio.Ctx) error) {
	t.Helper()
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatal(err)
	}
	l.SetErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) { t.Errorf("reported: %v", ec.String()) })
	main, err := aio.Spawn(l, func(c *aio.Ctx) (struct{}, error) {
		return struct{}{}, aio.WithTimeout(c, testTimeout, body)
	})
	if err == nil {
		_, err = aio.RunUntilComplete(l, main)
	}
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// LocalAddr and RemoteAddr stay known after the close, whether or not they
// were asked for before it: for a stream transport and a datagram endpoint
// alike.
func TestAddrsAfterClose(t *testing.T) {
	addr, _ := peer(t, echo)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	run(t, func(c *aio.Ctx) error {
		tr, _, err := transport.Connect(c, "tcp", addr, func() *recorder { return &recorder{} })
		if err != nil {
			return err
		}
		tr.Close()
		tr.WaitClosed(c)
		if tr.LocalAddr() == nil || fmt.Sprint(tr.RemoteAddr()) != addr {
			t.Errorf("stream after the close: LocalAddr %v, RemoteAddr %v (want %s)", tr.LocalAddr(), tr.RemoteAddr(), addr)
		}
		dt, _, err := transport.DialDatagram(c, "udp", pc.LocalAddr().String(), func() *udpRecorder { return &udpRecorder{} })
		if err != nil {
			return err
		}
		dt.Close()
		dt.WaitClosed(c)
		if dt.LocalAddr() == nil || fmt.Sprint(dt.RemoteAddr()) != pc.LocalAddr().String() {
			t.Errorf("datagram after the close: LocalAddr %v, RemoteAddr %v (want %v)", dt.LocalAddr(), dt.RemoteAddr(), pc.LocalAddr())
		}
		return nil
	})
}

// resumeCloser is a datagram protocol that, when told to ResumeWriting,
// sends until a datagram is queued again, and closes.
type resumeCloser struct {
	transport.BaseDatagramProtocol
	*lostProbe
	t       *transport.DatagramTransport
	sent    int // datagrams sent or queued
	resumed bool
}

func (r *resumeCloser) ConnectionMade(t *transport.DatagramTransport) { r.t = t }
func (r *resumeCloser) ConnectionLost(err error)                      { r.lostProbe.ConnectionLost(err) }
func (r *resumeCloser) PauseWriting()                                 {}
func (r *resumeCloser) ResumeWriting() {
	if r.resumed {
		return
	}
	r.resumed = true
	for i := 0; i < 1<<16 && r.t.WriteBufferSize() == 0; i++ {
		if r.t.Write(make([]byte, 1<<10)) == nil {
			r.sent++
		}
	}
	r.t.Close()
}

// A datagram endpoint closed from ResumeWriting, with datagrams queued
// again by it, sends them before it closes, as Close promises (and as a
// stream transport does): the peer receives every datagram sent.
func TestDatagramCloseInResumeWriting(t *testing.T) {
	checkFDs(t)
	run(t, func(c *aio.Ctx) error {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fds[1])
		sock, err := socketOf(fds[0])
		if err != nil {
			unix.Close(fds[0])
			return err
		}
		p := &resumeCloser{lostProbe: &lostProbe{}}
		tr, err := transport.NewDatagram(c.Loop(), sock, p, transport.WithWriteBufferLimits(4<<10, 0))
		if err != nil {
			return err
		}
		for i := 0; i < 1<<16 && tr.WriteBufferSize() <= 4<<10; i++ {
			if err := tr.Write(make([]byte, 1<<10)); err != nil {
				return err
			}
			p.sent++
		}
		// The peer reads everything until the endpoint is lost.
		s := &closeSubject{lostProbe: p.lostProbe, tr: tr, peer: fds[1]}
		got := 0
		buf := make([]byte, 4<<10)
		for {
			n, err := unix.Read(s.peer, buf)
			if err == nil && n > 0 {
				got++
				continue
			}
			if err != unix.EAGAIN {
				return err
			}
			if p.calls > 0 {
				break
			}
			if err := aio.Sleep(c, time.Millisecond); err != nil {
				return err
			}
		}
		if !p.resumed || got != p.sent || p.err != nil {
			t.Errorf("resumed %v; the peer received %d datagrams of %d; ConnectionLost(%v)", p.resumed, got, p.sent, p.err)
		}
		return nil
	})
}

// resender is a datagram protocol that, told of the error of a queued
// send, sends to to until a datagram is queued again.
type resender struct {
	transport.BaseDatagramProtocol
	t      *transport.DatagramTransport
	to     net.Addr
	resent bool
	errs   []error
}

func (r *resender) ConnectionMade(t *transport.DatagramTransport) { r.t = t }
func (r *resender) ErrorReceived(err error) {
	r.errs = append(r.errs, err)
	if r.resent {
		return
	}
	r.resent = true
	for i := 0; i < 1<<16 && r.t.WriteBufferSize() == 0; i++ {
		r.t.SendTo([]byte("again"), r.to)
	}
}

// A datagram endpoint whose queued send fails, and whose protocol sends
// again from ErrorReceived until the socket is full, takes one clock hold
// for its blocked sends and releases it when they are sent: on a virtual
// clock no hold is left once the queue is empty.
func TestDatagramResendHoldsClockOnce(t *testing.T) {
	checkFDs(t)
	dir := t.TempDir()
	aiotest.Run(t, func(c *aio.Ctx) error {
		// The receiver: a unixgram socket that reads only when told.
		rfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(rfd)
		rpath := dir + "/r"
		if err := unix.Bind(rfd, &unix.SockaddrUnix{Name: rpath}); err != nil {
			return err
		}
		to := &net.UnixAddr{Name: rpath, Net: "unixgram"}
		p := &resender{to: to}
		tr, _, err := transport.ListenDatagram(c, "unixgram", dir+"/a", func() *resender { return p })
		if err != nil {
			return err
		}
		for i := 0; i < 1<<16 && tr.WriteBufferSize() == 0; i++ {
			if err := tr.SendTo([]byte("first"), to); err != nil {
				return err
			}
		}
		// Queued behind: a send to nobody, which fails.
		if err := tr.SendTo([]byte("lost"), &net.UnixAddr{Name: dir + "/gone", Net: "unixgram"}); err != nil {
			return err
		}
		done := aio.NewFuture[struct{}](c.Loop())
		buf := make([]byte, 64)
		if err := c.Loop().AddReader(rfd, func() {
			for {
				if _, err := unix.Read(rfd, buf); err != nil {
					break
				}
			}
			if p.resent && tr.WriteBufferSize() == 0 && !done.IsDone() {
				done.SetResult(struct{}{})
			}
		}); err != nil {
			return err
		}
		defer c.Loop().RemoveReader(rfd)
		if _, err := aio.Await(c, done); err != nil {
			return err
		}
		if n := c.Loop().ClockHolds(); n != 0 {
			t.Errorf("%d clock holds left with nothing queued", n)
		}
		if len(p.errs) == 0 {
			t.Error("no ErrorReceived for the send to nobody")
		}
		tr.Close()
		return tr.WaitClosed(c)
	})
}

// The write flow rules hold for both kinds alike: new water marks apply at
// once (a mark lowered below what is queued asks for PauseWriting, one
// raised above it for ResumeWriting), and a paused protocol is told to
// ResumeWriting as soon as the queue has drained to the low-water mark,
// not only once it is empty.
func TestWriteFlowRules(t *testing.T) {
	for _, k := range closeKinds {
		t.Run(k.name, func(t *testing.T) {
			checkFDs(t)
			run(t, func(c *aio.Ctx) error {
				s, err := openPair(t, c.Loop(), k)
				if err != nil {
					return err
				}
				defer s.Abort()
				if _, err := s.fill(make([]byte, k.msg)); err != nil {
					return err
				}
				queued := s.tr.WriteBufferSize()
				if queued > transport.DefaultLowWater {
					return fmt.Errorf("%d bytes queued, above the low-water mark", queued)
				}
				s.tr.SetWriteBufferLimits(0, 0)
				s.tr.SetWriteBufferLimits(-1, -1)
				want := fmt.Sprintf("[pause at %d resume at %d]", queued, queued)
				if got := fmt.Sprint(s.flow); got != want {
					t.Errorf("SetWriteBufferLimits(0, 0), then (-1, -1): %s, want %s", got, want)
				}

				// Above the high-water mark, then read one message at a
				// time: ResumeWriting comes with bytes still queued.
				s.flow = nil
				high := 8 * k.msg
				s.tr.SetWriteBufferLimits(high, high/2)
				for i := 0; i < 1<<10 && len(s.flow) == 0; i++ {
					if err := s.Write(make([]byte, k.msg)); err != nil {
						return err
					}
				}
				buf := make([]byte, k.msg)
				for i := 0; i < 1<<12 && len(s.flow) < 2; i++ {
					if _, err := unix.Read(s.peer, buf); err != nil && err != unix.EAGAIN {
						return err
					}
					if err := aio.Sleep(c, 0); err != nil {
						return err
					}
				}
				if len(s.flow) != 2 || s.flow[1] == "resume at 0" {
					t.Errorf("reading one message at a time: %v; want a pause and a resume with bytes queued", s.flow)
				}
				return nil
			})
		})
	}
}
