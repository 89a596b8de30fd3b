// Package socket is the first piece of aio's networking layer:
// non-blocking sockets whose operations are awaited from tasks, and
// awaitable readiness of any file descriptor. It is asyncio's loop.sock_*
// family on aio's loop.
//
// # Readiness
//
// WaitReadable and WaitWritable suspend a task until an fd is readable or
// writable: they are Loop.AddReader and Loop.AddWriter as awaitables. A
// loop has one fd watcher per fd, which multiplexes one AddReader and one
// AddWriter registration over every task waiting on it: the first wait
// registers, a readiness report wakes all waiters of that side (they read
// or write until EAGAIN and wait again), and the registration is removed
// when nobody waits any more. Readiness is level-triggered and only a hint.
// A task cancelled while it waits returns the cancellation and leaves the
// registration consistent (removed if it was the last waiter; the wake a
// cancelled waiter got passes to the others). Do not use Loop.AddReader or
// AddWriter directly on an fd tasks wait on, and close an fd only when no
// task waits on it.
//
// # Sockets
//
// A Socket is a non-blocking, close-on-exec socket made with
// golang.org/x/sys/unix:
//
//   - Listen(c, network, addr, opts...) for "tcp", "tcp4", "tcp6" and
//     "unix" (SO_REUSEADDR on TCP; WithReusePort, WithBacklog), then
//     Accept (asyncio's sock_accept; accept4(2) on Linux);
//   - Connect(c, network, addr, opts...) for those and "udp", "udp4",
//     "udp6", "unixgram" (asyncio's sock_connect on a new socket):
//     non-blocking connect(2), a wait until writable, then SO_ERROR;
//     bound it with aio.WithTimeout;
//   - ListenPacket(c, network, addr, opts...) for "udp", "udp4", "udp6"
//     and "unixgram": a bound datagram socket;
//   - FromConn, FromListener, FromFile: a Socket on a duplicate of the
//     descriptor of a net.Conn, net.Listener, net.PacketConn or *os.File
//     (asyncio's connect_accepted_socket, and sock_* on a socket made
//     elsewhere).
//
// Addresses are numeric ("127.0.0.1:8080", "[::1]:0", ":0", a path for
// Unix sockets; a path beginning with '@' is in Linux's abstract
// namespace), except for Dial, which resolves a host name off the loop
// thread (through package aio/executor) and connects with happy eyeballs
// (RFC 8305): the families interleaved, a new attempt every
// DefaultAttemptDelay (250 ms, WithAttemptDelay) or at once when one
// fails, the first connection winning and the others closed, and every
// attempt's error joined when all fail.
// TCP_NODELAY is on by default on TCP sockets, as in asyncio
// (WithNoDelay(false) turns it off). An empty host is 0.0.0.0 for "tcp" and
// "udp", :: for "tcp6" and "udp6"; "tcp6" and "udp6" sockets are IPv6-only.
//
// The operations, and asyncio's names for them:
//
//	Recv(c, n)                loop.sock_recv
//	RecvInto(c, buf)          loop.sock_recv_into
//	RecvFrom(c, buf)          loop.sock_recvfrom_into (and sock_recvfrom)
//	Send(c, b)                one send(2) (asyncio has no sock_send)
//	SendAll(c, b)             loop.sock_sendall
//	SendTo(c, b, addr)        loop.sock_sendto
//	Accept(c)                 loop.sock_accept
//	Connect(c, network, addr) loop.sock_connect
//	SendFile(c, f, off, n)    loop.sock_sendfile (sendfile(2) on Linux, a
//	                          copy with ReadAt and SendAll elsewhere)
//	ShutdownWrite()           shutdown(SHUT_WR): the peer reads EOF
//	Close()                   close; unlinks a Unix listener's file
//	LocalAddr, RemoteAddr     *net.TCPAddr, *net.UDPAddr, *net.UnixAddr
//
// Each tries the system call first and parks the task only on EAGAIN, so
// an operation that can complete at once costs one system call and no
// wait. A Socket belongs to the loop of its first operation (Listen,
// ListenPacket and Connect bind it to the caller's loop; a Socket from
// FromConn is bound by its first operation), and its methods must be
// called from tasks of that loop. Several tasks may wait on one Socket:
// a readiness report wakes every waiter of that side, each retries its
// system call, and the ones that find EAGAIN wait again.
//
// # Cancellation
//
// Every wait is cancellable (Task.Cancel, a Scope, aio.WithTimeout). A
// cancelled Recv, RecvInto, RecvFrom or Accept has taken nothing: the data,
// datagram or connection stays in the kernel for the next call. A cancelled
// Send or SendTo has sent nothing. A cancelled SendAll or SendFile returns
// the number of bytes sent before the cancellation with the cancellation
// error, so the caller knows where the stream stands. A cancelled Connect
// closes its socket.
//
// # Virtual clock
//
// On a loop with a virtual clock (aio.WithVirtualClock, package
// aio/aiotest) a task waiting in an operation of a Socket (Accept
// excepted) or in WaitReadable or WaitWritable holds the clock
// (aio.Loop.HoldClock): time does not jump while an answer from outside
// the loop may be on its way. A server that waits for connections does not
// hold it. A test whose connections sit idle while virtual time should pass
// sets a hold limit (Loop.SetClockHoldLimit, aiotest.HoldLimit).
//
// # Errors
//
// System errors are wrapped with the operation's name and keep their errno
// for errors.Is: syscall.ECONNREFUSED from Connect, syscall.ECONNRESET or
// syscall.EPIPE from a peer that reset the connection, syscall.EADDRINUSE
// from Listen. Operations on a closed Socket, and operations waiting when
// it is closed, return an error matching net.ErrClosed. The end of a stream
// is io.EOF from Recv and RecvInto (asyncio returns b""). A bad network
// name matches ErrNetwork; an address that does not parse (a host name, a
// port out of range, an address of the other family) matches ErrAddress.
// A write to a reset peer never raises SIGPIPE: the Go runtime turns it
// into EPIPE for descriptors other than 1 and 2.
package socket
