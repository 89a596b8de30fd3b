package main

// Workloads of loop-native channels: a round trip between two tasks over
// two Chans, and a Select over four Chans, beside Go's channels and select.

import (
	"fmt"

	"github.com/aiogo/aio/aio"
)

func chanWorkloads() []workload {
	return []workload{
		{
			name:  "chan",
			title: "Chan ping-pong",
			about: "a value sent back and forth between two tasks over two unbuffered Chans, per round trip; Go: two goroutines on unbuffered channels",
			unit:  nsPerOp, n: 300_000, quickN: 20_000,
			aio: aioChanPingPong,
			bases: []baseline{
				{"2 goroutines", goPingPong},
			},
		},
		{
			name:  "select",
			title: "Select, 4 Chans",
			about: "a Select receiving from four buffered Chans of which one holds a value; Go: select over four buffered channels",
			unit:  nsPerOp, n: 1_000_000, quickN: 100_000,
			aio: func(n int) (result, error) { return aioSelect4(n, false) },
			bases: []baseline{
				{"select", goSelect4},
			},
		},
		{
			name:  "select-reused",
			title: "Select, reused",
			about: "the same Select with its four cases made once, before the loop, and passed to every call (a Go select statement is compiled once too); Go: select over four buffered channels",
			unit:  nsPerOp, n: 1_000_000, quickN: 100_000,
			aio: func(n int) (result, error) { return aioSelect4(n, true) },
			bases: []baseline{
				{"select", goSelect4},
			},
		},
	}
}

// aioChanPingPong measures one round trip between two tasks over Chans: the
// pinger sends on ping and receives on pong; the ponger the other way.
func aioChanPingPong(n int) (result, error) {
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		var ping, pong aio.Chan[int]
		ponger, err := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			for {
				v, ok, err := ping.Recv(c)
				if err != nil || !ok {
					return 0, err
				}
				if err := pong.Send(c, v); err != nil {
					return 0, err
				}
			}
		})
		if err != nil {
			return 0, err
		}
		m.start()
		for i := range n {
			if err := ping.Send(c, i); err != nil {
				return 0, err
			}
			v, _, err := pong.Recv(c)
			if err != nil {
				return 0, err
			}
			if v != i {
				return 0, fmt.Errorf("got %d, want %d", v, i)
			}
		}
		m.stop()
		ping.Close()
		_, err = aio.Await(c, ponger)
		return 0, err
	})
	if err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}

// aioSelect4 measures a Select over four Chans with one value ready, its
// cases made for each call, or (reuse) once before the loop.
func aioSelect4(n int, reuse bool) (result, error) {
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		var chans [4]*aio.Chan[int]
		for i := range chans {
			chans[i] = aio.NewChan[int](1)
		}
		sum, v := 0, 0
		cases := make([]aio.SelectCase, len(chans))
		for i, ch := range chans {
			cases[i] = aio.RecvCase(ch, &v, nil)
		}
		m.start()
		for i := range n {
			if err := chans[i&3].TrySend(1); err != nil {
				return 0, err
			}
			var err error
			if reuse {
				_, err = aio.Select(c, cases...)
			} else {
				_, err = aio.Select(c, aio.RecvCase(chans[0], &v, nil), aio.RecvCase(chans[1], &v, nil),
					aio.RecvCase(chans[2], &v, nil), aio.RecvCase(chans[3], &v, nil))
			}
			if err != nil {
				return 0, err
			}
			sum += v
		}
		m.stop()
		if sum != n {
			return 0, fmt.Errorf("sum %d, want %d", sum, n)
		}
		return 0, nil
	})
	if err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}

// goSelect4 is Go's select over four buffered channels, one holding a
// value.
func goSelect4(n int) (result, error) {
	var chans [4]chan int
	for i := range chans {
		chans[i] = make(chan int, 1)
	}
	sum := 0
	var m meter
	m.start()
	for i := range n {
		chans[i&3] <- 1
		select {
		case v := <-chans[0]:
			sum += v
		case v := <-chans[1]:
			sum += v
		case v := <-chans[2]:
			sum += v
		case v := <-chans[3]:
			sum += v
		}
	}
	m.stop()
	if sum != n {
		return result{}, fmt.Errorf("sum %d, want %d", sum, n)
	}
	return m.perOp(n), nil
}
