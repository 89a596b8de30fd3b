//go:build unix

package socket

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/aiogo/aio/aio"
	"golang.org/x/sys/unix"
)

// A Socket is a non-blocking socket whose operations are awaited from the
// tasks of one loop (the loop of its first wait; see the package doc). A
// waiting operation parks the task, never the loop. A Socket's methods must
// be called from tasks of that loop (Close and ShutdownWrite on that loop
// too, once it has waited).
type Socket struct {
	fd      int // -1 once closed
	family  int
	stype   int
	network string
	w       *watcher // the fd's watcher on its loop, from the first wait
	unlink  string   // the Unix socket file a listener bound: removed by Close
	nodelay bool     // set TCP_NODELAY on accepted sockets
	// drained notes that the last RecvInto of a stream socket read less
	// than its buffer's room: the socket was empty then, so the next one
	// waits for readiness before reading instead of making a read(2) that
	// would most likely find EAGAIN (level-triggered readiness reports
	// data that came meanwhile, so nothing waits for nothing).
	drained bool
	untrack func() // ends the loop's debug-mode tracking (aio.Loop.TrackResource), from the first attach
}

// An Option sets up a socket made by Listen, ListenPacket or Connect.
type Option func(*options)

type options struct {
	reusePort bool
	noDelay   bool
	backlog   int
}

