//go:build unix

package transport

import "github.com/aiogo/aio/aio"

// The closing rules of the package's transports.
//
// A stream Transport and a DatagramTransport open, watch, pace and close
// their descriptor the same way; the rules are written once, here, in the
// lifecycle record each of them embeds. What differs is behind the
// endpoint interface: what is queued, what the descriptor is (a socket, or
// a pipe's bare fd), what outlives it, and whom ConnectionLost goes to.
// What each kind keeps of its own is how it reads and writes (a byte
// stream with EOF and half-close, or datagrams with addresses) and what
// an error of a send does: it loses a stream; a datagram endpoint reports
// it and stays open.
//
//   - The writer callback is registered once (startWriting), however
//     many writes find the socket full, and takes one clock hold on a
//     virtual clock, released when the queue is sent or dropped.
//   - The water marks (maybePause, maybeResume) are checked as the queue
//     grows, after each pass of the writer callback (so that a protocol is
//     resumed when the queue is down to the low mark, not only when it is
//     empty), and when SetWriteBufferLimits changes them.
//   - Close is graceful: from its call on nothing more is written
//     (closing), reading stops at once, and the queued output is sent;
//     when the queue is empty (at once, or when the writer callback has
//     drained it, after a ResumeWriting that may queue more: drained) the
//     close completes as Abort's, with a nil error. A second Close, or a
//     Close after Abort, does nothing and returns nil.
//   - Abort, an I/O error, a protocol's panic and the loop's close all
//     end in forceClose(err), which acts once (the first error is the one
//     ConnectionLost gets), in this order: no longer tracked by the loop's
//     debug mode; the reader and writer watches dropped (a blocked write's
//     clock hold released); the queued output dropped and what must
//     outlive the descriptor kept (its addresses); the descriptor closed;
//     and ConnectionLost(err) scheduled with CallSoon, so that it runs in
//     a callback of its own, after the call that closed the transport
//     (Close, Abort, Write, a protocol's method) has returned.
//   - callLost calls ConnectionLost once, and then, also when it panics:
//     the endpoint's own follow-up (a server forgets its connection), the
//     loop's state forgets the transport, and the tasks in WaitClosed are
//     woken; WaitClosed returns the error ConnectionLost got.
//   - The loop's close (loopClosed, a close hook, run after the loop's
//     tasks have ended) aborts a transport still open with aio.ErrClosed,
//     and calls ConnectionLost at once, since callbacks no longer run;
//     the watches are not removed (the poller goes with the loop). A
//     transport already lost whose ConnectionLost was scheduled but not
//     run (the close dropped the callback) gets it then, with its own
//     error: ConnectionLost is never skipped.
//
// Everything here runs on the transport's loop.

// An endpoint is the half of a transport that its kind owns, as the
// lifecycle sees it.
type endpoint interface {
	// hasQueued reports whether output waits to be sent: a Close waits
	// for it.
	hasQueued() bool
	// release drops the queued output and closes the descriptor, keeping
	// what must outlive it. The descriptor's watches are gone already.
	release()
	// tellLost calls the protocol's ConnectionLost(err), and then what
	// of the kind's own must follow it, also when it panics.
	tellLost(err error)
}

// A lifecycle is what a transport's opening, watching, write flow control
// and closing need: the loop's state, the descriptor and its watches, the
// water marks, the closing flags, the error ConnectionLost gets and the
// tasks that wait for it.
type lifecycle struct {
	st   *loopState
	loop *aio.Loop
	ep   endpoint // the transport that embeds the record
	fd   int      // the watched descriptor; -1 once closed

	reading  bool // the reader callback is registered
	writerOn bool // the writer callback is registered
	closing  bool // Close, Abort or a fatal error: no more writes
	lost     bool // the fd is closed, ConnectionLost scheduled
	lostDone bool // ConnectionLost has been called
	lostErr  error

	flow        WriteFlowController // the protocol, if it wants flow control
	high, low   int                 // the water marks of the write queue
	writePaused bool                // PauseWriting called and ResumeWriting not yet

	readFn, writeFn, lostFn func()
	writeHold               func()        // releases the clock hold of a blocked write
	closedQ                 aio.WaitQueue // tasks in WaitClosed; binds the transport to its loop
	untrack                 func()        // ends the loop's debug-mode tracking (aio.Loop.TrackResource)
}

// open sets the record up for ep, whose descriptor is fd and whose
// readiness callbacks are readFn and writeFn, on st's loop: tracked in
// debug mode as kind (described by describe), and closed by the loop's
// close. It does not watch fd yet (startReading does).
func (l *lifecycle) open(st *loopState, ep endpoint, fd int, readFn, writeFn func(), kind string, describe func() string) {
	l.st, l.loop, l.ep, l.fd = st, st.loop, ep, fd
	l.readFn, l.writeFn, l.lostFn = readFn, writeFn, l.callLost
	l.untrack = l.loop.TrackResource(kind, describe)
	st.open[l] = struct{}{}
}

// check is the top of every method: on the transport's loop. It may be
// called before open (it binds the record to the caller's loop).
func (l *lifecycle) check(method string) error {
	return l.closedQ.CheckLoop(method)
}

