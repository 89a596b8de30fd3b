package executor_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aiogo/aio/aio/executor"
)

// NewPool refuses a size below 1.
func TestNewPoolBadSize(t *testing.T) {
	for _, n := range []int{0, -1} {
		if _, err := executor.NewPool(n); !errors.Is(err, executor.ErrBadSize) {
			t.Errorf("NewPool(%d) = %v; want ErrBadSize", n, err)
		}
	}
}

// A Pool runs at most Size functions at once, queues the rest in order,
// fails TrySubmit when full, and after Shutdown refuses new work; Shutdown
// waits for all the functions and leaves no worker.
func TestPoolBoundsAndOrder(t *testing.T) {
	p, _ := executor.NewPool(2)
	release := make(chan struct{})
	var mu sync.Mutex
	var order []int
	for i := range 5 {
		if err := p.Submit(func() {
			<-release
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		}); err != nil {
			t.Fatal(err)
		}
	}
	if p.Workers() != 2 || p.Len() != 3 {
		t.Errorf("workers %d, queued %d; want 2, 3", p.Workers(), p.Len())
	}
	if err := p.TrySubmit(func() {}); !errors.Is(err, executor.ErrFull) {
		t.Errorf("TrySubmit on a full pool = %v; want ErrFull", err)
	}
	if err := p.Submit(nil); !errors.Is(err, executor.ErrNilFunc) {
		t.Errorf("Submit(nil) = %v", err)
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if len(order) != 5 {
		t.Errorf("ran %v; want all 5", order)
	}
	if p.Workers() != 0 || p.Running() != 0 {
		t.Errorf("after Shutdown: workers %d, running %d", p.Workers(), p.Running())
	}
	if err := p.Submit(func() {}); !errors.Is(err, executor.ErrShutdown) {
		t.Errorf("Submit after Shutdown = %v; want ErrShutdown", err)
	}
	//lint:ignore SA1012 a nil context is what this test gives
	if err := p.Shutdown(nil); !errors.Is(err, executor.ErrNilContext) { //nolint:staticcheck
		t.Errorf("Shutdown(nil) = %v", err)
	}
}

// A Shutdown whose context ends first returns an *UnfinishedError listing
// the running and the queued functions; the queued ones never run.
func TestPoolShutdownTimeout(t *testing.T) {
	p, _ := executor.NewPool(1)
	release, exited := make(chan struct{}), make(chan struct{})
	p.Submit(func() { <-release; close(exited) })
	ranQueued := false
	p.Submit(func() { ranQueued = true })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := p.Shutdown(ctx)
	var ue *executor.UnfinishedError
	if !errors.As(err, &ue) || len(ue.Running) != 1 || len(ue.Queued) != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v; want one running, one queued", err)
	}
	close(release)
	<-exited
	if err := p.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	if ranQueued {
		t.Error("a discarded function ran")
	}
}

// SetSize grows a pool at once for the queued functions, and refuses a
// size below 1.
func TestPoolSetSize(t *testing.T) {
	p, _ := executor.NewPool(1)
	release := make(chan struct{})
	for range 3 {
		p.Submit(func() { <-release })
	}
	if err := p.SetSize(3); err != nil || p.Workers() != 3 || p.Len() != 0 {
		t.Errorf("SetSize(3): %v, workers %d, queued %d", err, p.Workers(), p.Len())
	}
	if err := p.SetSize(0); !errors.Is(err, executor.ErrBadSize) {
		t.Errorf("SetSize(0) = %v", err)
	}
	p.SetSize(1)
	close(release)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	if p.Size() != 1 {
		t.Errorf("Size %d", p.Size())
	}
}

// A Pool of one runs its functions one at a time, in the order submitted.
func TestPoolFIFO(t *testing.T) {
	p, _ := executor.NewPool(1)
	var order []int
	for i := range 20 {
		p.Submit(func() { order = append(order, i) })
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, v := range order {
		if v != i {
			t.Fatalf("order %v", order)
		}
	}
	if len(order) != 20 {
		t.Errorf("order %v", order)
	}
}
