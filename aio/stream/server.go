//go:build unix

package stream

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
)

// A Handler serves one connection of a Server, in a task of its own. The
// Server closes the stream when the handler returns.
type Handler func(c *aio.Ctx, s *Stream) error

// A Server accepts connections and runs a Handler task for each (asyncio's
// start_server and start_unix_server). Its methods must be called on its
// loop.
type Server struct {
	ln       *socket.Socket
	addr     net.Addr
	o        options
	handler  Handler
	accept   aio.AnyTask
	running  bool // the accept task has not ended
	closed   bool
	clients  map[*aio.Task[struct{}]]struct{}
	errs     []error
	q        aio.WaitQueue
	acceptEr error
	untrack  func() // ends the loop's debug-mode tracking (aio.Loop.TrackResource)
}

var errServerClose = errors.New("stream: server closed")

// Serve listens on addr (socket.Listen: "tcp", "tcp4", "tcp6" with
// "ip:port", or "unix" with a path) and accepts connections in a task of
// c's loop, running handler in a new task for each with a Stream on the
// connection (made with opts). Close stops accepting; CloseClients cancels
// the handlers; Wait waits for both to end.
func Serve(c *aio.Ctx, network, addr string, handler Handler, opts ...Option) (*Server, error) {
	if handler == nil {
		return nil, aio.ErrNilFunc
	}
	o := makeOptions(opts)
	ln, err := socket.Listen(c, network, addr, o.sock...)
	if err != nil {
		return nil, err
	}
	srv := &Server{ln: ln, addr: ln.LocalAddr(), o: o, handler: handler, clients: map[*aio.Task[struct{}]]struct{}{}}
	t, err := aio.Spawn(c.Loop(), srv.acceptLoop, aio.WithName("stream server"))
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv.accept, srv.running = t, true
	srv.untrack = c.Loop().TrackResource("stream server", func() string { return fmt.Sprint(srv.addr) })
	return srv, nil
}

// Addr returns the address the server listens on (with the port the
// system chose for port 0).
func (srv *Server) Addr() net.Addr { return srv.addr }

func (srv *Server) acceptLoop(c *aio.Ctx) (struct{}, error) {
	defer func() {
		srv.running = false
		srv.ln.Close()
		srv.q.WakeAll()
	}()
	var backoff time.Duration
	for {
		sock, err := srv.ln.Accept(c)
		if err != nil {
			if srv.closed {
				return struct{}{}, nil
			}
			if temporaryAccept(err) {
				// Out of descriptors or memory, or a connection aborted
				// before it was taken: report it, wait, and serve on, as
				// Go's net/http does (5 ms, doubling up to 1 s).
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				c.Loop().ReportError(aio.ErrorContext{
					Message: fmt.Sprintf("stream: accept failed on %v; retrying in %v", srv.addr, backoff),
					Err:     err,
				})
				if err := aio.Sleep(c, backoff); err != nil {
					if srv.closed {
						return struct{}{}, nil
					}
					return struct{}{}, err
				}
				continue
			}
			srv.acceptEr = err
			return struct{}{}, err
		}
		backoff = 0
		st := newStream(sock, srv.o)
		var t *aio.Task[struct{}]
		t, err = aio.Spawn(c.Loop(), func(c *aio.Ctx) (struct{}, error) {
			defer func() {
				st.Abort()
				delete(srv.clients, t)
				srv.q.WakeAll()
			}()
			err := srv.handler(c, st)
			if err == nil {
				// Send what the handler wrote before closing.
				st.drainTo(c, 0, 0)
			} else if aio.Cause(err) != errServerClose {
				srv.errs = append(srv.errs, err)
			}
			return struct{}{}, nil
		}, aio.WithName("stream handler"))
		if err != nil {
			sock.Close()
			continue
		}
		srv.clients[t] = struct{}{}
	}
}

// Close stops accepting and closes the listener at once (asyncio's
// Server.close): a connect after it is refused. The handlers go on.
// Closing again does nothing. Call it on the server's loop.
func (srv *Server) Close() {
	if srv.closed {
		return
	}
	srv.closed = true
	srv.untrack()
	srv.ln.Close() // wakes the Accept with net.ErrClosed; no connection is taken after
	if srv.running {
		srv.accept.Cancel(errServerClose)
	}
}

// CloseClients cancels the handler tasks (asyncio 3.13's
// Server.close_clients); their streams are closed when they end.
func (srv *Server) CloseClients() {
	for t := range srv.clients {
		t.Cancel(errServerClose)
	}
}

// Clients returns the number of handlers running.
func (srv *Server) Clients() int { return len(srv.clients) }

// Wait waits until the server is closed and every handler has ended
// (asyncio's wait_closed), and returns the accept loop's error joined with
// the errors the handlers returned.
func (srv *Server) Wait(c *aio.Ctx) error {
	if err := srv.q.CheckTask(c); err != nil {
		return err
	}
	for srv.running || len(srv.clients) > 0 {
		if err := srv.q.Park(c); err != nil {
			return err
		}
	}
	return errors.Join(append([]error{srv.acceptEr}, srv.errs...)...)
}

// temporaryAccept reports whether an Accept error leaves the listener
// usable: the process or the system is out of descriptors or buffers for
// now, or the connection went away before it was accepted.
func temporaryAccept(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
