//go:build unix

package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
	"golang.org/x/sys/unix"
)

// DefaultLimit is the default ReadUntil and ReadLine limit: 64 KiB, as
// asyncio's.
const DefaultLimit = 64 << 10

// Default write-buffer marks (asyncio's transport defaults).
const (
	DefaultHighWater = 64 << 10
	DefaultLowWater  = 16 << 10
)

// minRead is the room a read into the buffer asks the kernel to fill.
const minRead = 16 << 10

// ErrLimitOverrun is matched (errors.Is) by every *LimitOverrunError.
var ErrLimitOverrun = errors.New("stream: limit overrun")

// ErrConcurrentRead is returned (wrapped) by a read while another task of
// the loop is waiting in a read of the same Stream (asyncio raises
// RuntimeError). It matches aio.ErrInvalidState too.
var ErrConcurrentRead = fmt.Errorf("%w: another task is reading the stream", aio.ErrInvalidState)

// An IncompleteReadError is the error of ReadExactly and ReadUntil when the
// stream ended first (asyncio's IncompleteReadError). Partial holds the
// bytes read before the end (they are consumed); Expected is the size
// ReadExactly asked for (-1 for ReadUntil). It matches io.ErrUnexpectedEOF,
// and io.EOF too when Partial is empty.
type IncompleteReadError struct {
	Partial  []byte
	Expected int
}

// Error says how much was read, and what was expected.
func (e *IncompleteReadError) Error() string {
	if e.Expected < 0 {
		return fmt.Sprintf("stream: %d bytes read before the end of the stream, no separator", len(e.Partial))
	}
	return fmt.Sprintf("stream: %d bytes read of %d expected before the end of the stream", len(e.Partial), e.Expected)
}

// Is matches io.ErrUnexpectedEOF, and io.EOF when nothing was read.
func (e *IncompleteReadError) Is(target error) bool {
	return target == io.ErrUnexpectedEOF || (target == io.EOF && len(e.Partial) == 0)
}

// A LimitOverrunError is the error of ReadUntil and ReadLine when no chunk
// of at most Limit bytes (separator included) ends with a separator
// (asyncio's LimitOverrunError). The data stays in the stream's buffer:
// the stream stays usable (skip Consumed bytes with Read, or read on with
// a larger limit). It matches ErrLimitOverrun.
type LimitOverrunError struct {
	Consumed int // bytes buffered and searched
	Limit    int
	Found    bool // a separator was found, beyond the limit
}

// Error says whether a separator was found, and the limit.
func (e *LimitOverrunError) Error() string {
	if e.Found {
		return fmt.Sprintf("stream: separator found, but the chunk is longer than the limit of %d bytes", e.Limit)
	}
	return fmt.Sprintf("stream: separator not found in %d bytes, more than the limit of %d bytes", e.Consumed, e.Limit)
}

// Is matches ErrLimitOverrun.
func (e *LimitOverrunError) Is(target error) bool { return target == ErrLimitOverrun }

// An Option sets up a Stream (Open, New, Serve).
type Option func(*options)

type options struct {
	limit     int
	high, low int
	sock      []socket.Option
}

