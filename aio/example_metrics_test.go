package aio_test

import (
	"fmt"
	"time"

	"github.com/aiogo/aio/aio"
)

// Reading a loop's metrics from one of its tasks: the counters of an
// interval are the difference of two snapshots. On the virtual clock every
// timer fires exactly on time, so the lags are zero.
func ExampleLoop_Metrics() {
	aio.Run(func(c *aio.Ctx) (int, error) {
		l := c.Loop()
		before := l.Metrics()
		var tasks []*aio.Task[int]
		for i := range 3 {
			t, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				return i, aio.Sleep(c, time.Duration(i+1)*time.Second)
			})
			tasks = append(tasks, t)
		}
		for _, t := range tasks {
			aio.Await(c, t)
		}
		d := l.Metrics().Sub(before)
		fmt.Println("spawned:", d.TasksSpawned, "live:", d.LiveTasks)
		fmt.Println("task steps:", d.TaskSteps) // 2 for each child, 3 for main
		fmt.Println("timers fired:", d.Lag.Count(), "max lag:", d.Lag.Max())
		return 0, nil
	}, aio.WithVirtualClock())
	// Output:
	// spawned: 3 live: 1
	// task steps: 9
	// timers fired: 3 max lag: 0s
}
