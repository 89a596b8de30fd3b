package aio

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/aiogo/aio/aio/internal/poll"
)

// fdTable is the loop's file-descriptor component: the watched fds and
// their callbacks, over the poller, and the buffer of polled events. Loop
// goroutine only.
type fdTable struct {
	watches map[int]*fdWatch
	events  []poll.Event
}

func (t *fdTable) init() {
	t.watches = make(map[int]*fdWatch)
	t.events = make([]poll.Event, 128)
}

// poll waits in the poller for up to timeout (negative: until woken; zero:
// not at all) and queues the callbacks of the fds it reports. With a zero
// timeout and no fd watched there is nothing to report, so the syscall is
// skipped: a wake-up written meanwhile stays armed in the poller and is
// consumed by the next blocking poll, so none is lost.
func (t *fdTable) poll(l *Loop, timeout time.Duration) {
	n, err := l.poller.Wait(t.events, timeout)
	if err != nil {
		l.pollError(err)
	}
	l.dispatchIO(t.events[:n])
	if n == len(t.events) && n < 4096 {
		t.events = make([]poll.Event, 2*n)
	}
}

// fdWatch is the loop's record of one watched file descriptor.
type fdWatch struct {
	reader, writer func()
	// readFn and writeFn are what the ready queue carries: made once per
	// watch, since a readiness callback is queued again every iteration
	// while its descriptor stays ready, and they look the callback up when
	// they run, so one removed meanwhile is not called.
	readFn, writeFn func()
}

// AddReader makes the loop call fn on the loop goroutine each iteration while
// fd is readable (level-triggered, like asyncio's add_reader), until
// RemoveReader. A second AddReader for the same fd replaces fn. The loop does
// not own fd: close it only after RemoveReader and RemoveWriter.
//
// An fd closed while watched is detected at the next AddReader or AddWriter
// for its number: the kernel has dropped the registration (and the number
// may now name another file), so the old callbacks are dropped, reported
// once through the error handler, and the new file is registered. If a
// duplicate of the closed fd (dup, fork, a descriptor passed to another
// process) keeps its registration alive in epoll, the loop finds it when it
// reports readiness nobody watches, rebuilds its poller without it and
// reports that once, instead of waking up for it for ever.
//
// AddReader must be called on the loop goroutine or from one of its tasks; it
// returns an error wrapping ErrNotOnLoop elsewhere, ErrNilFunc for a nil fn,
// and an error naming the method and fd and wrapping the operating system's
// errno (for errors.Is) if the system refuses fd: EBADF for an fd that is
// not open, EPERM for a regular file or a directory (epoll cannot watch
// them: they are always ready), EINVAL for the loop's own poller
// descriptors.
func (l *Loop) AddReader(fd int, fn func()) error {
	return l.watch("AddReader", fd, fn, poll.Read)
}

// AddWriter is AddReader for writability.
func (l *Loop) AddWriter(fd int, fn func()) error {
	return l.watch("AddWriter", fd, fn, poll.Write)
}

// RemoveReader stops watching fd for reading. It reports whether fd was
// watched for reading. If fd was closed before RemoveReader, the watch is
// removed all the same (the kernel forgets a closed fd by itself, or the
// loop finds the registration a duplicate keeps; see AddReader). Goroutines
// and errors are as for AddReader.
func (l *Loop) RemoveReader(fd int) (bool, error) {
	return l.unwatch("RemoveReader", fd, poll.Read)
}

// RemoveWriter stops watching fd for writing. It reports whether fd was
// watched for writing. Goroutines and errors are as for RemoveReader.
func (l *Loop) RemoveWriter(fd int) (bool, error) {
	return l.unwatch("RemoveWriter", fd, poll.Write)
}

func (l *Loop) watch(method string, fd int, fn func(), ev poll.Events) error {
	if l.poller == nil {
		return noLoop(method)
	}
	if !l.onLoop() {
		return notOnLoop(method)
	}
	if fn == nil {
		return ErrNilFunc
	}
	if fd < 0 {
		return fmt.Errorf("aio: %s(fd %d): %w", method, fd, syscall.EBADF)
	}
	if w := l.fds.watches[fd]; w != nil {
		// Ask the kernel even if the interest does not change: that is
		// how a registration dropped by a close is found.
		err := l.poller.Modify(fd, w.events()|ev)
		if err == nil {
			*w.callback(ev) = fn
			return nil
		}
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.EBADF) {
			return fdError(method, fd, err)
		}
		l.poller.Remove(fd) // the Poller's record; the kernel has none
		delete(l.fds.watches, fd)
		l.report(ErrorContext{
			Message: fmt.Sprintf("aio: fd %d was closed while watched (close it only after RemoveReader and RemoveWriter); its callbacks are dropped", fd),
			Err:     fdError(method, fd, err),
		})
	}
	if err := l.poller.Add(fd, ev); err != nil {
		return fdError(method, fd, err)
	}
	w := &fdWatch{}
	w.readFn = func() {
		if w.reader != nil {
			w.reader()
		}
	}
	w.writeFn = func() {
		if w.writer != nil {
			w.writer()
		}
	}
	*w.callback(ev) = fn
	l.fds.watches[fd] = w
	return nil
}

func (l *Loop) unwatch(method string, fd int, ev poll.Events) (bool, error) {
	if l.poller == nil {
		return false, noLoop(method)
	}
	if !l.onLoop() {
		return false, notOnLoop(method)
	}
	w := l.fds.watches[fd]
	if w == nil || w.events()&ev == 0 {
		return false, nil
	}
	*w.callback(ev) = nil
	var err error
	if rest := w.events(); rest == 0 {
		delete(l.fds.watches, fd)
		err = l.poller.Remove(fd)
	} else if err = l.poller.Modify(fd, rest); err != nil {
		delete(l.fds.watches, fd)
		l.poller.Remove(fd)
	}
	if err != nil && !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.EBADF) {
		return true, fdError(method, fd, err)
	}
	return true, nil
}

// fdError names the method and fd in a poller error, keeps its errno for
// errors.Is, and explains the errnos whose bare text misleads.
func fdError(method string, fd int, err error) error {
	hint := ""
	switch {
	case errors.Is(err, syscall.EPERM):
		hint = " (a regular file or directory: it is always ready, and epoll cannot watch it)"
	case errors.Is(err, syscall.EBADF):
		hint = " (not an open file descriptor)"
	}
	return fmt.Errorf("aio: %s(fd %d): %w%s", method, fd, err, hint)
}

// callback returns the reader or the writer field, for ev Read or Write.
func (w *fdWatch) callback(ev poll.Events) *func() {
	if ev == poll.Read {
		return &w.reader
	}
	return &w.writer
}

func (w *fdWatch) events() poll.Events {
	var ev poll.Events
	if w.reader != nil {
		ev |= poll.Read
	}
	if w.writer != nil {
		ev |= poll.Write
	}
	return ev
}

// dispatchIO queues the readiness callbacks of the polled events. It is one
// of the loop's own phases: the callbacks go straight to the ready queue.
func (l *Loop) dispatchIO(events []poll.Event) {
	for _, e := range events {
		w := l.fds.watches[int(e.FD)]
		if w == nil {
			continue // removed by a callback earlier in this iteration
		}
		if e.Events&poll.Read != 0 && w.reader != nil {
			l.ready.PushBack(ready{cb: l.pool.get(l, w.readFn)})
		}
		if e.Events&poll.Write != 0 && w.writer != nil {
			l.ready.PushBack(ready{cb: l.pool.get(l, w.writeFn)})
		}
	}
}
