package main

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// overloadWorkloads measure the loop under a flood from other goroutines:
// timers scheduled on the loop must still fire on time, because the loop
// takes a bounded number of items from its door per iteration and its own
// timers never wait for the door.
//
// With one flooding goroutine the loop keeps a core of its own; with two on
// a 2-core machine the CPU is saturated, and Go's scheduler gives each
// runnable goroutine slices of up to 10 ms, the loop's among them: the
// lateness then follows the scheduler, not what the door holds.
func overloadWorkloads() []workload {
	idle := baseline{name: "idle loop", run: timerLateness(0)}
	return []workload{{
		name:   "overload",
		title:  "overload, 1 flood",
		about:  "the p99 lateness of a chain of 1 ms timers while 1 goroutine floods the loop's door with callbacks; Go: the same timers on an idle loop",
		unit:   latency,
		n:      300,
		quickN: 30,
		aio:    timerLateness(1),
		bases:  []baseline{idle},
	}, {
		name:   "overload-saturated",
		title:  "overload, 2 floods",
		about:  "the same p99 lateness with 2 goroutines flooding the door: the CPU is saturated on 2 cores; Go: the idle loop again",
		unit:   latency,
		n:      300,
		quickN: 30,
		aio:    timerLateness(2),
		bases:  []baseline{idle},
	}}
}

// timerLateness runs a chain of n timers of 1 ms on a loop (each scheduled
// by the previous one's callback, with CallAt, so nothing but the timer
// wakes the loop) while flooders goroutines send callbacks through the door
// as fast as they can, and returns the p99 lateness (how long after its
// deadline, on the loop's clock, each timer's callback ran) with p50, p99
// and max in the note.
func timerLateness(flooders int) func(n int) (result, error) {
	return func(n int) (result, error) {
		l, err := newLoop()
		if err != nil {
			return result{}, err
		}
		defer l.Close()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range flooders {
			wg.Go(func() {
				noop := func() {}
				for {
					select {
					case <-stop:
						return
					default:
					}
					for range 256 {
						if _, err := l.CallSoon(noop); err != nil {
							return
						}
					}
				}
			})
		}
		late := make([]time.Duration, 0, n)
		var link func()
		link = func() {
			due := l.Now().Add(time.Millisecond)
			l.CallAt(due, func() {
				late = append(late, l.Now().Sub(due))
				if len(late) < n {
					link()
				}
			})
		}
		l.CallSoon(link)
		err = runBounded(l, func() bool { return len(late) == n })
		close(stop)
		wg.Wait()
		if err != nil {
			return result{}, err
		}
		slices.Sort(late)
		p := func(q float64) time.Duration { return late[min(int(q*float64(n)), n-1)] }
		return result{
			value:  float64(p(0.99)),
			allocs: -1,
			note:   fmt.Sprintf("p50 %s, p99 %s, max %s", ms(p(0.5)), ms(p(0.99)), ms(late[n-1])),
		}, nil
	}
}