func makeOptions(opts []Option) options {
	o := options{limit: DefaultLimit, high: DefaultHighWater, low: DefaultLowWater}
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// WithLimit sets the ReadUntil and ReadLine limit (default DefaultLimit).
// A value < 1 is 1.
func WithLimit(n int) Option { return func(o *options) { o.limit = max(n, 1) } }

// WithWriteBufferLimits sets the write buffer's high- and low-water marks
// (asyncio's set_write_buffer_limits): Drain waits when more than high
// bytes are buffered, until at most low are. low is clamped to [0, high].
func WithWriteBufferLimits(high, low int) Option {
	return func(o *options) {
		o.high = max(high, 0)
		o.low = min(max(low, 0), o.high)
	}
}

// WithSocketOptions passes options to socket.Connect or socket.Listen.
func WithSocketOptions(opts ...socket.Option) Option {
	return func(o *options) { o.sock = append(o.sock, opts...) }
}

// A Stream is a connected stream socket with a read buffer and a write
// buffer: asyncio's StreamReader and StreamWriter in one. Its methods must
// be called from tasks of the loop it was made on (see the package doc).
type Stream struct {
	sock          *socket.Socket
	local, remote net.Addr
	o             options

	rbuf    []byte // buffered input is rbuf[r:]
	r       int
	eof     bool
	reading bool

	wbuf     []byte // unsent output
	werr     error  // sticky write error
	flushing bool   // a flusher task is running
	flusher  aio.AnyTask
	drainQ   aio.WaitQueue
	eofReq   bool // WriteEOF asked while a flush runs
	closing  bool
	closed   bool
	closeErr error
	closedQ  aio.WaitQueue
	upgraded bool   // StartTLS took the connection: reads and writes fail
	untrack  func() // ends the loop's debug-mode tracking (aio.Loop.TrackResource); nil if untracked
}

// Open connects to addr (asyncio's open_connection and, with "unix",
// open_unix_connection) and returns a Stream on the connection: over TCP
// with socket.Dial (a host name is resolved off the loop thread, and the
// addresses are tried with happy eyeballs), otherwise with
// socket.Connect. Bound it with aio.WithTimeout.
func Open(c *aio.Ctx, network, addr string, opts ...Option) (*Stream, error) {
	o := makeOptions(opts)
	var sock *socket.Socket
	var err error
	switch network {
	case "tcp", "tcp4", "tcp6": // host names too, with happy eyeballs
		sock, err = socket.Dial(c, network, addr, socket.WithSocketOptions(o.sock...))
	default:
		sock, err = socket.Connect(c, network, addr, o.sock...)
	}
	if err != nil {
		return nil, err
	}
	s := newStream(sock, o)
	s.untrack = c.Loop().TrackResource("stream", func() string { return fmt.Sprintf("to %v", s.remote) })
	return s, nil
}

// New returns a Stream on a connected stream Socket, which becomes the
// Stream's: Close closes it.
func New(sock *socket.Socket, opts ...Option) *Stream {
	return newStream(sock, makeOptions(opts))
}

func newStream(sock *socket.Socket, o options) *Stream {
	return &Stream{sock: sock, o: o, local: sock.LocalAddr(), remote: sock.RemoteAddr()}
}

// Socket returns the Stream's socket.
func (s *Stream) Socket() *socket.Socket { return s.sock }

// LocalAddr returns the local address.
func (s *Stream) LocalAddr() net.Addr { return s.local }

// RemoteAddr returns the peer's address.
func (s *Stream) RemoteAddr() net.Addr { return s.remote }

// Buffered returns the number of bytes read from the socket and not yet
// consumed.
func (s *Stream) Buffered() int { return len(s.rbuf) - s.r }

// AtEOF reports whether the peer ended the stream and the buffer is empty
// (asyncio's at_eof).
func (s *Stream) AtEOF() bool { return s.eof && s.Buffered() == 0 }

// Limit returns the ReadUntil and ReadLine limit.
func (s *Stream) Limit() int { return s.o.limit }

// beginRead marks a read in progress.
func (s *Stream) beginRead() error {
	if s.upgraded {
		return fmt.Errorf("%w: read", ErrUpgraded)
	}
	if s.closed {
		return fmt.Errorf("stream: read: %w", net.ErrClosed)
	}
	if s.reading {
		return ErrConcurrentRead
	}
	s.reading = true
	return nil
}

func (s *Stream) endRead() { s.reading = false }

// fill reads once from the socket into the buffer. At the end of the
// stream it sets s.eof and returns nil. A cancelled fill has taken nothing.
func (s *Stream) fill(c *aio.Ctx) error {
	if s.eof {
		return nil
	}
	if s.r > 0 && (s.r == len(s.rbuf) || cap(s.rbuf)-len(s.rbuf) < minRead) {
		n := copy(s.rbuf, s.rbuf[s.r:])
		s.rbuf = s.rbuf[:n]
		s.r = 0
	}
	if cap(s.rbuf)-len(s.rbuf) < minRead {
		nb := make([]byte, len(s.rbuf), 2*cap(s.rbuf)+minRead)
		copy(nb, s.rbuf)
		s.rbuf = nb
	}
	n, err := s.sock.RecvInto(c, s.rbuf[len(s.rbuf):cap(s.rbuf)])
	s.rbuf = s.rbuf[:len(s.rbuf)+n]
	if err == io.EOF {
		s.eof = true
		return nil
	}
	return err
}

// take consumes and returns a copy of the first n buffered bytes.
func (s *Stream) take(n int) []byte {
	out := make([]byte, n)
	copy(out, s.rbuf[s.r:s.r+n])
	s.consume(n)
	return out
}

func (s *Stream) consume(n int) {
	s.r += n
	if s.r == len(s.rbuf) {
		s.r, s.rbuf = 0, s.rbuf[:0]
	}
}

// Read returns up to n bytes (asyncio's read(n)): what is buffered, or,
// if nothing is, what one read from the socket brings. At the end of the
// stream it returns nil, io.EOF (asyncio returns b""). n < 0 reads until
// the end of the stream and returns it all with a nil error. A cancelled
// Read loses no bytes: they stay for the next read.
func (s *Stream) Read(c *aio.Ctx, n int) ([]byte, error) {
	if err := s.beginRead(); err != nil {
		return nil, err
	}
	defer s.endRead()
	if n < 0 {
		for !s.eof {
			if err := s.fill(c); err != nil {
				return nil, err
			}
		}
		return s.take(s.Buffered()), nil
	}
	if n == 0 {
		return []byte{}, nil
	}
	for s.Buffered() == 0 {
		if s.eof {
			return nil, io.EOF
		}
		if err := s.fill(c); err != nil {
			return nil, err
		}
	}
	return s.take(min(n, s.Buffered())), nil
}

// ReadInto is Read into p: it returns the number of bytes copied. At the
// end of the stream it returns 0, io.EOF. It is what a Conn's Read does.
func (s *Stream) ReadInto(c *aio.Ctx, p []byte) (int, error) {
	if err := s.beginRead(); err != nil {
		return 0, err
	}
	defer s.endRead()
	return s.readInto(c, p)
}

// readInto is ReadInto's body, the read begun.
func (s *Stream) readInto(c *aio.Ctx, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for s.Buffered() == 0 {
		if s.eof {
			return 0, io.EOF
		}
		if err := s.fill(c); err != nil {
			return 0, err
		}
	}
	n := copy(p, s.rbuf[s.r:])
	s.consume(n)
	return n, nil
}

// ReadExactly reads exactly n bytes (asyncio's readexactly). If the stream
// ends first it returns an *IncompleteReadError holding the bytes read
// (consumed). A cancelled ReadExactly consumes nothing.
func (s *Stream) ReadExactly(c *aio.Ctx, n int) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("stream: ReadExactly: negative size %d", n)
	}
	if err := s.beginRead(); err != nil {
		return nil, err
	}
	defer s.endRead()
	for s.Buffered() < n {
		if s.eof {
			return nil, &IncompleteReadError{Partial: s.take(s.Buffered()), Expected: n}
		}
		if err := s.fill(c); err != nil {
			return nil, err
		}
	}
	return s.take(n), nil
}