func makeOptions(opts []Option) options {
	o := options{noDelay: true, backlog: 128}
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// WithReusePort sets SO_REUSEPORT on a listening or bound socket, so that
// several sockets (of several loops, typically) can bind the same address
// and share its connections or datagrams.
func WithReusePort() Option { return func(o *options) { o.reusePort = true } }

// WithNoDelay sets TCP_NODELAY (on by default, as in asyncio) on TCP
// sockets made by Connect and accepted from a Listen socket; false leaves
// Nagle's algorithm on.
func WithNoDelay(on bool) Option { return func(o *options) { o.noDelay = on } }

// WithBacklog sets the listen backlog of Listen (default 128). A value < 1
// is 1.
func WithBacklog(n int) Option {
	return func(o *options) { o.backlog = max(n, 1) }
}

// opError wraps a system error of op, keeping its errno for errors.Is.
func opError(op string, err error) error {
	return fmt.Errorf("socket: %s: %w", op, err)
}

// errClosed is the error of an operation on a closed Socket.
func errClosed(op string) error {
	return fmt.Errorf("socket: %s: %w", op, net.ErrClosed)
}

// open makes a non-blocking, close-on-exec socket.
func open(family, stype int) (*Socket, error) {
	fd, err := sysSocket(family, stype)
	if err != nil {
		return nil, opError("socket", err)
	}
	return &Socket{fd: fd, family: family, stype: stype}, nil
}

// Listen makes a listening stream socket (asyncio's create_server socket
// set-up) on a numeric address: "tcp", "tcp4", "tcp6" with "ip:port"
// ("127.0.0.1:0", "[::1]:8080", ":80" for every IPv4 address, port 0 for
// one the system picks), or "unix" with a path. SO_REUSEADDR is set on TCP
// listeners; WithReusePort, WithBacklog and WithNoDelay (for the accepted
// sockets) apply. A Unix listener removes its socket file when closed.
func Listen(c *aio.Ctx, network, addr string, opts ...Option) (*Socket, error) {
	k, err := parseNetwork("Listen", network, true)
	if err != nil {
		return nil, err
	}
	o := makeOptions(opts)
	s, err := bindNew("Listen", k, addr, o)
	if err != nil {
		return nil, err
	}
	if err := unix.Listen(s.fd, o.backlog); err != nil {
		s.Close()
		return nil, opError("listen "+addr, err)
	}
	s.nodelay = o.noDelay
	if err := s.attach(c); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// ListenPacket makes a bound datagram socket: "udp", "udp4", "udp6" with
// "ip:port", or "unixgram" with a path (removed when the socket is closed).
// WithReusePort applies.
func ListenPacket(c *aio.Ctx, network, addr string, opts ...Option) (*Socket, error) {
	k, err := parseNetwork("ListenPacket", network, false)
	if err != nil {
		return nil, err
	}
	s, err := bindNew("ListenPacket", k, addr, makeOptions(opts))
	if err != nil {
		return nil, err
	}
	if err := s.attach(c); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// bindNew makes a socket of kind k and binds it to addr.
func bindNew(fn string, k kind, addr string, o options) (*Socket, error) {
	sa, err := resolve(fn, &k, addr)
	if err != nil {
		return nil, err
	}
	s, err := open(k.family, k.stype)
	if err != nil {
		return nil, err
	}
	s.network = k.network
	fail := func(op string, err error) (*Socket, error) {
		s.Close()
		return nil, opError(op, err)
	}
	if k.family != unix.AF_UNIX {
		if k.stype == unix.SOCK_STREAM {
			if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
				return fail("setsockopt SO_REUSEADDR", err)
			}
		}
		if o.reusePort {
			if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
				return fail("setsockopt SO_REUSEPORT", err)
			}
		}
		if k.family == unix.AF_INET6 && strings.HasSuffix(k.network, "6") {
			unix.SetsockoptInt(s.fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
		}
	}
	if err := unix.Bind(s.fd, sa); err != nil {
		return fail("bind "+addr, err)
	}
	if k.family == unix.AF_UNIX && addr[0] != '@' && addr[0] != 0 {
		s.unlink = addr
	}
	return s, nil
}

// Connect makes a socket and connects it to a numeric address (asyncio's
// sock_connect on a new socket): "tcp", "tcp4", "tcp6" or "udp", "udp4",
// "udp6" with "ip:port", "unix" or "unixgram" with a path. A TCP connect is
// non-blocking: the task waits until the socket is writable and reads the
// outcome from SO_ERROR. Put it under aio.WithTimeout to bound it: a
// cancelled or timed-out Connect closes the socket and returns the
// cancellation. A refused connection returns an error matching
// syscall.ECONNREFUSED. A Unix connect to a listener whose backlog is full
// fails at once with an error matching syscall.EAGAIN on Linux.
// WithNoDelay applies.
func Connect(c *aio.Ctx, network, addr string, opts ...Option) (*Socket, error) {
	k, err := parseNetwork("Connect", network, true)
	if err != nil {
		if k, err = parseNetwork("Connect", network, false); err != nil {
			return nil, fmt.Errorf("%w: Connect(%q)", ErrNetwork, network)
		}
	}
	sa, err := resolve("Connect", &k, addr)
	if err != nil {
		return nil, err
	}
	o := makeOptions(opts)
	s, err := open(k.family, k.stype)
	if err != nil {
		return nil, err
	}
	s.network = k.network
	if err := s.attach(c); err != nil {
		s.Close()
		return nil, err
	}
	if k.family != unix.AF_UNIX && k.stype == unix.SOCK_STREAM && o.noDelay {
		unix.SetsockoptInt(s.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if err := s.connect(c, sa); err != nil {
		s.Close()
		return nil, fmt.Errorf("socket: connect %s %s: %w", network, addr, err)
	}
	return s, nil
}

// connect is asyncio's sock_connect on s.
func (s *Socket) connect(c *aio.Ctx, sa unix.Sockaddr) error {
	for {
		err := unix.Connect(s.fd, sa)
		switch err {
		case nil, unix.EISCONN:
			return nil
		case unix.EINTR:
			continue
		case unix.EINPROGRESS, unix.EALREADY:
		default:
			return err
		}
		break
	}
	for {
		if err := s.w.wait(c, dirWrite); err != nil {
			return err
		}
		if s.fd < 0 {
			return net.ErrClosed
		}
		e, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return err
		}
		switch syscall.Errno(e) {
		case 0, unix.EISCONN:
			return nil
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			continue // spurious
		default:
			return syscall.Errno(e)
		}
	}
}

// attach binds s to c's loop: its fd's watcher, kept until Close.
func (s *Socket) attach(c *aio.Ctx) error {
	var probe aio.WaitQueue // checks c, binding nothing of s
	if err := probe.CheckTask(c); err != nil {
		return err
	}
	if s.w != nil {
		if c.Loop() != s.w.reg.loop {
			return fmt.Errorf("socket: %w: a Socket of one loop used from another", aio.ErrInvalidState)
		}
		return nil
	}
	w, err := watcherFor(c, s.fd)
	if err != nil {
		return err
	}
	w.sticky++
	s.w = w
	if s.untrack == nil {
		s.untrack = c.Loop().TrackResource("socket", s.describe)
	}
	return nil
}

// describe names s for the reports of a loop's debug mode.
func (s *Socket) describe() string { return fmt.Sprintf("%s fd %d", s.network, s.fd) }

// ready checks an operation's call: s open, c a task of s's loop.
func (s *Socket) ready(c *aio.Ctx, op string) error {
	if s == nil || s.fd < 0 {
		return errClosed(op)
	}
	return s.attach(c)
}

// Fd returns the socket's descriptor (-1 once closed). It stays the
// Socket's: do not close it, and do not watch it with Loop.AddReader while
// the Socket may wait on it.
func (s *Socket) Fd() int { return s.fd }

// Accept waits for a connection on a listening socket and returns it, a
// non-blocking, close-on-exec Socket (asyncio's sock_accept; the peer's
// address is its RemoteAddr). A cancelled Accept takes no connection: the
// next Accept returns it.
func (s *Socket) Accept(c *aio.Ctx) (*Socket, error) {
	if err := s.ready(c, "accept"); err != nil {
		return nil, err
	}
	for {
		ns, err := s.acceptOnce()
		if err != unix.EAGAIN {
			return ns, err
		}
		if err := s.wait(c, dirRead, "accept"); err != nil {
			return nil, err
		}
	}
}

// acceptOnce takes a pending connection, retrying what is not a failure
// of the listener (EINTR, and a connection aborted before it was taken),
// and returns unix.EAGAIN itself, unwrapped, when none is pending.
func (s *Socket) acceptOnce() (*Socket, error) {
	for {
		fd, err := sysAccept(s.fd)
		switch err {
		case nil:
			ns := &Socket{fd: fd, family: s.family, stype: s.stype, network: s.network}
			if s.nodelay && s.family != unix.AF_UNIX {
				unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
			}
			return ns, nil
		case unix.EINTR, unix.ECONNABORTED:
		case unix.EAGAIN:
			return nil, err
		default:
			return nil, opError("accept", err)
		}
	}
}

// wait parks the task until s is ready for dir, and reports net.ErrClosed
// if s was closed meanwhile. On a virtual clock the wait holds the clock
// (the peer is outside the loop, and its answer is on its way): an accept
// does not, since a server waits for connections for ever.
func (s *Socket) wait(c *aio.Ctx, dir int, op string) error {
	release := noHold
	if op != "accept" {
		release = c.Loop().HoldClock()
	}
	err := s.w.wait(c, dir)
	release()
	if err != nil {
		return err
	}
	if s.fd < 0 {
		return errClosed(op)
	}
	return nil
}

// RecvInto reads into buf (asyncio's sock_recv_into), waiting until data
// is there, and returns the number of bytes read. At the end of a stream
// (the peer shut down its side) it returns 0, io.EOF; a datagram socket
// returns each datagram, which may be empty. A cancelled RecvInto reads
// nothing: the data stays in the socket for the next call.
func (s *Socket) RecvInto(c *aio.Ctx, buf []byte) (int, error) {
	if err := s.ready(c, "recv"); err != nil {
		return 0, err
	}
	if len(buf) == 0 && s.stype == unix.SOCK_STREAM {
		return 0, nil
	}
	if s.drained {
		s.drained = false
		if err := s.wait(c, dirRead, "recv"); err != nil {
			return 0, err
		}
	}
	for {
		n, err := unix.Read(s.fd, buf)
		switch err {
		case nil:
			if s.stype == unix.SOCK_STREAM {
				if n == 0 {
					return 0, io.EOF
				}
				s.drained = n < len(buf)
			}
			return n, nil
		case unix.EINTR:
		case unix.EAGAIN:
			if err := s.wait(c, dirRead, "recv"); err != nil {
				return 0, err
			}
		default:
			return 0, opError("recv", err)
		}
	}
}

// Recv reads up to n bytes (asyncio's sock_recv) into a new slice, as
// RecvInto. At the end of a stream it returns nil, io.EOF.
func (s *Socket) Recv(c *aio.Ctx, n int) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("socket: recv: negative size %d", n)
	}
	buf := make([]byte, n)
	m, err := s.RecvInto(c, buf)
	if err != nil {
		return nil, err
	}
	return buf[:m], nil
}

// RecvFrom reads a datagram into buf (asyncio's sock_recvfrom, in the
// recvfrom_into form), waiting until one is there, and returns its length
// and its sender's address (a *net.UDPAddr, or a *net.UnixAddr; nil for an
// unbound Unix sender). A datagram longer than buf is truncated to it. A
// cancelled RecvFrom takes no datagram.
func (s *Socket) RecvFrom(c *aio.Ctx, buf []byte) (int, net.Addr, error) {
	if err := s.ready(c, "recvfrom"); err != nil {
		return 0, nil, err
	}
	for {
		n, from, err := unix.Recvfrom(s.fd, buf, 0)
		switch err {
		case nil:
			if n == 0 && s.stype == unix.SOCK_STREAM && len(buf) > 0 {
				return 0, nil, io.EOF
			}
			var a net.Addr
			if from != nil {
				a = toAddr(from, s.stype)
			}
			return n, a, nil
		case unix.EINTR:
		case unix.EAGAIN:
			if err := s.wait(c, dirRead, "recvfrom"); err != nil {
				return 0, nil, err
			}
		default:
			return 0, nil, opError("recvfrom", err)
		}
	}
}

// Send writes some of b (asyncio's sock_send, which asyncio lacks: one
// successful send(2)), waiting until the socket takes at least one byte,
// and returns how many it took. A cancelled Send sends nothing.
func (s *Socket) Send(c *aio.Ctx, b []byte) (int, error) {
	if err := s.ready(c, "send"); err != nil {
		return 0, err
	}
	for {
		n, err := unix.Write(s.fd, b)
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
		case unix.EAGAIN:
			if err := s.wait(c, dirWrite, "send"); err != nil {
				return 0, err
			}
		default:
			return 0, opError("send", err)
		}
	}
}

