package prop_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/executor"
	"pgregory.net/rapid"
)

// Property test of package aio/executor: a rapid state machine drives a
// loop run by hand, with a default pool of a random size (1 to 3). Tasks
// call executor.Run with functions that return, fail, panic, or block until
// released (some honouring their context, some not); tasks are cancelled at
// random moments (before they start, while their function is queued or
// running, after it returned) and blocked functions released. The model
// decides each call's outcome by one fact observed on the loop: whether its
// task was done when it was cancelled. At the end every function is
// released, and each task must have ended exactly once with the model's
// outcome, every function run at most once (exactly once if its call was
// not cancelled), the loop's counters must balance (every submitted call
// skipped, late or delivered), and the close of the loop leaves no
// goroutine (goleak runs in TestMain). Helpers start with "pe".

// TestPropExecutor checks the state machine.
func TestPropExecutor(t *testing.T) { rapid.Check(t, peCheck) }

const (
	peReturn = iota
	peFail
	pePanic
	peBlock
)

var errPe = errors.New("pe: failure")

type peCall struct {
	id        int
	kind      int
	honour    bool // a blocking function that returns on ctx.Done
	release   chan struct{}
	released  bool
	task      *aio.Task[int]
	ran       atomic.Int32 // times the function ran
	returns   atomic.Int32 // times Run returned in the task
	entered   atomic.Bool  // the task called Run
	cancelled bool         // model: cancelled while its task was not done
}

// peOnLoop runs fn in a task of l and runs the loop until it is done.
func peOnLoop(rt *rapid.T, l *aio.Loop, fn func(c *aio.Ctx) error) {
	t, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, fn(c) })
	if err != nil {
		rt.Fatalf("Spawn: %v", err)
	}
	if _, err := aio.RunUntilComplete(l, t); err != nil {
		rt.Fatalf("loop step: %v", err)
	}
}

// peStep lets the loop run, and the workers make progress, a little.
func peStep(rt *rapid.T, l *aio.Loop) {
	peOnLoop(rt, l, func(c *aio.Ctx) error {
		aio.Yield(c)
		return aio.Sleep(c, 100*time.Microsecond)
	})
}

func peCheck(rt *rapid.T) {
	l, err := aio.NewLoop()
	if err != nil {
		rt.Fatal(err)
	}
	defer l.Close()
	size := rapid.IntRange(1, 3).Draw(rt, "size")
	if err := executor.SetPoolSize(l, size); err != nil {
		rt.Fatal(err)
	}
	executor.SetShutdownTimeout(l, 0) // every function is released before the close
	var calls []*peCall
	defer func() { // whatever happens, nothing stays blocked
		for _, k := range calls {
			if !k.released {
				k.released = true
				close(k.release)
			}
		}
	}()
	rt.Repeat(map[string]func(*rapid.T){
		"Spawn": func(rt *rapid.T) {
			k := &peCall{
				id:      len(calls),
				kind:    rapid.IntRange(peReturn, peBlock).Draw(rt, "kind"),
				honour:  rapid.Bool().Draw(rt, "honour"),
				release: make(chan struct{}),
			}
			fn := func(ctx context.Context) (int, error) {
				k.ran.Add(1)
				switch k.kind {
				case peFail:
					return 0, errPe
				case pePanic:
					panic(errPe)
				case peBlock:
					if k.honour {
						select {
						case <-k.release:
						case <-ctx.Done():
							return 0, ctx.Err()
						}
					} else {
						<-k.release
					}
				}
				return k.id, nil
			}
			t, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
				k.entered.Store(true)
				v, err := executor.Run(c, fn)
				k.returns.Add(1)
				return v, err
			})
			if err != nil {
				rt.Fatal(err)
			}
			k.task = t
			calls = append(calls, k)
			if rapid.Bool().Draw(rt, "step") {
				peStep(rt, l)
			}
		},
		"Cancel": func(rt *rapid.T) {
			if len(calls) == 0 {
				rt.Skip("no call")
			}
			k := calls[rapid.IntRange(0, len(calls)-1).Draw(rt, "cancel")]
			peOnLoop(rt, l, func(*aio.Ctx) error {
				if !k.task.IsDone() {
					k.cancelled = true
				}
				k.task.Cancel(nil)
				return nil
			})
		},
		"Release": func(rt *rapid.T) {
			var ks []*peCall
			for _, k := range calls {
				if k.kind == peBlock && !k.released {
					ks = append(ks, k)
				}
			}
			if len(ks) == 0 {
				rt.Skip("nothing to release")
			}
			k := rapid.SampledFrom(ks).Draw(rt, "release")
			k.released = true
			close(k.release)
		},
		"Step": func(rt *rapid.T) { peStep(rt, l) },
	})
	for _, k := range calls {
		if !k.released {
			k.released = true
			close(k.release)
		}
	}
	var stats executor.Stats
	peOnLoop(rt, l, func(c *aio.Ctx) error {
		for _, k := range calls {
			aio.Await(c, k.task)
		}
		for range 20_000 {
			stats = executor.StatsOf(l)
			if stats.Submitted == stats.Skipped+stats.Late+stats.Delivered {
				break
			}
			aio.Sleep(c, time.Millisecond)
		}
		return nil
	})
	entered := int64(0)
	for _, k := range calls {
		if k.entered.Load() {
			entered++
			if n := k.returns.Load(); n != 1 {
				rt.Errorf("call %d: Run returned %d times", k.id, n)
			}
		}
		if n := k.ran.Load(); n > 1 || (!k.cancelled && n != 1) {
			rt.Errorf("call %d (kind %d, cancelled %v): the function ran %d times", k.id, k.kind, k.cancelled, n)
		}
		v, err := k.task.Result()
		if msg := peOutcome(k, v, err); msg != "" {
			rt.Errorf("call %d (kind %d, honour %v, cancelled %v): %s", k.id, k.kind, k.honour, k.cancelled, msg)
		}
	}
	if stats.Submitted != entered || stats.Submitted != stats.Skipped+stats.Late+stats.Delivered ||
		stats.Started != stats.Late+stats.Delivered {
		rt.Errorf("stats %+v do not balance (%d calls entered Run)", stats, entered)
	}
	if err := l.Close(); err != nil {
		rt.Error(err)
	}
}

// peOutcome compares a task's outcome with the model's; "" if it agrees.
func peOutcome(k *peCall, v int, err error) string {
	if k.cancelled {
		if !errors.Is(err, context.Canceled) {
			return fmt.Sprintf("got %v, %v; want a cancellation", v, err)
		}
		return ""
	}
	switch k.kind {
	case peFail:
		if !errors.Is(err, errPe) {
			return fmt.Sprintf("got %v, %v; want errPe", v, err)
		}
	case pePanic:
		var pe *aio.PanicError
		if !errors.As(err, &pe) || !errors.Is(err, errPe) {
			return fmt.Sprintf("got %v, %v; want a *aio.PanicError", v, err)
		}
	default:
		if v != k.id || err != nil {
			return fmt.Sprintf("got %v, %v; want %d, nil", v, err, k.id)
		}
	}
	return ""
}
