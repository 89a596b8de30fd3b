package main

// Workloads that cross between goroutines: callbacks submitted to a running
// loop from other goroutines, and tasks spawned from a plain goroutine that
// then waits for their result.

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aiogo/aio/aio"
)

// producers is the number of submitting goroutines.
const producers = 4

func submitWorkloads() []workload {
	return []workload{{
		name:  "submit",
		title: fmt.Sprintf("submit, %d senders", producers),
		about: fmt.Sprintf("callbacks submitted to a running loop by %d other goroutines (CallSoon through the door); Go: a buffered channel of 1024; a mutex and a swapped slice", producers),
		unit:  nsPerOp, n: 1_000_000, quickN: 100_000,
		aio: aioSubmit,
		bases: []baseline{
			{"chan (1024)", goSubmitChan},
			{"mutex+slice", goSubmitMutex},
		},
	}}
}

func roundTripWorkloads() []workload {
	return []workload{{
		name:  "roundtrip",
		title: "Spawn+Wait from go",
		about: "Spawn from a plain goroutine onto a parked loop, then Wait for the result; Go: a channel round trip to a server goroutine, unlocked and locked to its thread",
		unit:  nsPerOp, n: 20_000, quickN: 2_000,
		aio: aioSpawnWait,
		bases: []baseline{
			{"chan server", roundTrip{}.run},
			{"chan, locked", roundTrip{serverLocked: true}.run},
		},
	}}
}

// split returns how many of n items producer p sends.
func split(n, p int) int {
	k := n / producers
	if p < n%producers {
		k++
	}
	return k
}

// aioSubmit measures CallSoon from other goroutines onto a running loop:
// 4 producer goroutines submit n callbacks in all; the time runs from the
// producers' start until the loop has run the last callback. Each callback
// travels through the loop's lock-free door; the loop parks in the poller
// when the door is empty and is woken by the producers.
func aioSubmit(n int) (result, error) {
	l, err := newLoop()
	if err != nil {
		return result{}, err
	}
	defer l.Close()
	ran := 0
	fn := func() { ran++ }
	var m meter
	var wg sync.WaitGroup
	var prodErr firstError
	start := func() {
		m.start()
		for p := range producers {
			k := split(n, p)
			wg.Go(func() {
				for range k {
					if _, err := l.CallSoon(fn); err != nil {
						prodErr.set(err)
						return
					}
				}
			})
		}
	}
	if _, err := l.CallSoon(start); err != nil {
		return result{}, err
	}
	err = runBounded(l, func() bool { return ran >= n })
	m.stop()
	l.Close() // stops producers still at work after a failure
	wg.Wait()
	if err == nil {
		err = prodErr.get()
	}
	if err != nil {
		return result{}, err
	}
	if ran != n {
		return result{}, fmt.Errorf("ran %d callbacks, want %d", ran, n)
	}
	return m.perOp(n), nil
}

// goSubmitChan is the same job over a buffered channel of funcs: 4
// producers send, one consumer receives and calls.
func goSubmitChan(n int) (result, error) {
	ch := make(chan func(), 1024)
	ran := 0
	fn := func() { ran++ }
	var m meter
	var wg sync.WaitGroup
	m.start()
	for p := range producers {
		k := split(n, p)
		wg.Go(func() {
			for range k {
				ch <- fn
			}
		})
	}
	for range n {
		(<-ch)()
	}
	m.stop()
	wg.Wait()
	if ran != n {
		return result{}, fmt.Errorf("ran %d funcs, want %d", ran, n)
	}
	return m.perOp(n), nil
}

// goSubmitMutex is the same job over a mutex-guarded slice: producers
// append under the lock; the consumer swaps the slice for an empty one
// under the lock and calls what it took. A producer that appends to an
// empty slice signals the consumer through a 1-buffered channel, and the
// consumer blocks on it only when it finds the slice empty, so no wake-up
// is lost and bursts cost one signal.
func goSubmitMutex(n int) (result, error) {
	var mu sync.Mutex
	var pending []func()
	wake := make(chan struct{}, 1)
	ran := 0
	fn := func() { ran++ }
	var m meter
	var wg sync.WaitGroup
	m.start()
	for p := range producers {
		k := split(n, p)
		wg.Go(func() {
			for range k {
				mu.Lock()
				pending = append(pending, fn)
				first := len(pending) == 1
				mu.Unlock()
				if first {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			}
		})
	}
	var spare []func()
	for ran < n {
		mu.Lock()
		took := pending
		pending = spare[:0]
		mu.Unlock()
		if len(took) == 0 {
			<-wake
		}
		for _, f := range took {
			f()
		}
		clear(took)
		spare = took
	}
	m.stop()
	wg.Wait()
	if ran != n {
		return result{}, fmt.Errorf("ran %d funcs, want %d", ran, n)
	}
	return m.perOp(n), nil
}

// aioSpawnWait measures the round trip from a plain goroutine into a loop
// and back: Spawn a task that returns at once, then Wait for its result, one
// at a time. The loop runs on its own goroutine and parks between requests,
// so every round trip wakes it through the poller and wakes the waiter
// through the task's Done channel.
func aioSpawnWait(n int) (result, error) {
	l, err := newLoop()
	if err != nil {
		return result{}, err
	}
	loopDone := make(chan error, 1)
	go func() {
		err := l.RunForever()
		loopDone <- errors.Join(err, l.Close())
	}()
	ctx, cancel := context.WithTimeout(context.Background(), runLimit)
	defer cancel()
	body := func(*aio.Ctx) (int, error) { return 1, nil }
	var m meter
	m.start()
	sum := 0
	var runErr error
	for range n {
		t, err := aio.Spawn(l, body)
		if err != nil {
			runErr = fmt.Errorf("spawn: %w", err)
			break
		}
		v, err := t.Wait(ctx)
		if err != nil {
			runErr = fmt.Errorf("wait: %w", err)
			break
		}
		sum += v
	}
	m.stop()
	err = errors.Join(runErr, l.Stop())
	select {
	case lerr := <-loopDone:
		err = errors.Join(err, lerr)
	case <-ctx.Done():
		err = errors.Join(err, errors.New("the loop did not stop"))
	}
	if err != nil {
		return result{}, err
	}
	if sum != n {
		return result{}, fmt.Errorf("sum of results %d, want %d", sum, n)
	}
	return m.perOp(n), nil
}

// firstError keeps the first error that goroutines report.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
