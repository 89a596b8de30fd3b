//go:build unix

package socket

import (
	"net/netip"

	"github.com/aiogo/aio/aio"
)

// SetForceCopy makes SendFile use its copying fallback, and returns the
// function that restores it.
func SetForceCopy(on bool) func() {
	old := forceCopy
	forceCopy = on
	return func() { forceCopy = old }
}

// Interleave is interleave, for tests.
var Interleave = interleave

// HappyEyeballs is Dial after the resolution, for tests: it races
// connection attempts to addrs at port, in that order, with Dial's
// options, as Dial does with the addresses a host name resolved to.
func HappyEyeballs(c *aio.Ctx, addrs []netip.Addr, port uint16, opts ...DialOption) (*Socket, error) {
	cfg := dialConfig{delay: DefaultAttemptDelay}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return happyEyeballs(c, addrs, port, cfg)
}

// WithHookForTest is an Option that calls f when it is applied: when a
// Connect (one attempt of Dial) starts, just before it opens its socket.
// Connect does not wait between the two, so the attempt's socket is open
// and connecting at the next wait of the caller.
func WithHookForTest(f func()) Option { return func(*options) { f() } }
