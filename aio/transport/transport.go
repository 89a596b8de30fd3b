//go:build unix

package transport

import (
	"fmt"
	"net"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
	"golang.org/x/sys/unix"
)

// A Transport is one connection (a stream socket or a pipe) driven by its
// loop's readiness callbacks and reported to a Protocol (asyncio's
// Transport). Its methods must be called on its loop: from the protocol's
// methods, other callbacks, or tasks of that loop. Misuse from another
// goroutine returns an error matching aio.ErrNotOnLoop.
type Transport struct {
	lifecycle                // the loop's state, the fd, its watches, the closing (lifecycle.go)
	sock      *socket.Socket // nil for a pipe
	canRead   bool           // reading is the fd's (not a write pipe)
	canWrite  bool           // writing is (not a read pipe)
	server    *Server        // the server that accepted it, if any

	proto  Protocol
	bproto BufferedProtocol // proto, if it provides read buffers

	wbuf writeBuffer

	readPaused bool // PauseReading
	eofIn      bool // the peer's end of stream was read
	eofOut     bool // WriteEOF called

	local, remote net.Addr // cached by LocalAddr and RemoteAddr, and by the close
}

// newTransport sets up a transport of fd on st's loop, calls the
// protocol's ConnectionMade and starts reading. Loop goroutine only.
func newTransport(st *loopState, sock *socket.Socket, fd int, canRead, canWrite bool, p Protocol, o options, srv *Server) (*Transport, error) {
	t := &Transport{sock: sock, canRead: canRead, canWrite: canWrite, server: srv}
	t.high, t.low = o.high, o.low
	if err := t.check("transport.New"); err != nil {
		return nil, err
	}
	t.setProtocol(p)
	t.open(st, t, fd, t.readReady, t.writeReady, "transport", func() string { return fmt.Sprintf("fd %d", t.fd) })
	if srv != nil {
		srv.clients[t] = struct{}{}
	}
	t.protect(func() { t.proto.ConnectionMade(t) })
	if !t.closing && !t.readPaused {
		// A write pipe is watched for reading too: its reader going
		// away makes it readable (an error condition), as asyncio
		// watches it.
		t.startReading()
	}
	return t, nil
}

func (t *Transport) setProtocol(p Protocol) {
	t.proto = p
	t.bproto, _ = p.(BufferedProtocol)
	t.flow, _ = p.(WriteFlowController)
}

func opError(op string, err error) error {
	return fmt.Errorf("transport: %s: %w", op, err)
}

func errClosed(op string) error {
	return fmt.Errorf("transport: %s: %w", op, net.ErrClosed)
}

// readReady is the reader callback: one read(2) into the protocol's buffer
// or the loop's, and the protocol told.
func (t *Transport) readReady() {
	if !t.reading {
		return // removed after this report was queued
	}
	if !t.canRead {
		// A write pipe whose reader has gone.
		var err error
		if t.wbuf.len() > 0 {
			err = opError("write", unix.EPIPE)
		}
		t.forceClose(err)
		return
	}
	ok := false
	defer func() {
		if !ok {
			t.forceClose(ErrProtocolPanic)
		}
	}()
	var buf []byte
	if t.bproto != nil {
		buf = t.bproto.GetBuffer(-1)
		if len(buf) == 0 {
			ok = true
			t.forceClose(fmt.Errorf("transport: %T.GetBuffer returned an empty buffer", t.proto))
			return
		}
	} else {
		buf = t.st.readBuf()
	}
	n, err := unix.Read(t.fd, buf)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
	case err != nil:
		t.forceClose(opError("read", err))
	case n == 0:
		t.readEOF()
	case t.bproto != nil:
		t.bproto.BufferUpdated(n)
	default:
		t.proto.DataReceived(buf[:n])
	}
	ok = true
}

// readEOF handles the peer's end of stream.
func (t *Transport) readEOF() {
	t.eofIn = true
	t.stopReading()
	keep := t.proto.EOFReceived()
	if !keep || t.sock == nil {
		t.Close()
	}
}

// Write sends b, or queues what the system does not take at once (asyncio's
// write). With nothing queued it writes directly: one write(2), no copy
// of what it takes. Write never blocks: the queue grows; past the
// high-water mark the protocol is asked to PauseWriting. b may be reused
// when Write returns. It returns an error matching net.ErrClosed once the
// transport is closing or closed, ErrWriteAfterEOF after WriteEOF,
// ErrNotSupported on a read pipe, and a write error (matching
// syscall.ECONNRESET or syscall.EPIPE for a peer that went away: the
// transport is then closed and ConnectionLost gets it too).
func (t *Transport) Write(b []byte) error {
	if err := t.writable("Transport.Write", "write"); err != nil {
		return err
	}
	if len(b) == 0 {
		return nil
	}
	if t.wbuf.len() == 0 {
		n, err := unix.Write(t.fd, b)
		if err != nil {
			if err != unix.EAGAIN && err != unix.EINTR {
				err = opError("write", err)
				t.forceClose(err)
				return err
			}
			n = 0
		}
		if n == len(b) {
			return nil
		}
		b = b[n:]
		if !t.watchWrite() {
			return t.lostErr
		}
	}
	t.wbuf.append(b)
	t.maybePause(t.wbuf.len())
	return nil
}

