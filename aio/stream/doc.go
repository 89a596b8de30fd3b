// Package stream is asyncio's streams on aio's loop: buffered, awaitable
// reading and writing of a connection, on top of package aio/socket.
//
// # API, and asyncio's names
//
//	Open(c, network, addr)          asyncio.open_connection, open_unix_connection ("unix")
//	Serve(c, network, addr, h)      asyncio.start_server, start_unix_server ("unix")
//	New(sock)                       a Stream on a connected *socket.Socket
//	(*Stream).Read(c, n)            StreamReader.read(n); n < 0 reads to the end
//	(*Stream).ReadInto(c, p)        read into p (what Conn's Read is)
//	(*Stream).ReadExactly(c, n)     StreamReader.readexactly: *IncompleteReadError
//	(*Stream).ReadLine(c)           StreamReader.readline
//	(*Stream).ReadUntil(c, seps...) StreamReader.readuntil, several separators (3.13)
//	(*Stream).AtEOF()               StreamReader.at_eof
//	(*Stream).Write(c, b)           StreamWriter.write
//	(*Stream).Drain(c)              StreamWriter.drain
//	(*Stream).WriteEOF()            StreamWriter.write_eof
//	(*Stream).Close()               StreamWriter.close
//	(*Stream).Abort()               StreamWriter.transport.abort
//	(*Stream).IsClosing()           StreamWriter.is_closing
//	(*Stream).WaitClosed(c)         StreamWriter.wait_closed
//	(*Stream).Conn(c)               a net.Conn bound to the task c
//	(*Stream).GoConn(l)             a net.Conn for plain goroutines
//	(*Stream).StartTLS(c, cfg)      StreamWriter.start_tls: upgrade in place, a *tls.Conn
//	(*Stream).StartTLSServer(c,cfg) loop.start_tls(server_side=True)
//	OpenTLS(c, network, addr, cfg)  asyncio.open_connection(ssl=...)
//	Dialer(l)                       a DialContext hook (net/http's Transport)
//	(*Server).Close()               Server.close: stop accepting
//	(*Server).CloseClients()        Server.close_clients (3.13): cancel the handlers
//	(*Server).Wait(c)               Server.wait_closed
//	WithLimit(n)                    the limit argument (64 KiB by default)
//	WithWriteBufferLimits(hi, lo)   transport.set_write_buffer_limits
//
// A Stream belongs to the loop it was made on; its methods must be called
// from tasks of that loop (Close, Abort and WriteEOF also from its
// callbacks). Read, ReadInto, ReadExactly, ReadLine and ReadUntil are for
// one task at a time: a read while another task waits in one returns
// ErrConcurrentRead (asyncio raises RuntimeError). Writes and drains may
// come from several tasks.
//
// # Reading
//
// Received bytes go into a read buffer, filled by one RecvInto of at least
// 16 KiB of room when the buffer does not hold what a read needs. ReadUntil
// returns the shortest chunk of the stream that ends with one of its
// separators. Its limit bounds the chunk, separator included: if no chunk
// of at most the limit ends with a separator (one was found further on, or
// the buffer holds the limit's worth without one) it returns a
// *LimitOverrunError (errors.Is ErrLimitOverrun) and leaves the data in the
// buffer, so the stream stays usable: skip with Read or ReadExactly, or
// read on as the protocol needs. ReadLine is ReadUntil("\n"), and keeps an
// over-long line in the buffer too (asyncio's readline discards it). At
// the end of the stream, ReadExactly and ReadUntil return an
// *IncompleteReadError whose Partial holds the rest (consumed; it matches
// io.ErrUnexpectedEOF, and io.EOF when empty); ReadLine returns the rest
// as its last line, then io.EOF; Read returns nil, io.EOF.
//
// # Writing and flow control
//
// Write is buffered, as asyncio's: it sends at once what the socket takes
// without waiting (one non-blocking send(2) when nothing is queued), and
// appends the rest to the write buffer, which a flusher task of the loop
// sends as the socket becomes writable. Write never waits; Drain is the
// flow control: if more than the high-water mark (64 KiB) is buffered, it
// waits until at most the low-water mark (16 KiB) is. Several tasks may
// drain at once: the flusher wakes all drainers whenever the buffer falls
// to the low-water mark, and on an error, so none is left waiting (asyncio's
// gh-74116). A send error (a peer reset: syscall.ECONNRESET or
// syscall.EPIPE) is kept and returned by later writes and drains. WriteEOF
// shuts down the sending side once the buffer is sent. Close closes the
// socket once the buffer is sent (or the flusher fails); WaitClosed waits
// for that; Abort closes at once and drops what is unsent. After Close or
// WriteEOF, Write returns an error matching net.ErrClosed; reads after
// Close, and reads waiting when the socket closes, return one too.
//
// # net.Conn, io.Reader, io.Writer
//
// Stream.Conn(c) is a net.Conn for code of the task c: bufio,
// encoding/json, net/textproto and crypto/tls work over it on the loop
// unchanged, since a blocking Read or Write suspends the task, not the
// loop. Its Write buffers and then waits until at most the low-water mark
// is buffered. Deadlines (SetDeadline, SetReadDeadline,
// SetWriteDeadline) run the next Read or Write under aio.WithDeadline, on
// the loop's timers; one that passes returns a *net.OpError matching
// os.ErrDeadlineExceeded with Timeout() true, as net.Conn's. The Conn must
// not be used from other goroutines.
//
// For code that reads and writes from goroutines of its own, such as
// net/http's Transport, Stream.GoConn(loop) is a net.Conn for plain
// goroutines: each operation is posted to the loop (Loop.CallSoon) as a
// task, and the goroutine waits for its outcome. Dialer(loop) is a
// DialContext hook that opens a Stream on the loop and returns its GoConn:
// http.Transport{DialContext: stream.Dialer(loop)} makes its requests over
// connections of the loop. Never call a GoConn from the loop's own
// goroutine (it would wait for itself).
//
// # TLS
//
// crypto/tls runs over Conn(c) as over any net.Conn (tls.Client(s.Conn(c),
// cfg)). StartTLS (the client) and StartTLSServer upgrade a plaintext
// stream in place, as asyncio's start_tls, for protocols that switch to TLS
// mid-way (SMTP's, IMAP's and XMPP's STARTTLS, PostgreSQL's SSLRequest):
// they drain the write buffer (the plaintext phase's data goes first), run
// the handshake in the task c, and return the *tls.Conn to read and write
// from then on. Bytes already read into the Stream's buffer are the start
// of the TLS stream: a client that sends its ClientHello in the same
// packet as its STARTTLS command loses nothing. OpenTLS is Open then
// StartTLS, with the ServerName taken from the address if cfg has none.
//
// The handshake follows the task's cancellation: put StartTLS under
// aio.WithTimeout to bound it (the timeout then returns aio.ErrTimeout),
// and crypto/tls gets c.Context() (HandshakeContext) for its callbacks. A
// failed handshake aborts the stream (closes its socket, as asyncio closes
// the transport) and returns the error. From the start of the handshake
// the Stream's own reads and writes (Read..., Write, Drain, WriteEOF, its
// Conn's) return an error matching ErrUpgraded; Close, Abort, IsClosing and
// WaitClosed still act on the connection (close the *tls.Conn first to
// send TLS's close_notify). The *tls.Conn is bound to the task c, as
// Conn(c) is: read and write it from that task only (crypto/tls's locks
// would block the loop's thread if two tasks used it at once). Its
// deadlines run on the loop's timers.
//
// # Cancellation
//
// Every wait is cancellable (Task.Cancel, a Scope, aio.WithTimeout). A
// cancelled read loses no bytes: the buffer is only consumed by a read that
// returns them, and a cancelled RecvInto has taken nothing from the
// kernel. A cancelled Drain leaves the buffer to the flusher. Cancelling
// the flusher (the loop's shutdown, Abort) drops what is unsent; a stream
// being closed is then closed.
//
// # Servers
//
// Serve listens (socket.Listen) and accepts in a task of the loop, and runs
// the handler in a new task per connection with a Stream on it. When the
// handler returns, the server sends what it wrote (if it returned nil) and
// closes the stream (asyncio leaves that to the handler; here no fd
// outlives its handler). Close stops accepting and closes the listener;
// CloseClients cancels the handlers; Wait waits for the accept task and
// every handler to end, and returns the handlers' errors joined (their
// cancellations by CloseClients left out).
package stream
