//go:build linux

package subprocess

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/aiogo/aio/aio"
	"golang.org/x/sys/unix"
)

// readChunk is the size of the reads of ReadLine and ReadAll.
const readChunk = 64 << 10

// A Reader is the parent's end of a child's output pipe (asyncio's
// StreamReader of Process.stdout and stderr), non-blocking and driven by the
// loop's poller. Its methods must be called from tasks of the process's
// loop; a waiting method parks the task, never the loop.
//
// Every wait is cancellable, and a cancelled read loses no bytes: what was
// taken from the pipe and not returned stays in the Reader's buffer for the
// next call. At the end of the stream the Reader closes its descriptor and
// its reads return io.EOF.
type Reader struct {
	fd       int // -1 once released
	name     string
	buf      []byte // read from the pipe, not returned yet
	eof      bool
	closed   bool // by Close or the loop's close: ErrClosed
	watching bool
	q        aio.WaitQueue
	loop     *aio.Loop
	proc     *Process
}

// wait parks the task until the pipe is readable (or the Reader closed).
func (r *Reader) wait(c *aio.Ctx) error {
	if !r.watching {
		r.loop = c.Loop()
		if err := r.loop.AddReader(r.fd, r.onReady); err != nil {
			return fmt.Errorf("subprocess: %s: %w", r.name, err)
		}
		r.watching = true
	}
	return r.q.Park(c)
}

func (r *Reader) onReady() {
	if r.watching {
		r.loop.RemoveReader(r.fd)
		r.watching = false
	}
	r.q.WakeAll()
}

// fill reads once from the pipe into r.buf, waiting for data; it sets eof
// at the end of the stream.
func (r *Reader) fill(c *aio.Ctx) error {
	for {
		if r.closed {
			return ErrClosed
		}
		if r.eof {
			return nil
		}
		if cap(r.buf)-len(r.buf) < 4096 {
			nb := make([]byte, len(r.buf), 2*cap(r.buf)+readChunk)
			copy(nb, r.buf)
			r.buf = nb
		}
		n, err := unix.Read(r.fd, r.buf[len(r.buf):cap(r.buf)])
		switch {
		case n > 0:
			r.buf = r.buf[:len(r.buf)+n]
			return nil
		case err == nil:
			r.eof = true
			r.releaseFd(c.Loop())
			return nil
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := r.wait(c); err != nil {
				return err
			}
		default:
			return fmt.Errorf("subprocess: read %s: %w", r.name, err)
		}
	}
}

// Read reads up to len(p) bytes into p, waiting until at least one is
// there, and returns how many (asyncio's read(n)). At the end of the stream
// it returns 0, io.EOF. A cancelled Read returns 0 and the cancellation.
func (r *Reader) Read(c *aio.Ctx, p []byte) (int, error) {
	if err := r.q.CheckTask(c); err != nil {
		return 0, err
	}
	for {
		if len(r.buf) > 0 {
			n := copy(p, r.buf)
			r.buf = r.buf[n:]
			if len(r.buf) == 0 {
				r.buf = nil
			}
			return n, nil
		}
		if r.closed {
			return 0, ErrClosed
		}
		if r.eof {
			return 0, io.EOF
		}
		if len(p) == 0 {
			return 0, nil
		}
		// Read straight into p: the read is one step of the task, which
		// no cancellation interrupts.
		n, err := unix.Read(r.fd, p)
		switch {
		case n > 0:
			return n, nil
		case err == nil:
			r.eof = true
			r.releaseFd(c.Loop())
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := r.wait(c); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("subprocess: read %s: %w", r.name, err)
		}
	}
}

// ReadLine reads up to and including the next '\n' (asyncio's readline) and
// returns the line, the newline kept. At the end of the stream it returns
// the last, unterminated line with a nil error, and then nil, io.EOF. If it
// is cancelled, the part of the line read so far stays for the next call.
func (r *Reader) ReadLine(c *aio.Ctx) ([]byte, error) {
	if err := r.q.CheckTask(c); err != nil {
		return nil, err
	}
	scanned := 0
	for {
		if i := bytes.IndexByte(r.buf[scanned:], '\n'); i >= 0 {
			return r.take(scanned + i + 1), nil
		}
		scanned = len(r.buf)
		if r.eof {
			if len(r.buf) == 0 {
				return nil, io.EOF
			}
			return r.take(len(r.buf)), nil
		}
		if err := r.fill(c); err != nil {
			return nil, err
		}
	}
}

// take returns the first n bytes of the buffer, in a slice of their own.
func (r *Reader) take(n int) []byte {
	line := bytes.Clone(r.buf[:n])
	r.buf = r.buf[n:]
	if len(r.buf) == 0 {
		r.buf = nil
	}
	return line
}