// SendAll writes all of b (asyncio's sock_sendall), waiting while the
// socket's buffer is full, and returns the number of bytes sent: len(b)
// with a nil error, or what was sent before an error or a cancellation. A
// peer that reset the connection gives an error matching
// syscall.ECONNRESET or syscall.EPIPE.
func (s *Socket) SendAll(c *aio.Ctx, b []byte) (int, error) {
	if err := s.ready(c, "sendall"); err != nil {
		return 0, err
	}
	sent := 0
	for sent < len(b) || (len(b) == 0 && sent == 0 && s.stype != unix.SOCK_STREAM) {
		n, err := unix.Write(s.fd, b[sent:])
		switch err {
		case nil:
			sent += n
			if len(b) == 0 {
				return 0, nil
			}
		case unix.EINTR:
		case unix.EAGAIN:
			if err := s.wait(c, dirWrite, "sendall"); err != nil {
				return sent, err
			}
		default:
			return sent, opError("sendall", err)
		}
	}
	return sent, nil
}

// SendTo sends b as one datagram to addr (asyncio's sock_sendto), waiting
// while the socket's buffer is full, and returns len(b). addr is a
// *net.UDPAddr (or *net.TCPAddr) of the socket's family, or a
// *net.UnixAddr for a unixgram socket. A cancelled SendTo sends nothing.
func (s *Socket) SendTo(c *aio.Ctx, b []byte, addr net.Addr) (int, error) {
	if err := s.ready(c, "sendto"); err != nil {
		return 0, err
	}
	sa, err := toSockaddr(addr, s.family)
	if err != nil {
		return 0, fmt.Errorf("socket: sendto: %w", err)
	}
	for {
		err := unix.Sendto(s.fd, b, 0, sa)
		switch err {
		case nil:
			return len(b), nil
		case unix.EINTR:
		case unix.EAGAIN:
			if err := s.wait(c, dirWrite, "sendto"); err != nil {
				return 0, err
			}
		default:
			return 0, opError("sendto", err)
		}
	}
}

