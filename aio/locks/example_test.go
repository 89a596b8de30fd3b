package locks_test

import (
	"fmt"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
)

// Workers wait until the main task opens the gate.
func ExampleEvent() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		var gate locks.Event
		var workers []*aio.Task[int]
		for i := range 3 {
			w, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				if err := gate.Wait(c); err != nil {
					return 0, err
				}
				fmt.Println("worker", i, "through the gate")
				return i, nil
			})
			workers = append(workers, w)
		}
		aio.Yield(c) // the workers wait at the gate
		fmt.Println("opening the gate")
		gate.Set()
		_, err := aio.Gather(c, workers...)
		return struct{}{}, err
	})
	// Output:
	// opening the gate
	// worker 0 through the gate
	// worker 1 through the gate
	// worker 2 through the gate
}
