//go:build unix

package transport

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
)

// A Server accepts connections on a listening socket and gives each a
// Transport and a Protocol of its factory (asyncio's Server, from
// create_server). It accepts in a readiness callback of its loop, up to
// its backlog's worth of connections per report. Its methods must be
// called on its loop.
type Server struct {
	st      *loopState
	ln      *socket.Socket
	addr    net.Addr
	newConn func() Protocol
	o       options
	backlog int

	serving  bool                    // the accept callback is registered
	closed   bool                    // Close: the listener is closed
	backoff  time.Duration           // after a temporary accept failure
	retry    aio.Handle              // the timer that resumes accepting
	clients  map[*Transport]struct{} // the transports not yet lost
	q        aio.WaitQueue           // tasks in Wait; binds the server to its loop
	acceptFn func()
	untrack  func() // ends the loop's debug-mode tracking (aio.Loop.TrackResource)
}

// Serve listens on addr ("tcp", "tcp4", "tcp6" with "ip:port", or "unix"
// with a path; see socket.Listen) and serves every connection with a
// protocol from newProto (asyncio's create_server and create_unix_server).
// The server accepts at once unless WithoutServing is given.
// WithSocketOptions passes socket.WithReusePort, WithBacklog and
// WithNoDelay to the listener; WithWriteBufferLimits applies to every
// connection.
func Serve[P Protocol](c *aio.Ctx, network, addr string, newProto func() P, opts ...Option) (*Server, error) {
	if newProto == nil {
		return nil, errors.New("transport: Serve: a nil protocol factory")
	}
	o := makeOptions(opts)
	ln, err := socket.Listen(c, network, addr, o.sockOpts...)
	if err != nil {
		return nil, err
	}
	srv, err := serveSocket(c, ln, func() Protocol { return newProto() }, o)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return srv, nil
}

// ServeSocket serves the connections of ln, a listening socket (one made
// by socket.Listen, or from a net.Listener with socket.FromListener), as
// Serve does. The server owns ln from now on and closes it.
func ServeSocket[P Protocol](c *aio.Ctx, ln *socket.Socket, newProto func() P, opts ...Option) (*Server, error) {
	if newProto == nil || ln == nil {
		return nil, errors.New("transport: ServeSocket: a nil listener or protocol factory")
	}
	return serveSocket(c, ln, func() Protocol { return newProto() }, makeOptions(opts))
}

func serveSocket(c *aio.Ctx, ln *socket.Socket, newConn func() Protocol, o options) (*Server, error) {
	srv := &Server{ln: ln, newConn: newConn, o: o, backlog: 128, clients: make(map[*Transport]struct{})}
	if err := srv.q.CheckTask(c); err != nil {
		return nil, err
	}
	st, err := stateOf(c.Loop())
	if err != nil {
		return nil, err
	}
	if err := ln.Unwatch(); err != nil {
		return nil, err
	}
	srv.st = st
	srv.addr = ln.LocalAddr()
	srv.acceptFn = srv.acceptReady
	srv.untrack = c.Loop().TrackResource("transport server", func() string { return fmt.Sprint(srv.addr) })
	st.open[srv] = struct{}{}
	if !o.noServe {
		if err := srv.Start(); err != nil {
			delete(st.open, srv)
			srv.untrack()
			return nil, err
		}
	}
	return srv, nil
}

// Addr returns the address the server listens on (with the port the
// system chose for port 0), also after Close.
func (srv *Server) Addr() net.Addr { return srv.addr }

// Start starts accepting (asyncio's start_serving); on a serving server it
// does nothing. After Close it returns an error matching net.ErrClosed.
func (srv *Server) Start() error {
	if err := srv.q.CheckLoop("Server.Start"); err != nil {
		return err
	}
	if srv.closed {
		return errClosed("Start")
	}
	if srv.serving || srv.retry != (aio.Handle{}) {
		return nil
	}
	if err := srv.st.loop.AddReader(srv.ln.Fd(), srv.acceptFn); err != nil {
		return opError("Start", err)
	}
	srv.serving = true
	return nil
}

// Serving reports whether the server accepts connections (asyncio's
// is_serving): started, not closed, and not backing off after a failure.
func (srv *Server) Serving() bool { return srv.serving }

// acceptReady is the listener's readiness callback.
func (srv *Server) acceptReady() {
	if !srv.serving {
		return
	}
	for range srv.backlog {
		sock, err := srv.ln.TryAccept()
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) {
				return
			}
			srv.acceptFailed(err)
			return
		}
		srv.backoff = 0
		srv.serveConn(sock)
		if !srv.serving {
			return // a protocol closed the server
		}
	}
}

