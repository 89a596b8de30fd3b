//go:build linux

package stream_test

import (
	"testing"

	"github.com/aiogo/aio/aio/internal/leakcheck"
	"github.com/aiogo/aio/aio/internal/nettest"
)

// TestMain checks, after all the tests of the package, that none of them
// left a goroutine behind.
func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}

// testTimeout bounds every loop and peer of the tests; run, checkFDs,
// peer, echo and sendThenClose are package nettest's, shared with the
// other networking packages.
const testTimeout = nettest.Timeout

var (
	run           = nettest.Run
	checkFDs      = nettest.CheckFDs
	peer          = nettest.Peer
	echo          = nettest.Echo
	sendThenClose = nettest.SendThenClose
)