// ReadLine reads a line ending in '\n', which it includes (asyncio's
// readline). At the end of the stream it returns what is left (possibly
// without '\n') with a nil error, and nil, io.EOF when nothing is left. A
// line longer than the limit (its '\n' included) is a *LimitOverrunError
// and stays in the buffer (asyncio discards it; here the caller chooses).
func (s *Stream) ReadLine(c *aio.Ctx) ([]byte, error) {
	b, err := s.ReadUntil(c, []byte{'\n'})
	var ie *IncompleteReadError
	if errors.As(err, &ie) {
		if len(ie.Partial) == 0 {
			return nil, io.EOF
		}
		return ie.Partial, nil
	}
	return b, err
}

// ReadUntil reads until one of the separators and returns the data with
// the separator (asyncio's readuntil, with several separators as in
// asyncio 3.13): the shortest chunk of the stream that ends with any of
// them. If no chunk of at most the limit (WithLimit) ends with a separator,
// it returns a *LimitOverrunError and leaves the data in the buffer. If
// the stream ends first, it returns an *IncompleteReadError whose Partial
// is the rest of the stream (consumed). Separators must not be empty. A
// cancelled ReadUntil consumes nothing.
func (s *Stream) ReadUntil(c *aio.Ctx, seps ...[]byte) ([]byte, error) {
	if len(seps) == 0 {
		return nil, errors.New("stream: ReadUntil: no separator")
	}
	for _, sep := range seps {
		if len(sep) == 0 {
			return nil, errors.New("stream: ReadUntil: an empty separator")
		}
	}
	if err := s.beginRead(); err != nil {
		return nil, err
	}
	defer s.endRead()
	limit := s.o.limit
	for {
		data := s.rbuf[s.r:]
		if end := findSep(data, seps); end >= 0 {
			if end > limit {
				return nil, &LimitOverrunError{Consumed: len(data), Limit: limit, Found: true}
			}
			return s.take(end), nil
		}
		if len(data) >= limit {
			return nil, &LimitOverrunError{Consumed: len(data), Limit: limit}
		}
		if s.eof {
			return nil, &IncompleteReadError{Partial: s.take(len(data)), Expected: -1}
		}
		if err := s.fill(c); err != nil {
			return nil, err
		}
	}
}

