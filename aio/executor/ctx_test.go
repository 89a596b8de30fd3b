package executor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/executor"
)

// Run's function gets a context derived from the task's (Ctx.Context): it
// carries the values of the task's parent context, and a timeout around the
// call cancels it with a cause matching context.DeadlineExceeded.
func TestRunContextFromTask(t *testing.T) {
	type key struct{}
	run(t, func(c *aio.Ctx) error {
		parent := context.WithValue(context.Background(), key{}, "from the request")
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) {
			return executor.Run(c, func(ctx context.Context) (string, error) {
				v, _ := ctx.Value(key{}).(string)
				return v, nil
			})
		}, aio.WithContext(parent))
		if v, err := aio.Await(c, task); v != "from the request" || err != nil {
			t.Errorf("the function saw %q, %v", v, err)
		}
		seen := make(chan error, 1)
		err := aio.WithTimeout(c, 5*time.Millisecond, func(c *aio.Ctx) error {
			_, err := executor.Run(c, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				seen <- context.Cause(ctx)
				return 0, nil
			})
			return err
		})
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("WithTimeout = %v", err)
		}
		if cause, _, _ := aio.GoRecv(c, seen); !errors.Is(cause, context.DeadlineExceeded) {
			t.Errorf("the function's context cause %v, want one matching DeadlineExceeded", cause)
		}
		return nil
	})
}
