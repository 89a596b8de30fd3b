//go:build unix

package socket

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// The Try forms make one attempt and never wait (tokio's try_read,
// try_recv_from and friends): they are for loop code that waits for
// readiness itself, in callbacks registered with Loop.AddReader and
// AddWriter (package aio/transport is built on them). When the operation
// would block they return an error matching syscall.EAGAIN. They may be
// called from the loop's callbacks as well as its tasks, and from any
// goroutine for a Socket no loop watches.

// Unwatch gives s's descriptor back to its owner for direct watching: it
// drops s's registrations with its loop (waking any task waiting in an
// operation of s, which then waits again), so that the fd can be watched
// with Loop.AddReader and AddWriter without the Socket's own waits in the
// way. An operation awaited later binds s to a loop again. Call it on s's
// loop; on a Socket no loop watches it does nothing.
func (s *Socket) Unwatch() error {
	if s == nil || s.fd < 0 {
		return errClosed("unwatch")
	}
	if s.w == nil {
		return nil
	}
	if !s.w.reg.closed {
		if err := s.w.q[dirRead].CheckLoop("socket.Unwatch"); err != nil {
			return err
		}
	}
	s.w.release()
	s.w = nil
	return nil
}

// TryAccept takes a pending connection of a listening socket, as Accept,
// or returns an error matching syscall.EAGAIN when none is pending.
func (s *Socket) TryAccept() (*Socket, error) {
	if s == nil || s.fd < 0 {
		return nil, errClosed("accept")
	}
	ns, err := s.acceptOnce()
	if err == unix.EAGAIN {
		return nil, opError("accept", err)
	}
	return ns, err
}

// TryRecvFrom reads one datagram into buf, as RecvFrom, or returns an
// error matching syscall.EAGAIN when none is queued.
func (s *Socket) TryRecvFrom(buf []byte) (int, net.Addr, error) {
	if s == nil || s.fd < 0 {
		return 0, nil, errClosed("recvfrom")
	}
	for {
		n, from, err := unix.Recvfrom(s.fd, buf, 0)
		switch err {
		case nil:
			var a net.Addr
			if from != nil {
				a = toAddr(from, s.stype)
			}
			return n, a, nil
		case unix.EINTR:
		default:
			return 0, nil, opError("recvfrom", err)
		}
	}
}

// TrySendTo sends b as one datagram to addr, as SendTo (a nil addr sends
// on a connected socket), or returns an error matching syscall.EAGAIN
// when the socket's buffer is full.
func (s *Socket) TrySendTo(b []byte, addr net.Addr) error {
	if s == nil || s.fd < 0 {
		return errClosed("sendto")
	}
	var sa unix.Sockaddr
	if addr != nil {
		var err error
		if sa, err = toSockaddr(addr, s.family); err != nil {
			return fmt.Errorf("socket: sendto: %w", err)
		}
	}
	for {
		var err error
		if sa == nil {
			_, err = unix.Write(s.fd, b)
		} else {
			err = unix.Sendto(s.fd, b, 0, sa)
		}
		switch err {
		case nil:
			return nil
		case unix.EINTR:
		default:
			return opError("sendto", err)
		}
	}
}

// Stream reports whether s is a stream socket (TCP or Unix stream), as
// opposed to a datagram socket.
func (s *Socket) Stream() bool { return s.stype == unix.SOCK_STREAM }

// Network returns the network s was made for ("tcp", "udp", "unix", ...)
// where s knows it, or "" (a Socket made by FromConn).
func (s *Socket) Network() string { return s.network }
