// Package transport is asyncio's transports and protocols on aio's loop:
// connections driven by the loop's readiness callbacks, reported to a
// Protocol's methods, with no task per connection and no copy on the way
// in or out when it can be helped. It is the lowest-cost way to serve many
// connections on one loop; package aio/stream is the sequential, awaitable
// way (a task per connection).
//
// # API, and asyncio's names
//
//	Serve(c, network, addr, newProto)      loop.create_server, create_unix_server ("unix")
//	ServeSocket(c, ln, newProto)           create_server(sock=...)
//	Connect(c, network, addr, newProto)    loop.create_connection, create_unix_connection
//	New(l, sock, p)                        loop.connect_accepted_socket
//	NewPipe(l, f, p)                       loop.connect_read_pipe, connect_write_pipe
//	ListenDatagram(c, network, laddr, np)  loop.create_datagram_endpoint(local_addr=...)
//	DialDatagram(c, network, raddr, np)    loop.create_datagram_endpoint(remote_addr=...)
//	NewDatagram(l, sock, p)                create_datagram_endpoint(sock=...)
//	Protocol, BufferedProtocol             Protocol, BufferedProtocol
//	WriteFlowController                    pause_writing, resume_writing
//	DatagramProtocol                       DatagramProtocol
//	BaseProtocol, BaseDatagramProtocol     the base classes' empty methods
//	(*Transport).Write, Writev             write, writelines
//	(*Transport).WriteEOF, CanWriteEOF     write_eof, can_write_eof
//	(*Transport).Close, Abort, IsClosing   close, abort, is_closing
//	(*Transport).PauseReading, ...         pause_reading, resume_reading, is_reading
//	(*Transport).SetWriteBufferLimits      set_write_buffer_limits (WriteBufferLimits, WriteBufferSize)
//	(*Transport).SetProtocol, Protocol     set_protocol, get_protocol
//	(*Transport).LocalAddr, RemoteAddr     get_extra_info("sockname"), ("peername")
//	(*Transport).Socket                    get_extra_info("socket")
//	(*Transport).WaitClosed(c)             (none: await connection_lost from a task)
//	(*Server).Start, Serving               start_serving, is_serving
//	(*Server).Close, Wait(c)               close, wait_closed
//	(*Server).CloseClients, AbortClients   close_clients, abort_clients (3.13)
//	(*Server).Addr                         sockets[0].getsockname()
//	(*DatagramTransport).SendTo, Write     sendto
//
// Serve, Connect, ListenDatagram and DialDatagram are called from a task
// (they may wait: Connect resolves and dials with happy eyeballs, see
// package aio/socket); the protocol factory is generic, so that Connect
// returns the protocol with its own type. Everything else is called on
// the transport's loop, from a protocol's methods, another callback or a
// task; a call from another goroutine returns an error matching
// aio.ErrNotOnLoop.
//
// # Protocols
//
// A protocol's methods run in callbacks of the loop, never in a task: they
// must not wait, and should return soon (a protocol that needs to await
// something spawns a task). The order is ConnectionMade, DataReceived any
// number of times, EOFReceived at most once, and ConnectionLost exactly
// once, last; ConnectionLost is called soon after the close (in a callback
// of its own, as asyncio calls connection_lost), never from inside Write or
// Close.
//
// DataReceived's slice is the loop's shared read buffer (64 KiB, one per
// loop, so that idle connections cost no read buffer): it is valid until
// DataReceived returns. Writing it back with Write is fine; keeping it
// needs a copy. A BufferedProtocol gives its own buffer instead (GetBuffer,
// BufferUpdated). One read(2) is made per readiness report: a connection
// with more to read is reported again in the next iteration, after the
// other ready connections have had their turn.
//
// EOFReceived returning false (BaseProtocol's answer) closes the
// transport; true keeps it open for writing (a half-closed connection),
// until the protocol closes it.
//
// A panic in a protocol's method aborts its transport (ConnectionLost gets
// ErrProtocolPanic) and goes on to the loop, which reports it through its
// error handler and runs on: one faulty connection does not stop the
// server.
//
// # Writing and flow control
//
// Write sends at once, with one write(2) and no copy, when nothing is
// queued; what the socket does not take is copied into the transport's
// write buffer and sent as the socket drains. Write never waits. When the
// buffer grows above the high-water mark (64 KiB by default) a protocol
// that implements WriteFlowController is told to PauseWriting, and to
// ResumeWriting when it has drained to the low-water mark (16 KiB): a
// protocol that honours them keeps its memory bounded against a peer that
// reads slowly or not at all. PauseReading and ResumeReading give the
// other direction: a paused transport reads nothing, and TCP's window
// stops the peer.
//
// Close sends what is queued and then closes; Abort closes at once and
// drops it; WriteEOF shuts down the sending side after the queue (TCP's
// FIN), and reading goes on. A write to a closing or closed transport
// returns an error matching net.ErrClosed, never panics. An I/O error (a
// peer that reset, ECONNRESET or EPIPE) closes the transport and goes to
// ConnectionLost, and to the Write that found it.
//
// # Servers
//
// A Server accepts in a readiness callback, up to 128 connections per
// report, and makes a transport and a protocol for each, calling
// ConnectionMade before anything is read. When accept fails for want of
// descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) the server
// reports it through the loop's error handler, stops accepting for a
// while (5 ms, doubling up to 1 s, as Go's net/http) and starts again;
// another accept error is reported and stops the server. Close stops
// accepting; the connections go on until they end, CloseClients or
// AbortClients; Wait waits for the close and for every connection.
//
// # Datagrams
//
// A DatagramTransport takes one datagram per readiness report and gives it
// to DatagramReceived with its sender's address. SendTo sends at once, or
// queues a copy when the socket's buffer is full (the queue has the same
// water marks). Errors of receives (an ICMP port unreachable on a
// connected endpoint comes as ECONNREFUSED) and of queued sends go to
// ErrorReceived, and the endpoint stays open; an error of an immediate
// send is returned by SendTo.
//
// # Lifetimes
//
// A transport owns its descriptor: the socket passed to New or NewDatagram
// is the transport's from then on (its Socket method is for options and
// addresses only), and NewPipe works on a duplicate of the file's
// descriptor. Transports, datagram endpoints and servers still open when
// their loop closes are closed by it (ConnectionLost gets aio.ErrClosed),
// so that no descriptor outlives the loop.
//
// On a loop with a virtual clock (aio.WithVirtualClock), a transport whose
// bytes wait for the peer to read holds the clock (aio.Loop.HoldClock):
// time does not jump while a write is blocked. Reading takes no hold, since
// a connection may wait for data for ever: the clock jumps past a
// transport that waits to read, after a poll that found nothing.
//
// TLS is not offered on transports: crypto/tls has no interface for
// feeding it bytes from callbacks; use package aio/stream, whose
// connections are net.Conns that crypto/tls runs on, with StartTLS for an
// upgrade in place.
package transport
