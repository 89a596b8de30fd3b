//go:build unix

package loops

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
	"github.com/aiogo/aio/aio/stream"
	"github.com/aiogo/aio/aio/transport"
)

// A Mode is how a Server spreads its connections over the loops.
type Mode int

const (
	// ReusePort: every loop listens on the address with SO_REUSEPORT
	// and accepts its own connections; the kernel spreads them (Linux:
	// by a hash of the peer's address and port). Nothing crosses
	// between loops. The default on Linux for TCP.
	ReusePort Mode = iota + 1
	// Acceptor: one loop (the group's first) accepts every connection
	// and hands each to the loops in round robin, through their doors.
	// The default elsewhere, and for Unix sockets; WithAcceptor forces
	// it.
	Acceptor
)

// String returns "reuseport" or "acceptor".
func (m Mode) String() string {
	switch m {
	case ReusePort:
		return "reuseport"
	case Acceptor:
		return "acceptor"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// A ServeOption configures ServeStream and ServeProtocol.
type ServeOption func(*serveConfig)

type serveConfig struct {
	acceptor   bool
	streamOpts []stream.Option
	protoOpts  []transport.Option
}

// WithAcceptor makes the server use one acceptor (Mode Acceptor) where
// SO_REUSEPORT would do: for tests of that mode on Linux, and for a
// program that wants the round robin's even spread.
func WithAcceptor() ServeOption { return func(c *serveConfig) { c.acceptor = true } }

// WithStreamOptions passes options to the Streams of ServeStream.
func WithStreamOptions(opts ...stream.Option) ServeOption {
	return func(c *serveConfig) { c.streamOpts = append(c.streamOpts, opts...) }
}

// WithTransportOptions passes options to the Transports of ServeProtocol
// (write buffer limits).
func WithTransportOptions(opts ...transport.Option) ServeOption {
	return func(c *serveConfig) { c.protoOpts = append(c.protoOpts, opts...) }
}

// A Server serves one address from every loop of a group (ServeStream,
// ServeProtocol). Its methods may be called from any goroutine; Wait only
// from a plain one.
type Server struct {
	g        *Group
	mode     Mode
	network  string
	addr     net.Addr
	stream   stream.Handler
	newProto func() transport.Protocol
	cfg      serveConfig

	mu       sync.Mutex
	closed   bool
	current  []atomic.Pointer[shard] // by loop index
	all      []*shard                // every shard made, restarts included
	unsetup  func()
	accepted []atomic.Uint64 // connections served, by loop index
}

// A shard is a server's part on one loop.
type shard struct {
	idx  int
	loop *aio.Loop
	done chan struct{} // closed when the part has ended (or its loop closed)
	err  error         // written before done is closed

	// On the loop.
	stop         func() // stop accepting
	closeClients func()

	in    *inbox // Acceptor mode: the connections handed to this loop
	ready chan ready
}

// ServeStream serves network and addr ("tcp", "tcp4", "tcp6" with
// "ip:port", or "unix" with a path) from every loop of g, running handler
// in a task of the loop that has the connection, with a Stream on it (as
// stream.Serve does on one loop: the stream is closed when the handler
// returns). It returns once every loop serves. g must be started, and
// ServeStream called from a plain goroutine (aio.ErrOnLoop on a loop). A
// loop that fails and is restarted (WithRestart) serves again on the same
// address; the connections it had are lost with it.
func ServeStream(g *Group, network, addr string, handler stream.Handler, opts ...ServeOption) (*Server, error) {
	if handler == nil {
		return nil, fmt.Errorf("loops: ServeStream: %w", aio.ErrNilFunc)
	}
	srv := &Server{g: g, network: network, stream: handler}
	return srv.start(addr, opts)
}

// ServeProtocol serves network and addr from every loop of g with a
// protocol from newProto for each connection, on the loop that has it (as
// transport.Serve does on one loop). See ServeStream for the rest. In
// Acceptor mode the server counts a connection's end through its protocol:
// a protocol replaced with Transport.SetProtocol is not waited for by
// Wait.
func ServeProtocol[P transport.Protocol](g *Group, network, addr string, newProto func() P, opts ...ServeOption) (*Server, error) {
	if newProto == nil {
		return nil, fmt.Errorf("loops: ServeProtocol: %w", aio.ErrNilFunc)
	}
	srv := &Server{g: g, network: network, newProto: func() transport.Protocol { return newProto() }}
	return srv.start(addr, opts)
}

func (srv *Server) start(addr string, opts []ServeOption) (*Server, error) {
	if srv.g == nil {
		return nil, fmt.Errorf("loops: serve: %w: a nil group", aio.ErrNoLoop)
	}
	if aio.RunningLoop() != nil {
		return nil, fmt.Errorf("%w: loops: serve from a loop (it waits for every loop)", aio.ErrOnLoop)
	}
	if err := srv.g.started("serve"); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(&srv.cfg)
	}
	srv.mode = Acceptor
	if reusePortBalances && !srv.cfg.acceptor && (srv.network == "tcp" || srv.network == "tcp4" || srv.network == "tcp6") {
		srv.mode = ReusePort
	}
	n := srv.g.Len()
	srv.current = make([]atomic.Pointer[shard], n)
	srv.accepted = make([]atomic.Uint64, n)
	// Loop 0 first: it resolves the address (a port 0) for the others.
	for i := range n {
		a := addr
		if i > 0 {
			a = srv.addr.String()
		}
		sh, err := srv.startShard(i, srv.g.Loop(i), a)
		if err == nil {
			err = waitShard(sh)
		}
		if err != nil {
			srv.Close()
			srv.Wait(context.Background())
			return nil, err
		}
	}
	srv.unsetup = srv.g.addSetup(srv.restartShard)
	return srv, nil
}

// Mode returns how the server spreads its connections.
func (srv *Server) Mode() Mode { return srv.mode }

// Addr returns the address the server listens on (with the port the system
// chose for port 0).
func (srv *Server) Addr() net.Addr { return srv.addr }

// Served returns the number of connections served so far by each loop, in
// loop index order.
func (srv *Server) Served() []uint64 {
	out := make([]uint64, len(srv.accepted))
	for i := range srv.accepted {
		out[i] = srv.accepted[i].Load()
	}
	return out
}

// ready is what startShard's task sends back once the shard serves.
type ready struct {
	addr net.Addr
	err  error
}

// startShard sets up the server's part on loop l, index i, in a task of
// l, and returns the shard, whose readiness waitShard waits for.
func (srv *Server) startShard(i int, l *aio.Loop, addr string) (*shard, error) {
	up := make(chan ready, 1)
	sh := &shard{idx: i, loop: l, done: make(chan struct{}), ready: up}
	if srv.mode == Acceptor {
		sh.in = newInbox()
	} else if srv.stream != nil {
		sh.in = newInbox() // ReusePort streams: the loop hands its own connections
	}
	srv.mu.Lock()
	srv.current[i].Store(sh)
	srv.all = append(srv.all, sh)
	srv.mu.Unlock()
	_, err := aio.Spawn(l, func(c *aio.Ctx) (struct{}, error) {
		defer close(sh.done)
		sh.err = srv.runShard(c, sh, addr, up)
		select {
		case up <- ready{err: sh.err}:
		default:
		}
		return struct{}{}, nil
	}, aio.WithName(fmt.Sprintf("loops server %d", i)))
	if err != nil {
		close(sh.done)
		sh.err = err
		up <- ready{err: err}
	}
	return sh, nil
}

// waitShard waits until sh serves (or failed to).
func waitShard(sh *shard) error {
	r := <-sh.ready
	return r.err
}

// restartShard is the group's setup for a restarted loop: the server's
// part on it, unless the server is closed. It must not wait (the loop
// runs after it).
func (srv *Server) restartShard(i int, l *aio.Loop) {
	srv.mu.Lock()
	closed := srv.closed
	srv.mu.Unlock()
	if closed {
		return
	}
	srv.startShard(i, l, srv.addr.String())
}

// runShard is the task of a shard: it serves until the shard is closed and
// its connections have ended. It reports readiness on up.
func (srv *Server) runShard(c *aio.Ctx, sh *shard, addr string, up chan ready) error {
	announce := func(a net.Addr) {
		srv.mu.Lock()
		if srv.addr == nil {
			srv.addr = a
		}
		closed := srv.closed
		srv.mu.Unlock()
		up <- ready{addr: a}
		if closed {
			sh.stop() // Close came while this shard started
		}
	}
	if srv.mode == ReusePort {
		return srv.serveReusePort(c, sh, addr, announce)
	}
	return srv.serveAcceptor(c, sh, addr, announce)
}

func (srv *Server) serveReusePort(c *aio.Ctx, sh *shard, addr string, announce func(net.Addr)) error {
	if srv.stream != nil {
		// A listener and an accept loop of its own on every loop, which
		// hands its connections to its own loop (see serveAcceptor).
		return srv.serveAcceptor(c, sh, addr, announce)
	}
	count := &srv.accepted[sh.idx]
	newProto := srv.newProto
	s, err := transport.Serve(c, srv.network, addr, func() transport.Protocol {
		count.Add(1)
		return newProto()
	}, append([]transport.Option{transport.WithSocketOptions(socket.WithReusePort())}, srv.cfg.protoOpts...)...)
	if err != nil {
		return err
	}
	sh.stop = func() { s.Close() }
	sh.closeClients = func() { s.CloseClients() }
	announce(s.Addr())
	return s.Wait(c)
}

// shards returns the current shards.
func (srv *Server) shards() []*shard {
	out := make([]*shard, len(srv.current))
	for i := range srv.current {
		out[i] = srv.current[i].Load()
	}
	return out
}

// Close stops accepting on every loop (the listeners are closed: a connect
// after it is refused); the connections go on until they end, or
// CloseClients. Closing again does nothing. Any goroutine.
func (srv *Server) Close() error {
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		return nil
	}
	srv.closed = true
	shards := srv.shards()
	unsetup := srv.unsetup
	srv.mu.Unlock()
	if unsetup != nil {
		unsetup()
	}
	for _, sh := range shards {
		if sh != nil {
			sh.loop.CallSoon(func() {
				if sh.stop != nil {
					sh.stop()
				}
			})
		}
	}
	return nil
}

