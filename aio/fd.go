package aio

import (
	"fmt"

	"github.com/aiogo/aio/aio/internal/poll"
)

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
// AddReader must be called on the loop goroutine or from one of its tasks; it
// returns an error wrapping ErrNotOnLoop elsewhere, ErrNilFunc for a nil fn,
// and the poller's error if the operating system refuses fd.
func (l *Loop) AddReader(fd int, fn func()) error {
	return l.watch("AddReader", fd, fn, poll.Read)
}

// AddWriter is AddReader for writability.
func (l *Loop) AddWriter(fd int, fn func()) error {
	return l.watch("AddWriter", fd, fn, poll.Write)
}

// RemoveReader stops watching fd for reading. It reports whether fd was
// watched for reading. Goroutines and errors are as for AddReader.
func (l *Loop) RemoveReader(fd int) (bool, error) {
	return l.unwatch("RemoveReader", fd, poll.Read)
}

// RemoveWriter stops watching fd for writing. It reports whether fd was
// watched for writing. Goroutines and errors are as for AddReader.
func (l *Loop) RemoveWriter(fd int) (bool, error) {
	return l.unwatch("RemoveWriter", fd, poll.Write)
}

func (l *Loop) watch(method string, fd int, fn func(), ev poll.Events) error {
	if !l.onLoop() {
		return notOnLoop(method)
	}
	if fn == nil {
		return ErrNilFunc
	}
	if fd < 0 {
		return fmt.Errorf("aio: %s: invalid file descriptor %d", method, fd)
	}
	w := l.fds[fd]
	if w == nil {
		if err := l.poller.Add(fd, ev); err != nil {
			return fmt.Errorf("aio: %s: %w", method, err)
		}
		w = &fdWatch{}
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
		l.fds[fd] = w
	} else if w.events()&ev == 0 {
		if err := l.poller.Modify(fd, w.events()|ev); err != nil {
			return fmt.Errorf("aio: %s: %w", method, err)
		}
	}
	*w.callback(ev) = fn
	return nil
}

func (l *Loop) unwatch(method string, fd int, ev poll.Events) (bool, error) {
	if !l.onLoop() {
		return false, notOnLoop(method)
	}
	w := l.fds[fd]
	if w == nil || w.events()&ev == 0 {
		return false, nil
	}
	*w.callback(ev) = nil
	var err error
	if rest := w.events(); rest == 0 {
		delete(l.fds, fd)
		err = l.poller.Remove(fd)
	} else {
		err = l.poller.Modify(fd, rest)
	}
	if err != nil {
		return true, fmt.Errorf("aio: %s: %w", method, err)
	}
	return true, nil
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

// dispatchIO queues the readiness callbacks of the polled events.
func (l *Loop) dispatchIO(events []poll.Event) {
	for _, e := range events {
		w := l.fds[int(e.FD)]
		if w == nil {
			continue // removed by a callback earlier in this iteration
		}
		if e.Events&poll.Read != 0 && w.reader != nil {
			l.soon(w.readFn)
		}
		if e.Events&poll.Write != 0 && w.writer != nil {
			l.soon(w.writeFn)
		}
	}
}