// findSep returns the end of the shortest prefix of data ending with one
// of seps, or -1.
func findSep(data []byte, seps [][]byte) int {
	best := -1
	for _, sep := range seps {
		hay := data
		if best >= 0 {
			hay = data[:best]
		}
		if i := bytes.Index(hay, sep); i >= 0 {
			best = i + len(sep)
		}
	}
	return best
}

// Write buffers b for sending (asyncio's StreamWriter.write): it sends at
// once what the socket takes without waiting, keeps the rest, and a
// flusher task of the loop sends it as the socket allows. It never waits;
// call Drain for flow control. It returns an error matching net.ErrClosed
// after Close or WriteEOF, and the error a previous send met (a peer reset:
// syscall.ECONNRESET or syscall.EPIPE).
func (s *Stream) Write(c *aio.Ctx, b []byte) error {
	if err := s.writable("write"); err != nil {
		return err
	}
	return s.write(c, b)
}

// write is Write's body, the stream found writable.
func (s *Stream) write(c *aio.Ctx, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if !s.flushing && len(s.wbuf) == 0 {
		n, err := s.sendNow(b)
		if err != nil {
			return err
		}
		b = b[n:]
		if len(b) == 0 {
			return nil
		}
	}
	s.wbuf = append(s.wbuf, b...)
	return s.startFlush(c)
}

func (s *Stream) writable(op string) error {
	if s.upgraded {
		return fmt.Errorf("%w: %s", ErrUpgraded, op)
	}
	return s.canWrite(op)
}

// canWrite is writable but for the upgrade (the TLS layer's writes).
func (s *Stream) canWrite(op string) error {
	switch {
	case s.closing || s.closed:
		return fmt.Errorf("stream: %s: %w", op, net.ErrClosed)
	case s.eofReq:
		return fmt.Errorf("stream: %s after WriteEOF: %w", op, net.ErrClosed)
	case s.werr != nil:
		return s.werr
	}
	return nil
}

// sendNow is one non-blocking send of b.
func (s *Stream) sendNow(b []byte) (int, error) {
	for {
		n, err := unix.Write(s.sock.Fd(), b)
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
		case unix.EAGAIN:
			return 0, nil
		default:
			s.werr = fmt.Errorf("stream: write: %w", err)
			return 0, s.werr
		}
	}
}

// startFlush starts the flusher task if none runs.
func (s *Stream) startFlush(c *aio.Ctx) error {
	if s.flushing {
		return nil
	}
	t, err := aio.Spawn(c.Loop(), s.flush, aio.WithName("stream flusher"))
	if err != nil {
		return err
	}
	s.flushing = true
	s.flusher = t
	return nil
}

// flush is the flusher task's body: it sends the buffer, waking drainers
// whenever it falls to the low-water mark, and ends when the buffer is
// empty, on an error (kept for later writes and drains), or when
// cancelled (Abort, or the loop's end), and then finishes a pending
// WriteEOF or Close.
func (s *Stream) flush(c *aio.Ctx) (struct{}, error) {
	defer func() {
		s.flushing = false
		s.flusher = nil
		s.drainQ.WakeAll()
		if s.eofReq && s.werr == nil && !s.closed {
			s.sock.ShutdownWrite()
		}
		if s.closing && !s.closed {
			s.finishClose()
		}
	}()
	for len(s.wbuf) > 0 && s.werr == nil && !s.closed {
		n, err := s.sock.Send(c, s.wbuf)
		if n > 0 {
			s.wbuf = append(s.wbuf[:0], s.wbuf[n:]...)
			if len(s.wbuf) <= s.o.low {
				s.drainQ.WakeAll()
			}
		}
		if err != nil {
			if s.werr == nil {
				s.werr = fmt.Errorf("stream: write: %w", err)
			}
			s.wbuf = nil
			return struct{}{}, nil
		}
	}
	if len(s.wbuf) == 0 {
		s.wbuf = s.wbuf[:0:min(cap(s.wbuf), 64<<10)]
	}
	return struct{}{}, nil
}

