//go:build unix

package transport

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
)

// A DatagramProtocol receives the events of a datagram endpoint (asyncio's
// DatagramProtocol), on its loop, from callbacks, in this order:
// ConnectionMade once, DatagramReceived and ErrorReceived any number of
// times, ConnectionLost once, last. A protocol may also implement
// WriteFlowController for the endpoint's send queue.
type DatagramProtocol interface {
	ConnectionMade(t *DatagramTransport)
	// DatagramReceived is called with each datagram and its sender. data
	// is valid only until it returns, as with Protocol.DataReceived.
	DatagramReceived(data []byte, addr net.Addr)
	// ErrorReceived is called with the error of a receive (an ICMP port
	// unreachable on a connected socket comes as syscall.ECONNREFUSED)
	// or of a queued send; the endpoint stays open.
	ErrorReceived(err error)
	ConnectionLost(err error)
}

// BaseDatagramProtocol has methods that do nothing for every method of
// DatagramProtocol: embed it and write only the methods a protocol needs.
type BaseDatagramProtocol struct{}

// ConnectionMade does nothing.
func (BaseDatagramProtocol) ConnectionMade(*DatagramTransport) {}

// DatagramReceived drops the datagram.
func (BaseDatagramProtocol) DatagramReceived([]byte, net.Addr) {}

// ErrorReceived drops the error.
func (BaseDatagramProtocol) ErrorReceived(error) {}

// ConnectionLost does nothing.
func (BaseDatagramProtocol) ConnectionLost(error) {}

// A DatagramTransport is a datagram socket (UDP or unixgram) driven by its
// loop's readiness callbacks (asyncio's DatagramTransport). Its methods
// must be called on its loop.
type DatagramTransport struct {
	lifecycle // the loop's state, the fd, its watches, the closing (lifecycle.go)
	sock      *socket.Socket

	proto DatagramProtocol

	queue  []datagram // sends the socket did not take yet, in order
	queued int        // their bytes

	local, remote net.Addr
}

type datagram struct {
	b    []byte
	addr net.Addr
}

// ListenDatagram makes a datagram endpoint bound to laddr ("udp", "udp4",
// "udp6" with "ip:port", or "unixgram" with a path; see
// socket.ListenPacket) and returns its transport and protocol, once
// ConnectionMade has run (asyncio's create_datagram_endpoint with
// local_addr).
func ListenDatagram[P DatagramProtocol](c *aio.Ctx, network, laddr string, newProto func() P, opts ...Option) (*DatagramTransport, P, error) {
	var zero P
	if newProto == nil {
		return nil, zero, errors.New("transport: ListenDatagram: a nil protocol factory")
	}
	o := makeOptions(opts)
	sock, err := socket.ListenPacket(c, network, laddr, o.sockOpts...)
	if err != nil {
		return nil, zero, err
	}
	p := newProto()
	t, err := newDatagram(c.Loop(), sock, p, o)
	if err != nil {
		return nil, zero, err
	}
	return t, p, nil
}

// DialDatagram makes a datagram endpoint connected to raddr (asyncio's
// create_datagram_endpoint with remote_addr): it sends to raddr only
// (SendTo with a nil address, or Write) and receives from it only.
func DialDatagram[P DatagramProtocol](c *aio.Ctx, network, raddr string, newProto func() P, opts ...Option) (*DatagramTransport, P, error) {
	var zero P
	if newProto == nil {
		return nil, zero, errors.New("transport: DialDatagram: a nil protocol factory")
	}
	o := makeOptions(opts)
	sock, err := socket.Connect(c, network, raddr, o.sockOpts...)
	if err != nil {
		return nil, zero, err
	}
	if sock.Stream() {
		sock.Close()
		return nil, zero, fmt.Errorf("transport: DialDatagram: %q is not a datagram network", network)
	}
	p := newProto()
	t, err := newDatagram(c.Loop(), sock, p, o)
	if err != nil {
		return nil, zero, err
	}
	return t, p, nil
}

// NewDatagram makes a datagram endpoint of a datagram socket (from
// socket.ListenPacket, Connect or FromConn), calls p's ConnectionMade and
// starts receiving. The transport owns sock from now on; on an error sock
// is closed. Call it on l.
func NewDatagram(l *aio.Loop, sock *socket.Socket, p DatagramProtocol, opts ...Option) (*DatagramTransport, error) {
	if l == nil || sock == nil || p == nil {
		return nil, errors.New("transport: NewDatagram: a nil loop, socket or protocol")
	}
	if sock.Stream() {
		sock.Close()
		return nil, errors.New("transport: NewDatagram: a stream socket (use New)")
	}
	return newDatagram(l, sock, p, makeOptions(opts))
}

func newDatagram(l *aio.Loop, sock *socket.Socket, p DatagramProtocol, o options) (*DatagramTransport, error) {
	t := &DatagramTransport{sock: sock, proto: p}
	t.high, t.low = o.high, o.low
	fail := func(err error) (*DatagramTransport, error) {
		sock.Close()
		return nil, err
	}
	if err := t.check("transport.NewDatagram"); err != nil {
		return fail(err)
	}
	st, err := stateOf(l)
	if err != nil {
		return fail(err)
	}
	if err := sock.Unwatch(); err != nil {
		return fail(err)
	}
	t.flow, _ = p.(WriteFlowController)
	t.remote = sock.RemoteAddr()
	t.open(st, t, sock.Fd(), t.readReady, t.writeReady, "datagram transport", func() string { return fmt.Sprint(t.remote) })
	t.protect(func() { t.proto.ConnectionMade(t) })
	if !t.closing {
		t.startReading()
	}
	return t, nil
}

