//go:build unix

package transport

import (
	"fmt"

	"github.com/aiogo/aio/aio"
)

// readBufSize is the size of the read buffer of a loop's plain protocols:
// one read(2) per readiness report takes up to this much.
const readBufSize = 64 << 10

// states is the package's state on each loop: made at the first use on a
// loop, and closed by the loop's close hook (aio.LoopValue).
var states = aio.NewLoopValue(func(l *aio.Loop) (*loopState, error) {
	return &loopState{loop: l, open: make(map[loopCloser]struct{})}, nil
}, func(_ *aio.Loop, s *loopState) { s.loopClosed() })

// A loopState is what the transports of one loop share. Loop goroutine only.
type loopState struct {
	loop *aio.Loop
	// rbuf is the read buffer of every plain Protocol of the loop: the
	// loop runs one callback at a time and DataReceived must not keep
	// its data, so one buffer serves them all (10,000 idle connections
	// cost no read buffers).
	rbuf   []byte
	open   map[loopCloser]struct{} // transports and servers not yet closed
	closed bool
}

// A loopCloser is closed by its loop's close: a transport aborted, a
// server closed, so that no descriptor outlives the loop.
type loopCloser interface{ loopClosed() }

// stateOf returns l's state, making it on first use. Loop goroutine only.
func stateOf(l *aio.Loop) (*loopState, error) {
	s, err := states.Get(l)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	return s, nil
}

// readBuf returns the shared read buffer, made on first use.
func (s *loopState) readBuf() []byte {
	if s.rbuf == nil {
		s.rbuf = make([]byte, readBufSize)
	}
	return s.rbuf
}

// loopClosed is the loop's close hook: it closes what is still open.
func (s *loopState) loopClosed() {
	s.closed = true
	for c := range s.open {
		c.loopClosed()
	}
	s.open = nil
}
