package aio_test

import (
	"fmt"

	"github.com/aiogo/aio/aio"
)

// A package keeps what it needs per loop in a LoopValue: here a count of
// requests, made at the first Get on a loop and released when that loop
// closes, after its tasks have ended.
func ExampleLoopValue() {
	type stats struct{ requests int }
	perLoop := aio.NewLoopValue(func(l *aio.Loop) (*stats, error) {
		fmt.Println("made")
		return &stats{}, nil
	}, func(l *aio.Loop, s *stats) {
		fmt.Println("released after", s.requests, "requests")
	})

	handle := func(c *aio.Ctx) error {
		s, err := perLoop.Get(c.Loop())
		if err != nil {
			return err
		}
		s.requests++
		return nil
	}
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		for range 3 {
			if err := handle(c); err != nil {
				return struct{}{}, err
			}
		}
		fmt.Println("main task done")
		return struct{}{}, nil
	})
	fmt.Println("Run:", err)
	// Output:
	// made
	// main task done
	// released after 3 requests
	// Run: <nil>
}