// serveConn makes the transport and protocol of an accepted socket.
func (srv *Server) serveConn(sock *socket.Socket) {
	ok := false
	defer func() {
		if !ok {
			sock.Close() // the factory panicked: the panic goes on to the loop
		}
	}()
	p := srv.newConn()
	ok = true
	if _, err := newTransport(srv.st, sock, sock.Fd(), true, true, p, srv.o, srv); err != nil {
		sock.Close()
		srv.st.loop.ReportError(aio.ErrorContext{Message: "transport: cannot serve a connection", Err: err})
	}
}

// acceptFailed handles an accept error: reported through the loop's error
// handler; a temporary one (out of descriptors or memory) pauses accepting
// for a while, as Go's net/http does (5 ms, doubling up to 1 s); any other
// stops the server.
func (srv *Server) acceptFailed(err error) {
	if !temporaryAccept(err) {
		srv.st.loop.ReportError(aio.ErrorContext{
			Message: fmt.Sprintf("transport: accept failed on %v; the server stops accepting", srv.addr),
			Err:     err,
		})
		srv.stopAccepting()
		return
	}
	srv.backoff = min(max(2*srv.backoff, 5*time.Millisecond), time.Second)
	srv.st.loop.ReportError(aio.ErrorContext{
		Message: fmt.Sprintf("transport: accept failed on %v; retrying in %v", srv.addr, srv.backoff),
		Err:     err,
	})
	srv.stopAccepting()
	h, herr := srv.st.loop.CallLater(srv.backoff, func() {
		srv.retry = aio.Handle{}
		if !srv.closed {
			srv.Start()
		}
	})
	if herr == nil {
		srv.retry = h
	}
}

func (srv *Server) stopAccepting() {
	if !srv.serving {
		return
	}
	srv.serving = false
	if !srv.st.closed {
		srv.st.loop.RemoveReader(srv.ln.Fd())
	}
}

// Close stops accepting and closes the listener (asyncio's Server.close):
// a connect after it is refused. The connections go on; Wait waits for
// them. Closing again does nothing.
func (srv *Server) Close() error {
	if err := srv.q.CheckLoop("Server.Close"); err != nil {
		return err
	}
	srv.close()
	return nil
}

func (srv *Server) close() {
	if srv.closed {
		return
	}
	srv.closed = true
	srv.untrack()
	srv.stopAccepting()
	if srv.retry != (aio.Handle{}) {
		srv.retry.Cancel()
		srv.retry = aio.Handle{}
	}
	srv.ln.Close()
	if !srv.st.closed {
		delete(srv.st.open, srv)
		srv.wakeIfDone()
	}
}

// CloseClients closes every connection gracefully (asyncio 3.13's
// Server.close_clients): each sends what it has queued, then is lost.
func (srv *Server) CloseClients() error {
	if err := srv.q.CheckLoop("Server.CloseClients"); err != nil {
		return err
	}
	for t := range srv.clients {
		t.Close()
	}
	return nil
}

// AbortClients aborts every connection (asyncio 3.13's
// Server.abort_clients): the queued bytes are dropped.
func (srv *Server) AbortClients() error {
	if err := srv.q.CheckLoop("Server.AbortClients"); err != nil {
		return err
	}
	for t := range srv.clients {
		t.forceClose(nil)
	}
	return nil
}

// Clients returns the number of connections not yet lost.
func (srv *Server) Clients() int { return len(srv.clients) }

// forget drops a lost transport.
func (srv *Server) forget(t *Transport) {
	delete(srv.clients, t)
	if !srv.st.closed {
		srv.wakeIfDone()
	}
}

func (srv *Server) wakeIfDone() {
	if srv.closed && len(srv.clients) == 0 {
		srv.q.WakeAll()
	}
}

// Wait waits until the server is closed and every connection it accepted
// has been lost (asyncio's wait_closed, as of 3.12).
func (srv *Server) Wait(c *aio.Ctx) error {
	if err := srv.q.CheckTask(c); err != nil {
		return err
	}
	for !srv.closed || len(srv.clients) > 0 {
		if err := srv.q.Park(c); err != nil {
			return err
		}
	}
	return nil
}

// loopClosed closes a server still open when its loop closes (its
// transports are aborted by their own hooks).
func (srv *Server) loopClosed() { srv.close() }

// temporaryAccept reports whether an accept error leaves the listener
// usable: out of descriptors, buffers or memory for now.
func temporaryAccept(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