// readReady takes one datagram.
func (t *DatagramTransport) readReady() {
	if !t.reading {
		return
	}
	ok := false
	defer func() {
		if !ok {
			t.forceClose(ErrProtocolPanic)
		}
	}()
	buf := t.st.readBuf()
	n, addr, err := t.sock.TryRecvFrom(buf)
	switch {
	case errors.Is(err, syscall.EAGAIN):
	case err != nil:
		t.proto.ErrorReceived(err)
	default:
		t.proto.DatagramReceived(buf[:n], addr)
	}
	ok = true
}

// SendTo sends b as one datagram to addr (asyncio's sendto; addr nil on a
// connected endpoint: its peer), or queues a copy when the socket's buffer
// is full; queued datagrams go out in order as the socket drains, and past
// the high-water mark the protocol is asked to PauseWriting. An error of
// the immediate send is returned (the endpoint stays open); one of a
// queued send goes to ErrorReceived. After Close it returns an error
// matching net.ErrClosed.
func (t *DatagramTransport) SendTo(b []byte, addr net.Addr) error {
	if err := t.check("DatagramTransport.SendTo"); err != nil {
		return err
	}
	if t.closing {
		return errClosed("sendto")
	}
	if addr != nil && t.remote != nil {
		return fmt.Errorf("transport: sendto: an address on a connected endpoint (its peer is %v)", t.remote)
	}
	if addr == nil && t.remote == nil {
		return errors.New("transport: sendto: no address on an endpoint that is not connected")
	}
	if len(t.queue) == 0 {
		err := t.sock.TrySendTo(b, addr)
		if err == nil || !errors.Is(err, syscall.EAGAIN) {
			return err
		}
		if err := t.startWriting(); err != nil {
			// Unlike a stream's, the endpoint stays open: this
			// datagram is not sent, as with any error of an
			// immediate send, and nothing else is lost.
			return opError("watch", err)
		}
	}
	t.queue = append(t.queue, datagram{b: append([]byte(nil), b...), addr: addr})
	t.queued += len(b)
	t.maybePause(t.queued)
	return nil
}

// Write sends b to the peer of a connected endpoint: SendTo(b, nil).
func (t *DatagramTransport) Write(b []byte) error { return t.SendTo(b, nil) }

// writeReady sends the queue until the socket is full again.
func (t *DatagramTransport) writeReady() {
	if !t.writerOn {
		return
	}
	for len(t.queue) > 0 {
		d := t.queue[0]
		err := t.sock.TrySendTo(d.b, d.addr)
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		t.queue[0] = datagram{}
		t.queue = t.queue[1:]
		t.queued -= len(d.b)
		if err != nil {
			t.protect(func() { t.proto.ErrorReceived(err) })
			if t.lost {
				return
			}
		}
	}
	if len(t.queue) == 0 {
		t.queue = nil // its array goes
	}
	t.maybeResume(t.queued) // may queue more: a Close then waits for it
	if t.lost || len(t.queue) > 0 {
		return
	}
	t.drained()
}

// WriteBufferSize returns the bytes of the queued datagrams.
func (t *DatagramTransport) WriteBufferSize() int { return t.queued }

// SetWriteBufferLimits sets the water marks of the send queue, as
// Transport.SetWriteBufferLimits.
func (t *DatagramTransport) SetWriteBufferLimits(high, low int) error {
	return t.setLimits("DatagramTransport.SetWriteBufferLimits", high, low, t.queued)
}

// Close stops receiving, sends the queued datagrams, closes the socket and
// calls ConnectionLost with nil (asyncio's close). Closing again does
// nothing.
func (t *DatagramTransport) Close() error { return t.close("DatagramTransport.Close") }

// Abort closes at once, dropping the queued datagrams.
func (t *DatagramTransport) Abort() error { return t.abort("DatagramTransport.Abort") }

// hasQueued, release and tellLost are t's part of its lifecycle.
func (t *DatagramTransport) hasQueued() bool { return len(t.queue) > 0 }

func (t *DatagramTransport) release() {
	t.queue, t.queued = nil, 0
	t.LocalAddr() // known after the close (RemoteAddr is from the start)
	t.sock.Close()
}

func (t *DatagramTransport) tellLost(err error) { t.proto.ConnectionLost(err) }

// IsClosing reports whether the endpoint is closing or closed.
func (t *DatagramTransport) IsClosing() bool { return t.closing }

// WaitClosed waits until ConnectionLost has been called and returns its
// error. It is for tasks of t's loop.
func (t *DatagramTransport) WaitClosed(c *aio.Ctx) error { return t.waitClosed(c) }

// Socket returns the endpoint's socket, for its options and addresses.
func (t *DatagramTransport) Socket() *socket.Socket { return t.sock }

// LocalAddr returns the socket's own address, also after the close.
func (t *DatagramTransport) LocalAddr() net.Addr {
	if t.local == nil {
		t.local = t.sock.LocalAddr()
	}
	return t.local
}

// RemoteAddr returns the peer of a connected endpoint, nil otherwise.
func (t *DatagramTransport) RemoteAddr() net.Addr { return t.remote }

// Protocol returns the endpoint's protocol.
func (t *DatagramTransport) Protocol() DatagramProtocol { return t.proto }
