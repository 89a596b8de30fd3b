//go:build unix

package loops

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
	"github.com/aiogo/aio/aio/stream"
	"github.com/aiogo/aio/aio/transport"
)

// Moving a connection between loops. What moves is the connection itself,
// the kernel's socket with what the kernel holds for it (bytes received and
// not read yet, bytes sent and not acknowledged): a duplicate of the
// descriptor goes to the target loop, which makes a new Stream or Transport
// on it, and the old one is closed on its loop (closing one of two
// descriptors of a socket neither shuts it down nor resets it). What the
// Stream or Transport holds in user space does not move, so only idle
// connections move: with nothing in the read buffer (a Stream's Buffered)
// nor in the write buffer (WriteBuffered, WriteBufferSize); anything else is
// refused with ErrNotIdle and the connection stays where it is. Drain
// before a move (Stream.Drain waits to the low-water mark only: move when
// WriteBuffered is 0), and move at a message boundary. State of the
// program's own (a protocol's fields, a session) moves as the program
// passes it: the new protocol, or the handler's closure.

// fdConn is a syscall.Conn over a raw descriptor, for socket.FromConn,
// which duplicates it.
type fdConn int

func (f fdConn) SyscallConn() (syscall.RawConn, error) { return rawFD(f), nil }

type rawFD int

func (r rawFD) Control(fn func(fd uintptr)) error { fn(uintptr(r)); return nil }
func (rawFD) Read(func(fd uintptr) bool) error    { return errors.ErrUnsupported }
func (rawFD) Write(func(fd uintptr) bool) error   { return errors.ErrUnsupported }

// dupSocket returns a new, unbound Socket on a duplicate of s's descriptor.
func dupSocket(s *socket.Socket) (*socket.Socket, error) {
	if s == nil || s.Fd() < 0 {
		return nil, fmt.Errorf("loops: move: %w", net.ErrClosed)
	}
	return socket.FromConn(fdConn(s.Fd()))
}

// MoveStream moves the connection of s, a Stream of c's loop, to the loop
// target: a new task of target runs handler with a new Stream on the
// connection (made with opts), and s is closed (aborted: the tasks waiting
// in it get net.ErrClosed). MoveStream returns once the handler's task is
// started, with the handler's task, which belongs to target (wait for it
// with Task.Wait from a plain goroutine, or through Call). When the handler
// returns nil the new Stream is closed after its buffer is sent; otherwise
// it is aborted.
//
// Only an idle Stream moves (see above): one with bytes buffered is refused
// with an error matching ErrNotIdle and stays open and usable. On a closed
// target MoveStream returns an error matching aio.ErrClosed, and s stays
// open.
func MoveStream(c *aio.Ctx, s *stream.Stream, target *aio.Loop, handler stream.Handler, opts ...stream.Option) (*aio.Task[struct{}], error) {
	if s == nil || handler == nil || target == nil {
		return nil, errors.New("loops: MoveStream: a nil stream, target or handler")
	}
	if err := check(c, "MoveStream"); err != nil {
		return nil, err
	}
	if s.IsClosing() {
		return nil, fmt.Errorf("loops: MoveStream: %w", net.ErrClosed)
	}
	if n, w := s.Buffered(), s.WriteBuffered(); n > 0 || w > 0 {
		return nil, fmt.Errorf("%w: MoveStream: %d bytes read and not consumed, %d not sent", ErrNotIdle, n, w)
	}
	dup, err := dupSocket(s.Socket())
	if err != nil {
		return nil, err
	}
	var own ownership
	t, err, _ := callFunc(c, target, func() (*aio.Task[struct{}], error) {
		if !own.take() {
			return nil, errCanceledFirst
		}
		return spawnHandler(target, dup, handler, opts, nil)
	})
	if own.keep() {
		dup.Close() // not handed over: s keeps the connection
		return nil, err
	}
	// Handed over (if c was cancelled meanwhile, err says so with
	// ErrCompleted; the move happened all the same).
	s.Abort()
	return t, err
}