// SendFile sends count bytes of f from offset (count 0: to the end of the
// file) on a stream socket (asyncio's sock_sendfile), with sendfile(2) on
// Linux (no copy through user space), and with reads and SendAll elsewhere
// or for a file that sendfile(2) refuses. f's own offset is neither used
// nor moved. It returns the bytes sent: count (or the rest of the file)
// with a nil error, or what was sent before an error or a cancellation.
func (s *Socket) SendFile(c *aio.Ctx, f *os.File, offset, count int64) (int64, error) {
	if err := s.ready(c, "sendfile"); err != nil {
		return 0, err
	}
	if f == nil {
		return 0, fmt.Errorf("socket: sendfile: a nil *os.File")
	}
	if offset < 0 || count < 0 {
		return 0, fmt.Errorf("socket: sendfile: negative offset %d or count %d", offset, count)
	}
	if count == 0 {
		st, err := f.Stat()
		if err != nil {
			return 0, opError("sendfile", err)
		}
		count = st.Size() - offset
		if count <= 0 {
			return 0, nil
		}
	}
	sent, handled, err := int64(0), false, error(nil)
	if !forceCopy {
		sent, handled, err = s.sendfile(c, f, offset, count)
	}
	if handled {
		return sent, err
	}
	return s.copyFile(c, f, offset+sent, count-sent, sent)
}