// ReadAll reads to the end of the stream and returns all of it (asyncio's
// read()), with a nil error at the end (not io.EOF). If it is cancelled, what
// was read stays for the next call.
func (r *Reader) ReadAll(c *aio.Ctx) ([]byte, error) {
	if err := r.q.CheckTask(c); err != nil {
		return nil, err
	}
	for !r.eof {
		if err := r.fill(c); err != nil {
			return nil, err
		}
	}
	out := r.buf
	r.buf = nil
	if out == nil {
		out = []byte{}
	}
	return out, nil
}

// Close closes the Reader's end of the pipe: the child's later writes to
// it fail (EPIPE, or SIGPIPE kills it). Tasks waiting in its reads return
// ErrClosed; data not read is dropped. Closing again does nothing.
func (r *Reader) Close(c *aio.Ctx) error {
	if err := r.q.CheckTask(c); err != nil {
		return err
	}
	r.release(c.Loop())
	return nil
}

// releaseFd closes the descriptor (at the end of the stream), leaving the
// buffer.
func (r *Reader) releaseFd(l *aio.Loop) {
	if r.fd < 0 {
		return
	}
	if r.watching {
		l.RemoveReader(r.fd)
		r.watching = false
	}
	unix.Close(r.fd)
	r.fd = -1
	r.eof = true
	r.proc.maybeUnhook()
	r.q.WakeAll()
}

// release is Close: the descriptor, and the data not read. On the loop's
// close hook too, where the wake is of nobody (no task is left).
func (r *Reader) release(l *aio.Loop) {
	if r.fd >= 0 {
		if r.watching {
			l.RemoveReader(r.fd)
			r.watching = false
		}
		unix.Close(r.fd)
		r.fd = -1
	}
	r.closed = true
	r.buf = nil
	r.proc.maybeUnhook()
	if aio.RunningLoop() == l {
		r.q.WakeAll()
	}
}

// A Writer is the parent's end of the child's standard input (asyncio's
// StreamWriter of Process.stdin), non-blocking and driven by the loop's
// poller. Its methods must be called from tasks of the process's loop.
type Writer struct {
	fd       int
	name     string
	closed   bool
	watching bool
	q        aio.WaitQueue
	loop     *aio.Loop
	proc     *Process
}

// Write writes all of p, waiting while the pipe is full (never blocking the
// loop), and returns the number of bytes written. If the child has closed
// its end (it exited, or closed its stdin), Write returns what it wrote and
// an error matching syscall.EPIPE; the parent is not killed by SIGPIPE.
// Write is cancellable: a cancelled Write returns the bytes written before
// the cancellation, and the cancellation. Writes of several tasks at once
// may interleave.
func (w *Writer) Write(c *aio.Ctx, p []byte) (int, error) {
	if err := w.q.CheckTask(c); err != nil {
		return 0, err
	}
	n := 0
	for {
		if w.closed {
			return n, ErrClosed
		}
		if n == len(p) {
			return n, nil
		}
		m, err := unix.Write(w.fd, p[n:])
		if m > 0 {
			n += m
		}
		switch {
		case err == nil, err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := w.wait(c); err != nil {
				return n, err
			}
		case errors.Is(err, syscall.EPIPE):
			return n, fmt.Errorf("subprocess: write %s: the child closed it: %w", w.name, err)
		default:
			return n, fmt.Errorf("subprocess: write %s: %w", w.name, err)
		}
	}
}

// WriteString is Write of a string.
func (w *Writer) WriteString(c *aio.Ctx, s string) (int, error) {
	return w.Write(c, []byte(s))
}

func (w *Writer) wait(c *aio.Ctx) error {
	if !w.watching {
		w.loop = c.Loop()
		if err := w.loop.AddWriter(w.fd, w.onReady); err != nil {
			return fmt.Errorf("subprocess: %s: %w", w.name, err)
		}
		w.watching = true
	}
	return w.q.Park(c)
}

func (w *Writer) onReady() {
	if w.watching {
		w.loop.RemoveWriter(w.fd)
		w.watching = false
	}
	w.q.WakeAll()
}

// Close closes the child's standard input (asyncio's stdin.close(), or
// write_eof()): the child reads the end of its input. Tasks waiting in
// Write return ErrClosed. Closing again does nothing.
func (w *Writer) Close(c *aio.Ctx) error {
	if err := w.q.CheckTask(c); err != nil {
		return err
	}
	w.release(c.Loop())
	return nil
}

func (w *Writer) release(l *aio.Loop) {
	if w.fd >= 0 {
		if w.watching {
			l.RemoveWriter(w.fd)
			w.watching = false
		}
		unix.Close(w.fd)
		w.fd = -1
	}
	w.closed = true
	w.proc.maybeUnhook()
	if aio.RunningLoop() == l {
		w.q.WakeAll()
	}
}
