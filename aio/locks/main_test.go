package locks_test

import (
	"testing"

	"github.com/aiogo/aio/aio/internal/leakcheck"
)

// TestMain checks, after all the tests of the package, that none of them
// left a goroutine behind: every loop they ran is closed and every task and
// goroutine they started has ended. os/signal's receiver, which the first
// aio.Run starts and the runtime keeps, is not a leak.
func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}