// forceCopy makes SendFile copy even where sendfile(2) works (for tests).
var forceCopy bool

// copyFile is SendFile's fallback: ReadAt and SendAll.
func (s *Socket) copyFile(c *aio.Ctx, f *os.File, offset, count, sent int64) (int64, error) {
	buf := make([]byte, min(count, 256<<10))
	for count > 0 {
		n, rerr := f.ReadAt(buf[:min(count, int64(len(buf)))], offset)
		if n > 0 {
			m, err := s.SendAll(c, buf[:n])
			sent += int64(m)
			if err != nil {
				return sent, err
			}
			offset += int64(n)
			count -= int64(n)
		}
		if rerr == io.EOF {
			return sent, nil
		}
		if rerr != nil {
			return sent, opError("sendfile: read", rerr)
		}
	}
	return sent, nil
}

// ShutdownWrite shuts down the sending side of a stream socket (asyncio's
// write_eof): the peer reads the end of the stream; receiving goes on.
func (s *Socket) ShutdownWrite() error {
	if s == nil || s.fd < 0 {
		return errClosed("shutdown")
	}
	if err := unix.Shutdown(s.fd, unix.SHUT_WR); err != nil {
		return opError("shutdown", err)
	}
	return nil
}

// Close closes the socket. Tasks waiting in its operations return an error
// matching net.ErrClosed, as do later operations. A Unix listener or bound
// datagram socket removes its socket file. Closing again returns an error
// matching net.ErrClosed. Once the Socket is bound to a loop, Close must be
// called on that loop (from a task or a callback of it; elsewhere it
// returns an error matching aio.ErrNotOnLoop and the socket stays open),
// or after the loop has closed, from any goroutine: a loop's close does not
// close its Sockets.
func (s *Socket) Close() error {
	if s == nil || s.fd < 0 {
		return errClosed("close")
	}
	if s.w != nil {
		if !s.w.reg.closed {
			if err := s.w.q[dirRead].CheckLoop("socket.Close"); err != nil {
				return err
			}
		}
		s.w.release()
		s.w = nil
	}
	if s.untrack != nil {
		s.untrack()
	}
	err := unix.Close(s.fd)
	s.fd = -1
	if s.unlink != "" {
		os.Remove(s.unlink)
		s.unlink = ""
	}
	if err != nil {
		return opError("close", err)
	}
	return nil
}