// protect runs a call of the protocol; if it panics, the transport is
// aborted with ErrProtocolPanic and the panic goes on to the loop.
func (l *lifecycle) protect(call func()) {
	ok := false
	defer func() {
		if !ok {
			l.forceClose(ErrProtocolPanic)
		}
	}()
	call()
	ok = true
}

// startReading registers the reader callback; a failure to watch the
// descriptor aborts the transport with it.
func (l *lifecycle) startReading() {
	if l.reading || l.lost {
		return
	}
	if err := l.loop.AddReader(l.fd, l.readFn); err != nil {
		l.forceClose(opError("watch", err))
		return
	}
	l.reading = true
}

func (l *lifecycle) stopReading() {
	if !l.reading {
		return
	}
	l.reading = false
	if !l.st.closed {
		l.loop.RemoveReader(l.fd)
	}
}

// startWriting registers the writer callback, if it is not yet, and
// returns the error of the watch; what to do with one is the caller's
// (the stream transport is lost, a datagram endpoint drops a datagram).
func (l *lifecycle) startWriting() error {
	if l.writerOn {
		return nil
	}
	if err := l.loop.AddWriter(l.fd, l.writeFn); err != nil {
		return err
	}
	l.writerOn = true
	// On a virtual clock, bytes waiting for the peer to read hold the
	// clock (reading does not: a connection waits for data for ever).
	l.writeHold = l.loop.HoldClock()
	return nil
}

func (l *lifecycle) stopWriting() {
	if !l.writerOn {
		return
	}
	l.writerOn = false
	l.writeHold()
	l.writeHold = nil
	if !l.st.closed {
		l.loop.RemoveWriter(l.fd)
	}
}

// drained is the writer callback's end once the queue is sent: the writer
// watch goes, and a closing transport (whose Close waited for the queue) is
// closed. It reports whether it was.
func (l *lifecycle) drained() bool {
	l.stopWriting()
	if !l.closing {
		return false
	}
	l.forceClose(nil)
	return true
}

// maybePause asks the protocol to PauseWriting when queued bytes wait,
// above the high-water mark, and it is not paused yet.
func (l *lifecycle) maybePause(queued int) {
	if l.writePaused || queued <= l.high {
		return
	}
	l.writePaused = true
	if l.flow != nil {
		l.protect(l.flow.PauseWriting)
	}
}

// maybeResume asks a paused protocol to ResumeWriting once queued bytes,
// what still waits, are at the low-water mark or below.
func (l *lifecycle) maybeResume(queued int) {
	if !l.writePaused || queued > l.low {
		return
	}
	l.writePaused = false
	if l.flow != nil {
		l.protect(l.flow.ResumeWriting)
	}
}

// setLimits is SetWriteBufferLimits, method its name, with queued bytes
// waiting: the new marks apply at once (asyncio's).
func (l *lifecycle) setLimits(method string, high, low, queued int) error {
	if err := l.check(method); err != nil {
		return err
	}
	l.high, l.low = limits(high, low)
	l.maybePause(queued)
	l.maybeResume(queued)
	return nil
}

// close is Close, method its name: reading stops, and the transport is
// closed once its queue is sent (at once if it is empty). Closing again
// does nothing.
func (l *lifecycle) close(method string) error {
	if err := l.check(method); err != nil {
		return err
	}
	if l.closing {
		return nil
	}
	l.closing = true
	l.stopReading()
	if !l.ep.hasQueued() {
		l.forceClose(nil)
	}
	return nil
}

// abort is Abort, method its name: closed at once, the queue dropped.
func (l *lifecycle) abort(method string) error {
	if err := l.check(method); err != nil {
		return err
	}
	l.forceClose(nil)
	return nil
}

// forceClose closes the descriptor now and schedules ConnectionLost(err);
// on a transport already lost it does nothing.
func (l *lifecycle) forceClose(err error) {
	if l.lost {
		return
	}
	l.lost, l.closing = true, true
	l.untrack()
	l.lostErr = err
	l.stopReading()
	l.stopWriting()
	l.ep.release()
	l.fd = -1
	if l.st.closed {
		l.callLost()
		return
	}
	if _, e := l.loop.CallSoon(l.lostFn); e != nil {
		l.callLost() // the loop is closing: no callback would run
	}
}

// callLost tells the protocol, once, that the transport is gone.
func (l *lifecycle) callLost() {
	if l.lostDone {
		return
	}
	l.lostDone = true
	defer func() {
		if !l.st.closed {
			delete(l.st.open, l)
			l.closedQ.WakeAll()
		}
	}()
	l.ep.tellLost(l.lostErr)
}

// loopClosed aborts a transport still open when its loop closes, and calls
// a ConnectionLost that was scheduled but dropped by the close.
func (l *lifecycle) loopClosed() {
	l.forceClose(aio.ErrClosed)
	l.callLost()
}

// waitClosed is WaitClosed: it waits until ConnectionLost has been called,
// and returns the error it was given.
func (l *lifecycle) waitClosed(c *aio.Ctx) error {
	if err := l.closedQ.CheckTask(c); err != nil {
		return err
	}
	for !l.lostDone {
		if err := l.closedQ.Park(c); err != nil {
			return err
		}
	}
	return l.lostErr
}