// Writev is Write for several slices, written with one writev(2) when
// nothing is queued (asyncio's writelines).
func (t *Transport) Writev(bufs ...[]byte) error {
	if err := t.writable("Transport.Writev", "writev"); err != nil {
		return err
	}
	n := 0
	if t.wbuf.len() == 0 {
		var err error
		n, err = writev(t.fd, bufs[:min(len(bufs), 1024)]) // IOV_MAX
		if err != nil {
			if err != unix.EAGAIN && err != unix.EINTR {
				err = opError("writev", err)
				t.forceClose(err)
				return err
			}
			n = 0
		}
		for len(bufs) > 0 && n >= len(bufs[0]) {
			n -= len(bufs[0])
			bufs = bufs[1:]
		}
		if len(bufs) == 0 {
			return nil
		}
		if !t.watchWrite() {
			return t.lostErr
		}
	}
	for i, b := range bufs {
		if i == 0 {
			b = b[n:] // what the writev took of the first
		}
		t.wbuf.append(b)
	}
	t.maybePause(t.wbuf.len())
	return nil
}

// writable checks a write's call.
func (t *Transport) writable(method, op string) error {
	if err := t.check(method); err != nil {
		return err
	}
	switch {
	case t.closing:
		return errClosed(op)
	case t.eofOut:
		return ErrWriteAfterEOF
	case !t.canWrite:
		return fmt.Errorf("%w: %s on a read pipe", ErrNotSupported, op)
	}
	return nil
}

// writeReady is the writer callback: one write(2) of the queue.
func (t *Transport) writeReady() {
	if !t.writerOn {
		return
	}
	n, err := unix.Write(t.fd, t.wbuf.bytes())
	if err != nil {
		if err != unix.EAGAIN && err != unix.EINTR {
			t.forceClose(opError("write", err))
		}
		return
	}
	t.wbuf.consume(n)
	t.maybeResume(t.wbuf.len())
	if t.lost || t.wbuf.len() > 0 {
		return
	}
	if !t.drained() && t.eofOut {
		t.shutdownWrite()
	}
}

// watchWrite registers the writer callback, and reports whether t is
// still open: a connection that cannot be watched is lost.
func (t *Transport) watchWrite() bool {
	if err := t.startWriting(); err != nil {
		t.forceClose(opError("watch", err))
		return false
	}
	return true
}

// CanWriteEOF reports whether WriteEOF is possible: on a stream socket and
// a write pipe (where it closes the pipe).
func (t *Transport) CanWriteEOF() bool { return t.sock != nil || !t.canRead }

// WriteEOF closes the sending side after the queued bytes are sent
// (asyncio's write_eof): a socket's write side is shut down (the peer
// reads the end of the stream, and reading goes on); a write pipe is
// closed. Writing after it returns ErrWriteAfterEOF; calling it again, or
// while closing, does nothing.
func (t *Transport) WriteEOF() error {
	if err := t.check("Transport.WriteEOF"); err != nil {
		return err
	}
	if t.lost {
		return errClosed("write EOF")
	}
	if !t.CanWriteEOF() {
		return fmt.Errorf("%w: WriteEOF on a read pipe", ErrNotSupported)
	}
	if t.closing || t.eofOut {
		return nil
	}
	if t.sock == nil {
		return t.Close()
	}
	t.eofOut = true
	if t.wbuf.len() == 0 {
		t.shutdownWrite()
	}
	return nil
}

func (t *Transport) shutdownWrite() {
	if err := t.sock.ShutdownWrite(); err != nil {
		t.forceClose(err)
	}
}

// Close closes the transport gracefully (asyncio's close): reading stops
// at once; the queued bytes are sent; then the connection is closed and
// the protocol's ConnectionLost called with nil. Writing after Close
// returns an error matching net.ErrClosed; closing again does nothing. A
// peer that never reads keeps a closing transport's bytes queued: Abort
// then, or close it under a timeout.
func (t *Transport) Close() error { return t.close("Transport.Close") }