// LocalAddr returns the socket's own address: a *net.TCPAddr, *net.UDPAddr
// or *net.UnixAddr; nil if closed.
func (s *Socket) LocalAddr() net.Addr {
	if s == nil || s.fd < 0 {
		return nil
	}
	sa, err := unix.Getsockname(s.fd)
	if err != nil {
		return nil
	}
	return toAddr(sa, s.stype)
}

// RemoteAddr returns the connected peer's address, or nil (not connected,
// or closed).
func (s *Socket) RemoteAddr() net.Addr {
	if s == nil || s.fd < 0 {
		return nil
	}
	sa, err := unix.Getpeername(s.fd)
	if err != nil {
		return nil
	}
	return toAddr(sa, s.stype)
}

// FromConn returns a Socket on a duplicate of the descriptor of conn (a
// *net.TCPConn, *net.UnixConn, *net.UDPConn, *net.TCPListener, an
// *os.File of a socket: anything with SyscallConn), non-blocking and
// close-on-exec (asyncio's connect_accepted_socket, and sock_* on an
// existing socket). The Socket and conn are independent: close both (the
// connection stays open until both are closed).
func FromConn(conn syscall.Conn) (*Socket, error) {
	if conn == nil {
		return nil, errors.New("socket: FromConn: a nil connection")
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, opError("FromConn", err)
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, opError("FromConn", err)
	}
	if derr != nil {
		return nil, opError("FromConn: dup", derr)
	}
	return fromFD(nfd)
}

// FromListener is FromConn for a listener (*net.TCPListener,
// *net.UnixListener): accept on the Socket with Accept. A Unix listener's
// file stays the listener's to remove.
func FromListener(l net.Listener) (*Socket, error) {
	sc, ok := l.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("socket: FromListener: a %T has no descriptor (no SyscallConn)", l)
	}
	return FromConn(sc)
}

// FromFile is FromConn for an *os.File of a socket (it fails with an
// error matching syscall.ENOTSOCK for another file).
func FromFile(f *os.File) (*Socket, error) {
	if f == nil {
		return nil, errors.New("socket: FromFile: a nil *os.File")
	}
	return FromConn(f)
}

// fromFD makes a Socket of a descriptor of its own: non-blocking, of the
// type and family the system reports.
func fromFD(fd int) (*Socket, error) {
	fail := func(op string, err error) (*Socket, error) {
		unix.Close(fd)
		return nil, opError(op, err)
	}
	stype, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return fail("FromConn: not a socket", err)
	}
	if stype != unix.SOCK_STREAM && stype != unix.SOCK_DGRAM {
		return fail("FromConn", fmt.Errorf("socket type %d is not supported (stream or datagram only)", stype))
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return fail("FromConn: getsockname", err)
	}
	s := &Socket{fd: fd, stype: stype}
	switch sa.(type) {
	case *unix.SockaddrInet4:
		s.family = unix.AF_INET
	case *unix.SockaddrInet6:
		s.family = unix.AF_INET6
	case *unix.SockaddrUnix:
		s.family = unix.AF_UNIX
	default:
		return fail("FromConn", fmt.Errorf("address family %T is not supported", sa))
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return fail("FromConn: set non-blocking", err)
	}
	return s, nil
}
