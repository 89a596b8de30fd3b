package executor_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/executor"
)

// A blocking call awaited in a task: the loop runs other tasks meanwhile.
func ExampleRun() {
	v, err := aio.Run(func(c *aio.Ctx) (string, error) {
		return executor.Run(c, func(ctx context.Context) (string, error) {
			time.Sleep(time.Millisecond) // a blocking call
			return "done", nil
		})
	})
	fmt.Println(v, err)
	// Output: done <nil>
}

// A blocking call bounded by a timeout: when the timeout cancels the task,
// Run returns at once and the function's context is cancelled.
func ExampleRun_timeout() {
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		err := aio.WithTimeout(c, 10*time.Millisecond, func(c *aio.Ctx) error {
			_, err := executor.Run(c, func(ctx context.Context) (int, error) {
				<-ctx.Done() // a call that honours its context
				return 0, ctx.Err()
			})
			return err
		})
		fmt.Println("timed out:", errors.Is(err, context.DeadlineExceeded))
		return 0, nil
	})
	fmt.Println(err)
	// Output:
	// timed out: true
	// <nil>
}

// A loop whose calls all go to an executor of the program's own.
func ExampleSetDefault() {
	var submitted atomic.Int64
	spawn := executor.ExecutorFunc(func(task func()) error {
		submitted.Add(1)
		go task()
		return nil
	})
	v, err := aio.Run(func(c *aio.Ctx) (int, error) {
		if err := executor.SetDefault(c.Loop(), spawn); err != nil {
			return 0, err
		}
		return executor.Run(c, func(context.Context) (int, error) { return 7, nil })
	})
	fmt.Println(v, err, submitted.Load())
	// Output: 7 <nil> 1
}
