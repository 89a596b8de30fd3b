//go:build unix

package transport

import (
	"fmt"
	"sync"

	"github.com/aiogo/aio/aio"
)

// readBufSize is the size of the read buffer of a loop's plain protocols:
// one read(2) per readiness report takes up to this much.
const readBufSize = 64 << 10

// states maps each loop to the package's state on it. The map is shared by
// all loops (hence sync.Map); a state is used only on its own loop, and is
// dropped by a close hook of that loop.
var states sync.Map // *aio.Loop -> *loopState

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

// stateOf returns l's state, making it and its close hook on first use.
// Loop goroutine only.
func stateOf(l *aio.Loop) (*loopState, error) {
	if s, ok := states.Load(l); ok {
		return s.(*loopState), nil
	}
	s := &loopState{loop: l, open: make(map[loopCloser]struct{})}
	if _, err := l.OnClose(s.loopClosed); err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	states.Store(l, s)
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
	states.Delete(s.loop)
	for c := range s.open {
		c.loopClosed()
	}
	s.open = nil
}