// Abort closes the transport at once, dropping the queued bytes (asyncio's
// abort); ConnectionLost is called with nil. After Close it cuts the
// flush short.
func (t *Transport) Abort() error { return t.abort("Transport.Abort") }

// hasQueued, release and tellLost are t's part of its lifecycle.
func (t *Transport) hasQueued() bool { return t.wbuf.len() > 0 }

func (t *Transport) release() {
	t.wbuf.reset()
	if t.sock == nil {
		unix.Close(t.fd)
		return
	}
	// The addresses stay known after the close, looked up before it or
	// not (as the datagram endpoint's, and asyncio's extra info).
	t.LocalAddr()
	t.RemoteAddr()
	t.sock.Close()
}

func (t *Transport) tellLost(err error) {
	if t.server != nil {
		defer t.server.forget(t)
	}
	t.proto.ConnectionLost(err)
}

// IsClosing reports whether the transport is closing or closed (asyncio's
// is_closing).
func (t *Transport) IsClosing() bool { return t.closing }

// WaitClosed waits until the protocol's ConnectionLost has been called,
// and returns the error it was given. It is for tasks of t's loop.
func (t *Transport) WaitClosed(c *aio.Ctx) error { return t.waitClosed(c) }

// PauseReading stops reading until ResumeReading (asyncio's
// pause_reading): no DataReceived comes meanwhile, and the peer's writes
// fill the socket buffers and then block, which is the backpressure a
// protocol gives a fast sender. It does nothing while closing or paused.
func (t *Transport) PauseReading() error {
	if err := t.check("Transport.PauseReading"); err != nil {
		return err
	}
	if t.closing || t.readPaused || !t.canRead {
		return nil
	}
	t.readPaused = true
	t.stopReading()
	return nil
}

// ResumeReading starts reading again after PauseReading.
func (t *Transport) ResumeReading() error {
	if err := t.check("Transport.ResumeReading"); err != nil {
		return err
	}
	if t.closing || !t.readPaused {
		return nil
	}
	t.readPaused = false
	if !t.eofIn {
		t.startReading()
	}
	return nil
}

// IsReading reports whether the transport reads: not paused, not closing,
// not a write pipe.
func (t *Transport) IsReading() bool { return t.canRead && !t.readPaused && !t.closing }

// SetWriteBufferLimits sets the high- and low-water marks of the write
// buffer (asyncio's set_write_buffer_limits): PauseWriting is called when
// the queue grows above high, ResumeWriting when it drains to low. A
// negative high is DefaultHighWater (or 4 times low if low is given); a
// negative low is high/4; low is at most high. High 0 asks for a pause
// whenever anything is queued.
func (t *Transport) SetWriteBufferLimits(high, low int) error {
	return t.setLimits("Transport.SetWriteBufferLimits", high, low, t.wbuf.len())
}

// WriteBufferLimits returns the low- and high-water marks (asyncio's
// get_write_buffer_limits, in its order).
func (t *Transport) WriteBufferLimits() (low, high int) { return t.low, t.high }

// WriteBufferSize returns the number of bytes queued (asyncio's
// get_write_buffer_size).
func (t *Transport) WriteBufferSize() int { return t.wbuf.len() }

// Protocol returns the transport's protocol.
func (t *Transport) Protocol() Protocol { return t.proto }

// SetProtocol switches the transport to p (asyncio's set_protocol): the
// events from now on go to p; ConnectionMade is not called for it.
func (t *Transport) SetProtocol(p Protocol) error {
	if err := t.check("Transport.SetProtocol"); err != nil {
		return err
	}
	if p == nil {
		return fmt.Errorf("transport: SetProtocol: a nil protocol")
	}
	t.setProtocol(p)
	return nil
}

// Socket returns the transport's socket (asyncio's
// get_extra_info("socket")), nil for a pipe. It is for its options and
// addresses: reading, writing or closing it directly breaks the transport.
func (t *Transport) Socket() *socket.Socket { return t.sock }

// Loop returns the transport's loop.
func (t *Transport) Loop() *aio.Loop { return t.loop }

// LocalAddr returns the socket's own address (asyncio's
// get_extra_info("sockname")), nil for a pipe. It is looked up once, and
// stays known after the close.
func (t *Transport) LocalAddr() net.Addr {
	if t.local == nil && t.sock != nil {
		t.local = t.sock.LocalAddr()
	}
	return t.local
}

// RemoteAddr returns the peer's address (asyncio's
// get_extra_info("peername")), nil for a pipe, as LocalAddr.
func (t *Transport) RemoteAddr() net.Addr {
	if t.remote == nil && t.sock != nil {
		t.remote = t.sock.RemoteAddr()
	}
	return t.remote
}
