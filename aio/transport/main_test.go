//go:build linux

package transport_test

import (
	"runtime"
	"testing"

	"github.com/aiogo/aio/aio"
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

// goDo runs fn in a goroutine (a Go net peer's side of a test); its error
// comes on the channel, read from a task with awaitGo.
func goDo(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

// awaitGo waits, from a task, for the error of a goDo.
func awaitGo(c *aio.Ctx, ch <-chan error) error {
	err, _, werr := aio.GoRecv(c, ch)
	if werr != nil {
		return werr
	}
	return err
}

// mallocs returns the process's heap allocations so far.
func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}
