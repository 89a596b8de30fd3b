//go:build unix

package transport

import (
	"errors"
	"fmt"
	"os"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
	"golang.org/x/sys/unix"
)

// Connect connects to addr and returns the connection's transport and
// protocol, once the protocol's ConnectionMade has run (asyncio's
// create_connection and create_unix_connection). Over "tcp", "tcp4" and
// "tcp6" it dials with socket.Dial: a host name is resolved off the loop
// thread and the addresses are tried with happy eyeballs
// (WithDialOptions(socket.WithAttemptDelay(d)) sets the attempt delay);
// "unix" connects to a path. Put it under aio.WithTimeout to bound it.
func Connect[P Protocol](c *aio.Ctx, network, addr string, newProto func() P, opts ...Option) (*Transport, P, error) {
	var zero P
	if newProto == nil {
		return nil, zero, errors.New("transport: Connect: a nil protocol factory")
	}
	o := makeOptions(opts)
	var sock *socket.Socket
	var err error
	switch network {
	case "tcp", "tcp4", "tcp6":
		dopts := append([]socket.DialOption{socket.WithSocketOptions(o.sockOpts...)}, o.dialOpts...)
		sock, err = socket.Dial(c, network, addr, dopts...)
	default:
		sock, err = socket.Connect(c, network, addr, o.sockOpts...)
	}
	if err != nil {
		return nil, zero, err
	}
	if !sock.Stream() {
		sock.Close()
		return nil, zero, fmt.Errorf("transport: Connect: %q is not a stream network (use ListenDatagram or DialDatagram)", network)
	}
	p := newProto()
	t, err := newSocketTransport(c.Loop(), sock, p, o)
	if err != nil {
		return nil, zero, err
	}
	return t, p, nil
}

// New makes a transport of a connected stream socket (asyncio's
// connect_accepted_socket: a socket from socket.FromConn, FromFile or
// Accept), calls p's ConnectionMade and starts reading. The transport
// owns sock from now on. It must be called on l, sock's loop if it has
// one. On an error sock is closed.
func New(l *aio.Loop, sock *socket.Socket, p Protocol, opts ...Option) (*Transport, error) {
	if sock == nil || p == nil {
		return nil, errors.New("transport: New: a nil socket or protocol")
	}
	if !sock.Stream() {
		sock.Close()
		return nil, errors.New("transport: New: a datagram socket (use NewDatagram)")
	}
	return newSocketTransport(l, sock, p, makeOptions(opts))
}

func newSocketTransport(l *aio.Loop, sock *socket.Socket, p Protocol, o options) (*Transport, error) {
	fail := func(err error) (*Transport, error) {
		sock.Close()
		return nil, err
	}
	if l == nil {
		return fail(errors.New("transport: a nil loop"))
	}
	st, err := stateOf(l)
	if err != nil {
		return fail(err)
	}
	if err := sock.Unwatch(); err != nil {
		return fail(err)
	}
	t, err := newTransport(st, sock, sock.Fd(), true, true, p, o, nil)
	if err != nil {
		return fail(err)
	}
	return t, nil
}

// NewPipe makes a transport of a pipe, a FIFO or a character device given
// as an *os.File (asyncio's connect_read_pipe and connect_write_pipe in
// one; a stream socket's file is passed to New): it works on a duplicate of f's descriptor,
// made non-blocking, so f stays the caller's to close. A read-only file
// reads (Write returns ErrNotSupported; at its end the transport closes);
// a write-only one writes (WriteEOF closes it; when its reader goes away
// the transport is lost with an error matching syscall.EPIPE if bytes
// were queued, nil otherwise); a read-write one does both. A regular file
// is refused (the poller cannot watch it). Call it on l.
func NewPipe(l *aio.Loop, f *os.File, p Protocol, opts ...Option) (*Transport, error) {
	if l == nil || f == nil || p == nil {
		return nil, errors.New("transport: NewPipe: a nil loop, file or protocol")
	}
	st, err := stateOf(l)
	if err != nil {
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, opError("NewPipe", err)
	}
	fd := -1
	var derr error
	if err := rc.Control(func(ofd uintptr) {
		fd, derr = unix.FcntlInt(ofd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, opError("NewPipe", err)
	}
	if derr != nil {
		return nil, opError("NewPipe: dup", derr)
	}
	fail := func(op string, err error) (*Transport, error) {
		unix.Close(fd)
		return nil, opError(op, err)
	}
	var stat unix.Stat_t
	if err := unix.Fstat(fd, &stat); err != nil {
		return fail("NewPipe: fstat", err)
	}
	switch stat.Mode & unix.S_IFMT {
	case unix.S_IFIFO, unix.S_IFCHR:
	case unix.S_IFSOCK:
		unix.Close(fd)
		sock, err := socket.FromFile(f)
		if err != nil {
			return nil, err
		}
		return New(l, sock, p, opts...)
	default:
		return fail("NewPipe", fmt.Errorf("%s is not a pipe, FIFO, socket or character device", f.Name()))
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return fail("NewPipe: fcntl", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return fail("NewPipe: set non-blocking", err)
	}
	acc := fl & unix.O_ACCMODE
	t, err := newTransport(st, nil, fd, acc != unix.O_WRONLY, acc != unix.O_RDONLY, p, makeOptions(opts), nil)
	if err != nil {
		return fail("NewPipe", err)
	}
	return t, nil
}
