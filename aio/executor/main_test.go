package executor_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/internal/leakcheck"
)

// TestMain checks, after all the tests of the package, that none of them
// left a goroutine behind (a pool's workers included).
func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}

// run runs body as the main task of a new loop and fails t if it returns an
// error. Bodies call t.Errorf, never t.Fatal.
func run(t *testing.T, body func(c *aio.Ctx) error, opts ...aio.RunOption) {
	t.Helper()
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) { return struct{}{}, body(c) }, opts...)
	if err != nil {
		t.Fatal(err)
	}
}

// waitUntil lets the loop run until cond holds, checking every millisecond,
// for at most about 20 s; it reports whether cond held.
func waitUntil(c *aio.Ctx, cond func() bool) bool {
	for range 20_000 {
		if cond() {
			return true
		}
		if err := aio.Sleep(c, time.Millisecond); err != nil {
			return cond()
		}
	}
	return false
}

// waitChan waits (off the loop) for ch to close, at most 20 s.
func waitChan(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Error("timed out")
	}
}

var errBoom = errors.New("boom")
