//go:build linux

package socket_test

import (
	"net"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/internal/leakcheck"
	"github.com/aiogo/aio/aio/internal/nettest"
)

// TestMain checks, after all the tests of the package, that none of them
// left a goroutine behind.
func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}

// testTimeout bounds every loop of the tests.
const testTimeout = 60 * time.Second

// run runs body as the main task of a new loop, bounded by testTimeout,
// and checks that no fd was left open. Bodies call t.Errorf, never t.Fatal.
func run(t *testing.T, body func(c *aio.Ctx) error) {
	t.Helper()
	before := leakcheck.OpenFDs(t)
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		return struct{}{}, aio.WithTimeout(c, testTimeout, body)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The Go net peers of a test close their ends on their own goroutines,
	// a moment after the loop's side is done: give them up to 2 s (a fd
	// that leaks stays open for ever).
	after := leakcheck.OpenFDs(t)
	for i := 0; i < 200 && after != before; i++ {
		time.Sleep(10 * time.Millisecond)
		after = leakcheck.OpenFDs(t)
	}
	if after != before {
		t.Errorf("fds open: %d before, %d after", before, after)
	}
}

// haveIPv6 reports whether [::1] can be listened on.
func haveIPv6() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// echoServer starts a Go net echo server on network/addr and returns its
// address and a stop function that waits for its goroutines.
func echoServer(t *testing.T, network, addr string) (net.Addr, func()) {
	t.Helper()
	return nettest.Serve(t, network, addr, nettest.Echo)
}
