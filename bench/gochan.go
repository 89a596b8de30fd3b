package main

// Workloads of Go channels awaited from tasks: a GoRecv of a value that a
// goroutine sends after the task parked (the helper goroutine, the door and
// the wake of the loop's locked thread), and the fast path of a ready
// channel; beside goroutines doing the same receive with plain channel
// operations, unlocked and locked to their thread.

import (
	"fmt"

	"github.com/aiogo/aio/aio"
)

func gochanWorkloads() []workload {
	return []workload{
		{
			name:  "gorecv",
			title: "GoRecv round trip",
			about: "a task sends a request on a buffered Go channel and awaits the reply of a goroutine with GoRecv (a helper goroutine and the door), per round trip; Go: a goroutine blocked on the same receive, unlocked and locked to its thread",
			unit:  nsPerOp, n: 20_000, quickN: 2_000,
			aio: aioGochanRoundTrip,
			bases: []baseline{
				{"goroutine", roundTrip{reqBuf: 1}.run},
				{"locked", roundTrip{clientLocked: true, reqBuf: 1}.run},
			},
		},
		{
			name:  "gorecvready",
			title: "GoRecv, ready",
			about: "GoRecv from a buffered Go channel that holds a value (the fast path: no goroutine, no suspension); Go: a plain send and receive",
			unit:  nsPerOp, n: 2_000_000, quickN: 200_000,
			aio: aioGochanReady,
			bases: []baseline{
				{"chan", gochanGoRecvReady},
			},
		},
	}
}

// aioGochanRoundTrip measures one request (a send on a buffered Go channel,
// which never blocks the loop) and its reply, awaited with GoRecv.
func aioGochanRoundTrip(n int) (result, error) {
	req, resp := make(chan int, 1), make(chan int)
	go func() {
		for v := range req {
			resp <- v + 1
		}
	}()
	defer close(req)
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		m.start()
		for i := range n {
			req <- i
			v, _, err := aio.GoRecv(c, resp)
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
	return m.perOp(n), nil
}

// aioGochanReady measures GoRecv's fast path.
func aioGochanReady(n int) (result, error) {
	ch := make(chan int, 1)
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		sum := 0
		m.start()
		for i := range n {
			ch <- i
			v, _, err := aio.GoRecv(c, ch)
			if err != nil {
				return 0, err
			}
			sum += v - i
		}
		m.stop()
		if sum != 0 {
			return 0, fmt.Errorf("sum %d, want 0", sum)
		}
		return 0, nil
	})
	if err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}

// gochanGoRecvReady is the baseline: a send and a receive on a buffered channel.
func gochanGoRecvReady(n int) (result, error) {
	ch := make(chan int, 1)
	sum := 0
	var m meter
	m.start()
	for i := range n {
		ch <- i
		sum += <-ch - i
	}
	m.stop()
	if sum != 0 {
		return result{}, fmt.Errorf("sum %d, want 0", sum)
	}
	return m.perOp(n), nil
}