// CloseClients ends every connection of every loop: the stream handlers
// are cancelled, the transports closed (their queued bytes sent first).
// Any goroutine.
func (srv *Server) CloseClients() error {
	for _, sh := range srv.shards() {
		if sh != nil {
			sh.loop.CallSoon(func() {
				if sh.closeClients != nil {
					sh.closeClients()
				}
			})
		}
	}
	return nil
}

// Wait waits until the server is closed on every loop and every connection
// has ended (a loop that closes ends its part), or ctx is done, and returns
// the errors of the loops' parts joined (the handlers' errors, as
// stream.Server.Wait returns them), or ctx's cause. It must be called from a
// plain goroutine: on a loop it returns an error matching aio.ErrOnLoop.
func (srv *Server) Wait(ctx context.Context) error {
	if aio.RunningLoop() != nil {
		return fmt.Errorf("%w: loops: Server.Wait from a loop", aio.ErrOnLoop)
	}
	var errs []error
	for i := 0; ; i++ {
		srv.mu.Lock()
		if i >= len(srv.all) {
			srv.mu.Unlock()
			break
		}
		sh := srv.all[i]
		srv.mu.Unlock()
		select {
		case <-sh.done:
			if sh.err != nil && !errors.Is(sh.err, aio.ErrClosed) && !errors.Is(sh.err, context.Canceled) {
				errs = append(errs, fmt.Errorf("loops: loop %d: %w", sh.idx, sh.err))
			}
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return errors.Join(errs...)
}

// Acceptor mode.

// inbox holds the connections handed to a loop by the acceptor, until the
// loop takes them in. Its mutex is held for a few instructions by the
// acceptor and by the loop, never across a wait.
type inbox struct {
	mu        sync.Mutex
	pending   []*socket.Socket
	scheduled bool
	dead      bool // the loop closed: the acceptor closes what it would hand

	// On the loop (and in its close hook).
	socks   map[*socket.Socket]struct{} // the streams' sockets not closed yet
	conns   int
	streams map[*aio.Task[struct{}]]struct{}
	protos  map[*transport.Transport]struct{}
	stopped bool
	q       aio.WaitQueue
	errs    []error
}

func newInbox() *inbox {
	return &inbox{
		streams: map[*aio.Task[struct{}]]struct{}{},
		protos:  map[*transport.Transport]struct{}{},
		socks:   map[*socket.Socket]struct{}{},
	}
}

// hand gives sock to the loop of sh through its door; false if the loop is
// gone (the caller closes sock or hands it elsewhere).
func (srv *Server) hand(sh *shard, sock *socket.Socket) bool {
	in := sh.in
	in.mu.Lock()
	if in.dead {
		in.mu.Unlock()
		return false
	}
	in.pending = append(in.pending, sock)
	first := !in.scheduled
	in.scheduled = true
	in.mu.Unlock()
	if first {
		if _, err := sh.loop.CallSoon(func() { srv.takeIn(sh) }); err != nil {
			// Closed meanwhile: its close hook closes what is pending.
			return true
		}
	}
	return true
}

// takeIn starts what the acceptor handed to sh's loop. On the loop.
func (srv *Server) takeIn(sh *shard) {
	in := sh.in
	in.mu.Lock()
	socks := in.pending
	in.pending = nil
	in.scheduled = false
	in.mu.Unlock()
	for _, sock := range socks {
		srv.serveConn(sh, sock)
	}
}

// serveConn serves one handed connection on sh's loop. On the loop.
func (srv *Server) serveConn(sh *shard, sock *socket.Socket) {
	in := sh.in
	if in.stopped {
		sock.Close()
		return
	}
	srv.accepted[sh.idx].Add(1)
	load := &srv.g.slots[sh.idx].load
	in.conns++
	load.Add(1)
	end := func(err error) {
		in.conns--
		load.Add(-1)
		if err != nil && !errors.Is(err, context.Canceled) {
			in.errs = append(in.errs, err)
		}
		in.q.WakeAll()
	}
	if srv.stream != nil {
		var t *aio.Task[struct{}]
		in.socks[sock] = struct{}{}
		t, err := spawnHandler(sh.loop, sock, srv.stream, srv.cfg.streamOpts, func(err error) {
			if t != nil {
				delete(in.streams, t)
			}
			if sock.Fd() < 0 {
				// Closed. (A body unwound by the loop's Close cannot
				// close it: the close hook below does.)
				delete(in.socks, sock)
			}
			end(err)
		})
		if err != nil {
			end(nil)
			return
		}
		if !t.IsDone() {
			in.streams[t] = struct{}{}
		}
		return
	}
	p, tk := trackProtocol(srv.newProto(), func() { end(nil) })
	tr, err := transport.New(sh.loop, sock, p, srv.cfg.protoOpts...)
	if err != nil {
		end(nil) // transport.New closed sock; ConnectionLost is not called
		return
	}
	if !tk.gone {
		in.protos[tr] = struct{}{}
		tk.forget = func() { delete(in.protos, tr) }
	}
}

func (srv *Server) serveAcceptor(c *aio.Ctx, sh *shard, addr string, announce func(net.Addr)) error {
	in := sh.in
	var ln *socket.Socket
	// Whatever is still handed when the loop closes is closed with it, and
	// so are the listener and the sockets of handlers that the loop's Close
	// unwound (their own close is refused while they unwind; this hook,
	// registered before any socket of the loop, runs after package
	// socket's own hook, when a Socket of a closed loop may be closed).
	if _, err := sh.loop.OnClose(func() {
		in.mu.Lock()
		in.dead = true
		socks := in.pending
		in.pending = nil
		in.mu.Unlock()
		for _, s := range socks {
			s.Close()
		}
		if ln != nil && ln.Fd() >= 0 {
			ln.Close()
		}
		for s := range in.socks {
			if s.Fd() >= 0 {
				s.Close()
			}
		}
		clear(in.socks)
	}); err != nil {
		return err
	}
	if sh.idx == 0 || srv.mode == ReusePort {
		var opts []socket.Option
		if srv.mode == ReusePort {
			opts = append(opts, socket.WithReusePort())
		}
		var err error
		ln, err = socket.Listen(c, srv.network, addr, opts...)
		if err != nil {
			return err
		}
	}
	stopped := false
	sh.stop = func() {
		if stopped {
			return
		}
		stopped = true
		in.stopped = true
		if ln != nil {
			ln.Close() // wakes the accept with net.ErrClosed
		}
		in.q.WakeAll()
	}
	sh.closeClients = func() {
		for t := range in.streams {
			t.Cancel(errServerClosed)
		}
		for t := range in.protos {
			t.Close()
		}
	}
	if ln != nil {
		announce(ln.LocalAddr())
		if err := srv.acceptLoop(c, sh, ln, &stopped); err != nil {
			sh.stop()
			return err
		}
	} else {
		announce(nil)
	}
	for !in.stopped || in.conns > 0 {
		if err := in.q.Park(c); err != nil {
			return err
		}
	}
	return errors.Join(in.errs...)
}

var errServerClosed = errors.New("loops: server closed")

// acceptLoop accepts on ln until the server stops, handing each connection
// to the next loop in round robin (its own included).
func (srv *Server) acceptLoop(c *aio.Ctx, own *shard, ln *socket.Socket, stopped *bool) error {
	defer func() {
		if !*stopped {
			ln.Close()
		}
	}()
	if srv.mode == ReusePort {
		for {
			sock, err := ln.Accept(c)
			if err != nil {
				if *stopped {
					return nil
				}
				if temporary(err) {
					if err := aio.Sleep(c, 5*time.Millisecond); err != nil {
						return err
					}
					continue
				}
				return err
			}
			srv.serveConn(own, sock)
		}
	}
	var backoff time.Duration
	next := 0
	for {
		sock, err := ln.Accept(c)
		if err != nil {
			if *stopped {
				return nil
			}
			if temporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				c.Loop().ReportError(aio.ErrorContext{Message: fmt.Sprintf("loops: accept failed on %v; retrying in %v", srv.addr, backoff), Err: err})
				if err := aio.Sleep(c, backoff); err != nil {
					if *stopped {
						return nil
					}
					return err
				}
				continue
			}
			return err
		}
		backoff = 0
		handed := false
		n := len(srv.current)
		for range n {
			sh := srv.current[next%n].Load()
			next++
			if sh != nil && sh.in != nil && srv.hand(sh, sock) {
				handed = true
				break
			}
		}
		if !handed {
			sock.Close()
		}
	}
}

func temporary(err error) bool {
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// tracked wraps a protocol to learn when its connection ends (Acceptor
// mode, where no transport.Server counts the connections).
type tracked struct {
	transport.Protocol
	lost   func()
	forget func()
	gone   bool
}

func (p *tracked) ConnectionLost(err error) {
	p.gone = true
	defer func() {
		if p.forget != nil {
			p.forget()
		}
		p.lost()
	}()
	p.Protocol.ConnectionLost(err)
}

type trackedBuffered struct {
	*tracked
	b transport.BufferedProtocol
}

func (p trackedBuffered) GetBuffer(n int) []byte { return p.b.GetBuffer(n) }
func (p trackedBuffered) BufferUpdated(n int)    { p.b.BufferUpdated(n) }

type trackedFlow struct {
	*tracked
	f transport.WriteFlowController
}

func (p trackedFlow) PauseWriting()  { p.f.PauseWriting() }
func (p trackedFlow) ResumeWriting() { p.f.ResumeWriting() }

type trackedBoth struct {
	trackedBuffered
	f transport.WriteFlowController
}

func (p trackedBoth) PauseWriting()  { p.f.PauseWriting() }
func (p trackedBoth) ResumeWriting() { p.f.ResumeWriting() }

// trackProtocol returns p wrapped, with p's optional interfaces, and its
// tracker.
func trackProtocol(p transport.Protocol, lost func()) (transport.Protocol, *tracked) {
	t := &tracked{Protocol: p, lost: lost}
	b, isB := p.(transport.BufferedProtocol)
	f, isF := p.(transport.WriteFlowController)
	switch {
	case isB && isF:
		return trackedBoth{trackedBuffered{t, b}, f}, t
	case isB:
		return trackedBuffered{t, b}, t
	case isF:
		return trackedFlow{t, f}, t
	}
	return t, t
}
