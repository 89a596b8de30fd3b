package aio_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/aiogo/aio/aio"
)

// TestPropDoorHappensBefore: a chain of calls passed along random actors
// (several producer goroutines and the loop), each call made after the
// previous actor's call returned and handed over the turn, runs in the
// order of the chain: CallSoon and Spawn in one FIFO, CallAt with one
// deadline (in the past: due as soon as the loop has them) among
// themselves. The turn reaches the loop through a variable
// that a loop callback polls, not through the door, so nothing but the
// loop's rule orders the loop's calls after the others'. Meanwhile other
// goroutines submit bursts of work, and a producer may be held between
// claiming a door slot and publishing it for the whole check.
func TestPropDoorHappensBefore(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		producers := rapid.IntRange(1, 4).Draw(rt, "producers")
		steps := rapid.IntRange(2, 40).Draw(rt, "steps")
		actors := rapid.SliceOfN(rapid.IntRange(0, producers), steps, steps).Draw(rt, "actors") // 0 is the loop
		kinds := rapid.SliceOfN(rapid.IntRange(0, 2), steps, steps).Draw(rt, "kinds")           // soon, at, spawn
		flood := rapid.IntRange(0, 2).Draw(rt, "flooders")
		hold := rapid.Bool().Draw(rt, "hold a producer")

		l, err := aio.NewLoop()
		if err != nil {
			rt.Fatal(err)
		}
		defer l.Close()
		var fifo, timers []int
		done := 0
		at := time.Time{} // long past: every timer is due as soon as the loop has it
		call := func(i int) {
			log := func() {
				if kinds[i] == 1 {
					timers = append(timers, i)
				} else {
					fifo = append(fifo, i)
				}
				done++
			}
			switch kinds[i] {
			case 0:
				l.CallSoon(log)
			case 1:
				l.CallAt(at, log)
			case 2:
				aio.Spawn(l, func(*aio.Ctx) (int, error) { log(); return 0, nil })
			}
		}
		// The turn: the index of the next call, and who makes it.
		var turn atomic.Int64
		turns := make([]chan int, producers+1)
		for p := 1; p <= producers; p++ {
			turns[p] = make(chan int, 1)
		}
		pass := func(i int) {
			if i+1 >= steps {
				return
			}
			if a := actors[i+1]; a == 0 {
				turn.Store(int64(i + 1)) // the loop polls for it
			} else {
				turns[a] <- i + 1
			}
		}
		var wg sync.WaitGroup
		for p := 1; p <= producers; p++ {
			wg.Go(func() {
				for i := range turns[p] {
					call(i)
					pass(i)
				}
			})
		}
		stop := make(chan struct{})
		for range flood {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					// Bursts well under what an iteration takes in:
					// the loop is busy, not overloaded (under overload a
					// timer from another goroutine can be late, and
					// CallAt says what happens then).
					for range 100 {
						l.CallSoon(func() {})
					}
					time.Sleep(200 * time.Microsecond)
				}
			})
		}
		turn.Store(-1)
		loopLast := -1 // the last call the loop made
		var poll func()
		poll = func() {
			if k := int(turn.Load()); k > loopLast {
				loopLast = k
				call(k)
				pass(k)
			}
			if done < steps {
				l.CallSoon(poll)
			}
		}
		var release func()
		l.CallSoon(func() {
			if hold {
				release = l.HoldDoorSlotForTest()
			}
			if actors[0] == 0 {
				turn.Store(0)
			} else {
				turns[actors[0]] <- 0
			}
			poll()
		})
		advance := func() bool { return done == steps }
		errc := make(chan error, 1)
		go func() { errc <- l.RunUntil(advance) }()
		select {
		case err := <-errc:
			if err != nil {
				rt.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			l.Stop()
			<-errc
			rt.Fatalf("the chain did not complete: %d of %d calls ran", done, steps)
		}
		close(stop)
		if release != nil {
			release()
		}
		for p := 1; p <= producers; p++ {
			close(turns[p])
		}
		wg.Wait()
		if !slices.IsSorted(fifo) || !slices.IsSorted(timers) {
			rt.Fatalf("calls ran out of the order of the chain: CallSoon/Spawn %v, CallAt %v (actors %v)", fifo, timers, actors)
		}
		if len(fifo)+len(timers) != steps {
			rt.Fatal(fmt.Sprintf("%d calls ran, want %d", len(fifo)+len(timers), steps))
		}
	})
}
