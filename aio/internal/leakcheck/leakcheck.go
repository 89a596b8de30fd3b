// Package leakcheck holds the leak checks that the test packages of aio
// share: no goroutine left after a package's tests (go.uber.org/goleak),
// and the count of the process's open file descriptors.
package leakcheck

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// Options are the goleak options of aio's tests: os/signal's receiver,
// which the first aio.Run (or signal handler) starts and the runtime keeps
// for the life of the process, is not a leak.
func Options() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("os/signal.signal_recv"),
		goleak.IgnoreTopFunction("os/signal.loop"),
	}
}

// VerifyTestMain runs the tests of m and then fails the package if any of
// them left a goroutine behind.
func VerifyTestMain(m *testing.M) { goleak.VerifyTestMain(m, Options()...) }

// OpenFDs returns the number of the process's open file descriptors (the
// entries of /proc/self/fd, on Linux), failing t if it cannot read them.
func OpenFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