// WriteBuffered returns the number of bytes written and not sent yet.
func (s *Stream) WriteBuffered() int { return len(s.wbuf) }

// Drain waits until the write buffer is at most the low-water mark, if it
// is above the high-water mark (asyncio's drain). Several tasks may drain
// at once: each returns when the buffer is low enough, or with the error
// the flusher met (gh-74116: none is left waiting). A cancelled Drain
// leaves the buffered data to be sent.
func (s *Stream) Drain(c *aio.Ctx) error {
	if s.upgraded {
		return fmt.Errorf("%w: drain", ErrUpgraded)
	}
	return s.drainTo(c, s.o.high, s.o.low)
}

// drainTo waits, if more than high bytes are buffered, until at most low
// are.
func (s *Stream) drainTo(c *aio.Ctx, high, low int) error {
	if err := s.drainQ.CheckTask(c); err != nil {
		return err
	}
	if s.werr != nil {
		return s.werr
	}
	if len(s.wbuf) <= high {
		return nil
	}
	for len(s.wbuf) > low {
		if s.werr != nil {
			return s.werr
		}
		if !s.flushing {
			if s.closed {
				return fmt.Errorf("stream: drain: %w", net.ErrClosed)
			}
			if err := s.startFlush(c); err != nil {
				return err
			}
		}
		if err := s.drainQ.Park(c); err != nil {
			return err
		}
	}
	return s.werr
}

// WriteEOF shuts down the sending side once the buffered data is sent
// (asyncio's write_eof): the peer reads the end of the stream, and reading
// goes on. Later writes return an error matching net.ErrClosed.
func (s *Stream) WriteEOF() error {
	if err := s.writable("WriteEOF"); err != nil {
		return err
	}
	s.eofReq = true
	if s.flushing {
		return nil
	}
	return s.sock.ShutdownWrite()
}

// Close closes the stream (asyncio's close): once the buffered data is
// sent (or the flusher fails), the socket is closed; WaitClosed waits for
// that. Reads waiting on the stream then return an error matching
// net.ErrClosed, as do later operations. Closing again does nothing. Call
// it on the stream's loop.
func (s *Stream) Close() error {
	if s.closing || s.closed {
		return nil
	}
	s.closing = true
	if s.flushing {
		return nil
	}
	return s.finishClose()
}

// Abort closes the stream at once, dropping unsent data (asyncio's
// transport.abort).
func (s *Stream) Abort() error {
	if s.closed {
		return nil
	}
	s.closing = true
	s.wbuf = nil
	if s.flushing {
		s.flusher.Cancel(errAbort)
		return nil
	}
	return s.finishClose()
}

var errAbort = errors.New("stream: aborted")

func (s *Stream) finishClose() error {
	s.closed = true
	if s.untrack != nil {
		s.untrack()
	}
	s.wbuf = nil
	if s.werr == nil {
		s.werr = fmt.Errorf("stream: write: %w", net.ErrClosed)
	}
	err := s.sock.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	s.closeErr = err
	s.drainQ.WakeAll()
	s.closedQ.WakeAll()
	return err
}

// IsClosing reports whether Close or Abort was called (asyncio's
// is_closing).
func (s *Stream) IsClosing() bool { return s.closing || s.closed }

// WaitClosed waits until a closed stream's socket is closed (asyncio's
// wait_closed) and returns the close's error. It returns at once if the
// stream is closed, and waits (for Close to be called) otherwise.
func (s *Stream) WaitClosed(c *aio.Ctx) error {
	if err := s.closedQ.CheckTask(c); err != nil {
		return err
	}
	for !s.closed {
		if err := s.closedQ.Park(c); err != nil {
			return err
		}
	}
	return s.closeErr
}
