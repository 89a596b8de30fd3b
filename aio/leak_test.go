package aio_test

import (
	"os"
	"runtime"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks, after all the tests of the package, that none of them
// left a goroutine behind (goleak); leakCheck checks each test that makes a
// loop through newLoop, goroutines and file descriptors.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, leakIgnores...)
}

// leakIgnores are the goroutines that the runtime and the standard library
// start once and keep: os/signal's receiver (started by the first
// signal.Notify, which Run makes).
var leakIgnores = []goleak.Option{
	goleak.IgnoreTopFunction("os/signal.signal_recv"),
	goleak.IgnoreTopFunction("os/signal.loop"),
}

// leakCheck makes the end of the test check that the test left no goroutine
// and no file descriptor behind: every goroutine that was not running when
// leakCheck was called must have exited (goleak waits a little for them),
// and the number of open file descriptors must be back where it was. Call it
// before anything the test must clean up, so that its check runs last.
func leakCheck(t testing.TB) {
	t.Helper()
	if _, dup := leakChecked.LoadOrStore(t, true); dup {
		return // the first call's check covers the test
	}
	opts := append([]goleak.Option{goleak.IgnoreCurrent()}, leakIgnores...)
	fds := openFDs()
	t.Cleanup(func() {
		leakChecked.Delete(t)
		goleak.VerifyNone(t, opts...)
		if fds >= 0 {
			// A finalizer may still have to close an *os.File the test
			// dropped: give it a collection or two.
			for range 3 {
				if openFDs() <= fds {
					break
				}
				runtime.GC()
			}
			if n := openFDs(); n > fds {
				t.Errorf("%d file descriptors left open (%d before the test, %d after)", n-fds, fds, n)
			}
		}
	})
}

// leakChecked holds the tests that leakCheck checks already.
var leakChecked sync.Map

// openFDs returns the number of open file descriptors of the process, or
// -1 where /proc/self/fd cannot tell.
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents) - 1 // the directory's own descriptor, open while it is read
}
