//go:build unix

package transport

import (
	"errors"

	"github.com/aiogo/aio/aio/socket"
)

// A Protocol receives the events of a connection from its Transport
// (asyncio's Protocol). The transport calls it on its loop, from
// callbacks, never from a task: a method must not wait (it cannot await)
// and should return quickly.
//
// The calls come in this order: ConnectionMade once; DataReceived any
// number of times; EOFReceived at most once, after which no data comes;
// ConnectionLost exactly once, last, also when ConnectionMade closed the
// transport.
type Protocol interface {
	// ConnectionMade is called when the connection is set up, with its
	// transport, which the protocol keeps to write with.
	ConnectionMade(t *Transport)
	// DataReceived is called with the bytes read from the connection.
	// data is the transport's read buffer, valid only until DataReceived
	// returns: copy what must be kept (writing it back with Write is
	// fine: the transport copies what it cannot send at once).
	DataReceived(data []byte)
	// EOFReceived is called when the peer has shut down its sending side
	// (a TCP FIN, or the end of a pipe). Returning false closes the
	// transport (asyncio's default); true keeps it open for writing, the
	// protocol closing it itself later. A read pipe closes anyway.
	EOFReceived() (keepOpen bool)
	// ConnectionLost is called once the transport is closed: err is nil
	// after Close or Abort and for the end of a read pipe, and otherwise
	// what broke the connection (a read or write error, matching
	// syscall.ECONNRESET or syscall.EPIPE for a peer that went away, or
	// aio.ErrClosed when the loop closed under an open transport).
	ConnectionLost(err error)
}

// A BufferedProtocol is a Protocol that provides the buffer the
// transport reads into (asyncio's BufferedProtocol), so that received
// bytes are not copied: the transport calls GetBuffer, reads into the
// slice it returns, and calls BufferUpdated with the number of bytes
// read. DataReceived is not called for a BufferedProtocol (embed
// BaseProtocol for it).
type BufferedProtocol interface {
	Protocol
	// GetBuffer returns the slice to read into, of length at least 1.
	// sizeHint is the size the transport suggests (-1: any size).
	GetBuffer(sizeHint int) []byte
	// BufferUpdated is called with the number of bytes read into the
	// slice the last GetBuffer returned, at its start.
	BufferUpdated(n int)
}

// A WriteFlowController is a Protocol that is told when its transport's
// write buffer crosses its limits (asyncio's pause_writing and
// resume_writing): PauseWriting when the buffer grows above the high-water
// mark, ResumeWriting when it has drained to the low-water mark or below.
// The two alternate, PauseWriting first. Writing while paused still works:
// the transport buffers it; pausing is a request to stop producing.
type WriteFlowController interface {
	PauseWriting()
	ResumeWriting()
}

// BaseProtocol has methods that do nothing for every method of Protocol
// and WriteFlowController (EOFReceived returns false): embed it in a
// protocol and write only the methods it needs.
type BaseProtocol struct{}

// ConnectionMade does nothing.
func (BaseProtocol) ConnectionMade(*Transport) {}

// DataReceived drops the data.
func (BaseProtocol) DataReceived([]byte) {}

// EOFReceived returns false: the transport closes.
func (BaseProtocol) EOFReceived() bool { return false }

// ConnectionLost does nothing.
func (BaseProtocol) ConnectionLost(error) {}

// PauseWriting does nothing.
func (BaseProtocol) PauseWriting() {}

// ResumeWriting does nothing.
func (BaseProtocol) ResumeWriting() {}

// Errors of the package, matched with errors.Is. Operations on a closed
// transport or server return errors matching net.ErrClosed.
var (
	// ErrWriteAfterEOF is the error of a Write after WriteEOF.
	ErrWriteAfterEOF = errors.New("transport: write after WriteEOF")
	// ErrNotSupported is the error of an operation the transport's kind
	// does not have: WriteEOF on a datagram socket or a read pipe, Write
	// on a read pipe.
	ErrNotSupported = errors.New("transport: operation not supported")
	// ErrProtocolPanic is given to ConnectionLost when a method of the
	// protocol panicked while the transport was calling it: the
	// transport is aborted, and the panic goes on to the loop, which
	// reports it through its error handler.
	ErrProtocolPanic = errors.New("transport: the protocol panicked")
)

// An Option sets up a transport, a server or a datagram endpoint.
type Option func(*options)

type options struct {
	high, low int
	noServe   bool
	sockOpts  []socket.Option
	dialOpts  []socket.DialOption
}

// Default write-buffer limits, as asyncio's: 64 KiB, and a quarter of it.
const (
	DefaultHighWater = 64 << 10
	DefaultLowWater  = DefaultHighWater / 4
)

func makeOptions(opts []Option) options {
	o := options{high: DefaultHighWater, low: DefaultLowWater}
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// WithWriteBufferLimits sets the high- and low-water marks of the write
// buffer (asyncio's set_write_buffer_limits, as keyword arguments): see
// Transport.SetWriteBufferLimits.
func WithWriteBufferLimits(high, low int) Option {
	return func(o *options) { o.high, o.low = limits(high, low) }
}

// WithSocketOptions passes options to the sockets the package makes
// (socket.WithReusePort, WithNoDelay, WithBacklog).
func WithSocketOptions(opts ...socket.Option) Option {
	return func(o *options) { o.sockOpts = append(o.sockOpts, opts...) }
}

// WithDialOptions passes options to socket.Dial for Connect over TCP
// (socket.WithAttemptDelay).
func WithDialOptions(opts ...socket.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// WithoutServing makes Serve return a server that does not accept yet
// (asyncio's start_serving=False): Start starts it.
func WithoutServing() Option { return func(o *options) { o.noServe = true } }

// limits normalises a pair of water marks as asyncio does: a negative
// high is DefaultHighWater, or 4 times low if low was given; a negative
// low is high/4; low is at most high.
func limits(high, low int) (int, int) {
	if high < 0 {
		if low < 0 {
			high = DefaultHighWater
		} else {
			high = 4 * low
		}
	}
	if low < 0 {
		low = high / 4
	}
	return high, min(low, high)
}
