package queue_test

import (
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/internal/leakcheck"
)

// TestMain checks, after all the tests of the package, that none of them
// left a goroutine behind.
func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}

// run runs body as the main task of a new loop on the virtual clock
// (aio.WithVirtualClock: time moves only when every task waits, so timed
// tests do not depend on the machine's speed and take no real time) and
// fails t if it returns an error. Bodies record; they call t.Errorf, never
// t.Fatal (which would end the loop goroutine).
func run(t *testing.T, body func(c *aio.Ctx) error) {
	t.Helper()
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) { return struct{}{}, body(c) }, aio.WithVirtualClock())
	if err != nil {
		t.Fatal(err)
	}
}

// settle lets the loop run what is ready, and what that makes ready, a few
// times over.
func settle(c *aio.Ctx) {
	for range 4 {
		aio.Yield(c)
	}
}

// outcome is what a task that waits in the queue ended with.
type outcome[T any] struct {
	v    T
	err  error
	done bool
}

// spawnGet starts a task that Gets once and records its outcome.
func spawnGet[T any](c *aio.Ctx, q interface {
	Get(*aio.Ctx) (T, error)
}, opts ...aio.TaskOption) (*aio.Task[int], *outcome[T]) {
	o := &outcome[T]{}
	t, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
		o.v, o.err = q.Get(c)
		o.done = true
		return 0, nil
	}, opts...)
	return t, o
}

// spawnPut starts a task that Puts v once and records its outcome.
func spawnPut[T any](c *aio.Ctx, q interface {
	Put(*aio.Ctx, T) error
}, v T) (*aio.Task[int], *outcome[T]) {
	o := &outcome[T]{v: v}
	t, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
		o.err = q.Put(c, v)
		o.done = true
		return 0, nil
	})
	return t, o
}
