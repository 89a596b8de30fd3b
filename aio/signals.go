package aio

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
)

// Signal handlers that run on the loop (asyncio's add_signal_handler). Each
// watched signal of a loop has a channel registered with os/signal and one
// goroutine that relays each delivery through the door, where the
// handlers run as a callback. When the last handler of a signal is removed,
// or the loop closes, the channel is unregistered (signal.Stop), which
// gives the signal back its previous disposition if nothing else in the
// process asked for it.

// signals is a loop's table of watched signals. Any goroutine.
type signals struct {
	mu      sync.Mutex
	next    uint64
	watches map[os.Signal]*signalWatch
	hooked  bool // the close hook that removes every watch is registered
}

// A signalWatch is one watched signal: its channel, its relay and its
// handlers, in the order they were added.
type signalWatch struct {
	ch       chan os.Signal
	done     chan struct{}
	relay    sync.WaitGroup
	handlers []signalHandler
}

type signalHandler struct {
	id uint64
	fn func()
}

// AddSignalHandler makes fn run on the loop, as a callback, each time the
// process receives sig, and returns a function that removes it (reporting
// whether it did). Several handlers of one signal run in the order they
// were added; a panic in one is reported through the error handler, and the
// next runs. While a loop handles sig, the signal's default action (ending
// the process, for SIGINT and SIGTERM) does not happen; removing the last
// handler of sig, or closing the loop, gives it back.
//
// Deliveries that come faster than the loop runs them may be merged into
// one (as the operating system merges pending signals). AddSignalHandler
// may be called from any goroutine; it returns an error matching ErrNilFunc
// for a nil fn or sig, and ErrClosed on a closed loop. Signals that cannot
// be caught (SIGKILL, SIGSTOP) are refused with ErrInvalidState.
func (l *Loop) AddSignalHandler(sig os.Signal, fn func()) (remove func() bool, err error) {
	if l == nil || l.poller == nil {
		return nil, noLoop("AddSignalHandler")
	}
	if fn == nil || sig == nil {
		return nil, fmt.Errorf("%w: AddSignalHandler", ErrNilFunc)
	}
	if uncatchable(sig) {
		return nil, fmt.Errorf("%w: AddSignalHandler: %v cannot be caught", ErrInvalidState, sig)
	}
	s := &l.signals
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.IsClosed() {
		return nil, fmt.Errorf("%w: AddSignalHandler", ErrClosed)
	}
	if !s.hooked {
		if _, err := l.OnClose(l.removeSignalHandlers); err != nil {
			return nil, err
		}
		s.hooked = true
	}
	w := s.watches[sig]
	if w == nil {
		if s.watches == nil {
			s.watches = make(map[os.Signal]*signalWatch)
		}
		w = &signalWatch{ch: make(chan os.Signal, 1), done: make(chan struct{})}
		s.watches[sig] = w
		signal.Notify(w.ch, sig)
		w.relay.Go(func() { l.relaySignal(sig, w) })
	}
	s.next++
	id := s.next
	w.handlers = append(w.handlers, signalHandler{id, fn})
	return func() bool { return l.removeSignalHandler(sig, id) }, nil
}

// relaySignal passes each delivery of sig to the loop until the watch ends.
func (l *Loop) relaySignal(sig os.Signal, w *signalWatch) {
	for {
		select {
		case <-w.ch:
			if l.post(func() { l.runSignalHandlers(sig, w) }) != nil {
				return // the loop is closed
			}
		case <-w.done:
			return
		}
	}
}

// runSignalHandlers runs the handlers of w, on the loop.
func (l *Loop) runSignalHandlers(sig os.Signal, w *signalWatch) {
	s := &l.signals
	s.mu.Lock()
	hs := append([]signalHandler(nil), w.handlers...)
	s.mu.Unlock()
	for _, h := range hs {
		l.runSignalHandler(sig, h.fn)
	}
}

func (l *Loop) runSignalHandler(sig os.Signal, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			l.reportNow(ErrorContext{Message: fmt.Sprintf("aio: panic in a handler of %v", sig), Err: newPanicError(r)})
		}
	}()
	fn()
}

// removeSignalHandler removes the handler id of sig, and the watch with its
// last handler.
func (l *Loop) removeSignalHandler(sig os.Signal, id uint64) bool {
	s := &l.signals
	s.mu.Lock()
	w := s.watches[sig]
	if w == nil {
		s.mu.Unlock()
		return false
	}
	for i, h := range w.handlers {
		if h.id == id {
			w.handlers = append(w.handlers[:i], w.handlers[i+1:]...)
			if len(w.handlers) == 0 {
				delete(s.watches, sig)
				s.mu.Unlock()
				w.stop()
				return true
			}
			s.mu.Unlock()
			return true
		}
	}
	s.mu.Unlock()
	return false
}

// removeSignalHandlers ends every watch: the loop's close hook.
func (l *Loop) removeSignalHandlers() {
	s := &l.signals
	s.mu.Lock()
	ws := s.watches
	s.watches = nil
	s.mu.Unlock()
	for _, w := range ws {
		w.stop()
	}
}

// stop unregisters the watch's channel and waits for its relay.
func (w *signalWatch) stop() {
	signal.Stop(w.ch)
	close(w.done)
	w.relay.Wait()
}
