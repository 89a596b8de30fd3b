package main

// Workloads of package aio/loops: a hand-off round trip between two loops
// of a group (a task of one loop runs a function on the other and awaits
// its result: one trip through each loop's door, and the wake of each
// loop's locked thread when it is parked), as a callback (CallFunc) and as
// a task (Call), beside a Go channel round trip between two goroutines
// locked to their threads.

import (
	"context"
	"fmt"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/loops"
)

func loopsWorkloads() []workload {
	bases := []baseline{{"locked chans", roundTrip{serverLocked: true, clientLocked: true}.run}}
	return []workload{
		{
			name:  "handoff",
			title: "Cross-loop call",
			about: "a task of one loop of a group runs a function in a callback of the other loop and awaits its result (loops.CallFunc: through both loops' doors), per round trip; Go: a request and a reply on unbuffered channels between two goroutines locked to their threads",
			unit:  nsPerOp, n: 5_000, quickN: 1_000,
			aio:   handoffRoundTrip(false),
			bases: bases,
		},
		{
			name:  "handofftask",
			title: "Cross-loop task",
			about: "as handoff, with the function in a task of the other loop (loops.Call: a task spawned there, its done callback, the result back through the caller's door)",
			unit:  nsPerOp, n: 5_000, quickN: 1_000,
			aio:   handoffRoundTrip(true),
			bases: bases,
		},
	}
}

// handoffRoundTrip measures n round trips from a task of loop 0 to loop 1.
func handoffRoundTrip(task bool) func(n int) (result, error) {
	return func(n int) (result, error) {
		g, err := loops.New(2)
		if err != nil {
			return result{}, err
		}
		defer g.Close()
		if err := g.Start(); err != nil {
			return result{}, err
		}
		other := g.Loop(1)
		var m meter
		t, err := aio.Spawn(g.Loop(0), func(c *aio.Ctx) (int, error) {
			m.start()
			for i := range n {
				var v int
				var err error
				if task {
					v, err = loops.Call(c, other, func(*aio.Ctx) (int, error) { return i + 1, nil })
				} else {
					v, err = loops.CallFunc(c, other, func() (int, error) { return i + 1, nil })
				}
				if err != nil {
					return 0, err
				}
				if v != i+1 {
					return 0, fmt.Errorf("got %d, want %d", v, i+1)
				}
			}
			m.stop()
			return 0, nil
		})
		if err != nil {
			return result{}, err
		}
		if _, err := t.Wait(context.Background()); err != nil {
			return result{}, err
		}
		return m.perOp(n), nil
	}
}