// ownership says who closes a duplicate descriptor sent to another loop:
// the target if its callback ran (take), the sender otherwise (keep, after
// the call returned).
type ownership struct{ v atomic.Int32 }

func (o *ownership) take() bool { return o.v.CompareAndSwap(0, 1) }
func (o *ownership) keep() bool { return o.v.CompareAndSwap(0, 2) }

// spawnHandler starts handler on l, in a task that owns a Stream on sock:
// started eagerly, so that the stream is closed whatever becomes of the
// task. On l.
func spawnHandler(l *aio.Loop, sock *socket.Socket, handler stream.Handler, opts []stream.Option, done func(err error)) (*aio.Task[struct{}], error) {
	st := stream.New(sock, opts...)
	t, err := aio.Spawn(l, func(c *aio.Ctx) (struct{}, error) {
		err := runHandler(c, st, handler)
		if done != nil {
			done(err)
		}
		return struct{}{}, err
	}, aio.WithEagerStart(), aio.WithName("loops stream handler"))
	if err != nil {
		sock.Close()
		return nil, err
	}
	return t, nil
}

// runHandler runs handler on st and closes st: gracefully when the handler
// returned nil, by an abort otherwise.
func runHandler(c *aio.Ctx, st *stream.Stream, handler stream.Handler) (err error) {
	defer st.Abort() // also when the handler panics
	err = handler(c, st)
	if err == nil {
		st.Close()
		st.WaitClosed(c)
	}
	return err
}

// MoveTransport moves the connection of t, a Transport of c's loop, to the
// loop target: a new Transport on the connection, with the protocol p
// (whose ConnectionMade is called on target, then reading starts there), is
// made on target and returned; it belongs to target. t is closed: its
// protocol is first replaced by one that ignores everything, so the old
// protocol gets no ConnectionLost (the connection is not lost: it moved).
//
// Only an idle Transport moves: one with bytes in its write buffer is
// refused with an error matching ErrNotIdle, and a closing one with
// net.ErrClosed; both stay as they were. (A transport has no read buffer:
// what it read was given to the protocol.) A reading paused with
// PauseReading resumes on target. On a closed target MoveTransport returns
// an error matching aio.ErrClosed, and t stays open.
func MoveTransport(c *aio.Ctx, t *transport.Transport, target *aio.Loop, p transport.Protocol, opts ...transport.Option) (*transport.Transport, error) {
	if t == nil || p == nil || target == nil {
		return nil, errors.New("loops: MoveTransport: a nil transport, target or protocol")
	}
	if err := check(c, "MoveTransport"); err != nil {
		return nil, err
	}
	if t.Loop() != c.Loop() {
		return nil, fmt.Errorf("loops: MoveTransport: %w: a transport of another loop", aio.ErrInvalidState)
	}
	if t.IsClosing() {
		return nil, fmt.Errorf("loops: MoveTransport: %w", net.ErrClosed)
	}
	if n := t.WriteBufferSize(); n > 0 {
		return nil, fmt.Errorf("%w: MoveTransport: %d bytes not sent", ErrNotIdle, n)
	}
	dup, err := dupSocket(t.Socket())
	if err != nil {
		return nil, err
	}
	// Nothing is read on this loop while the connection travels.
	wasReading := t.IsReading()
	t.PauseReading()
	var own ownership
	nt, err, _ := callFunc(c, target, func() (*transport.Transport, error) {
		if !own.take() {
			return nil, errCanceledFirst
		}
		return transport.New(target, dup, p, opts...) // closes dup on an error
	})
	if own.keep() {
		dup.Close()
	}
	if nt == nil {
		if wasReading {
			t.ResumeReading()
		}
		if err == nil {
			err = errors.New("loops: MoveTransport: no transport made")
		}
		return nil, err
	}
	t.SetProtocol(transport.BaseProtocol{})
	t.Abort()
	return nt, err
}

// errCanceledFirst is the target's answer to a move whose caller gave up
// first; the caller never sees it (it returns its cancellation).
var errCanceledFirst = errors.New("loops: move canceled before it began")
