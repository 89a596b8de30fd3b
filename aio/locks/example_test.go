package locks_test

import (
	"fmt"
	"time"

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

// Ten fetches, at most three at a time: each task takes a permit before it
// fetches and gives it back after, so the fourth waits for one of the first
// three to finish.
func ExampleSemaphore() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		sem, _ := locks.NewSemaphore(3)
		running, peak := 0, 0
		fetch := func(c *aio.Ctx, url string) (string, error) {
			if err := sem.Acquire(c); err != nil {
				return "", err
			}
			defer sem.Release()
			running++
			peak = max(peak, running)
			defer func() { running-- }()
			if err := aio.Sleep(c, time.Millisecond); err != nil { // the fetch
				return "", err
			}
			return "<" + url + ">", nil
		}
		pages := make([]string, 10)
		err := aio.WithGroup(c, func(g *aio.Group) error {
			for i := range pages {
				g.Go(func(c *aio.Ctx) error {
					var err error
					pages[i], err = fetch(c, fmt.Sprintf("example.com/%d", i))
					return err
				})
			}
			return nil
		})
		fmt.Println(len(pages), "pages, at most", peak, "fetches at a time; error:", err)
		fmt.Println(pages[9])
		return struct{}{}, err
	})
	// Output:
	// 10 pages, at most 3 fetches at a time; error: <nil>
	// <example.com/9>
}

// A Lock held across an Await: each task reads the balance, waits (for a
// slow service, say), and writes it back. Without the Lock, the tasks would
// all read the same balance and two deposits would be lost; with it, each
// read-wait-write runs alone. Code that does not suspend between the read
// and the write needs no lock at all.
func ExampleLock() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		var mu locks.Lock
		balance := 100
		deposit := func(c *aio.Ctx, amount int) error {
			if err := mu.Acquire(c); err != nil {
				return err
			}
			defer mu.Release()
			b := balance
			if err := aio.Sleep(c, time.Millisecond); err != nil {
				return err
			}
			balance = b + amount
			return nil
		}
		err := aio.WithGroup(c, func(g *aio.Group) error {
			for _, amount := range []int{10, 20, 30} {
				g.Go(func(c *aio.Ctx) error { return deposit(c, amount) })
			}
			return nil
		})
		fmt.Println("balance:", balance, "error:", err)
		return struct{}{}, err
	})
	// Output:
	// balance: 160 error: <nil>
}

// A producer and a consumer share a buffer under a Condition: the consumer
// waits for items with WaitFor, the producer adds them and notifies.
func ExampleCondition() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		var cond locks.Condition
		var buffer []string
		done := false
		consumer, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			n := 0
			for {
				if err := cond.Acquire(c); err != nil {
					return n, err
				}
				err := cond.WaitFor(c, func() bool { return len(buffer) > 0 || done })
				if err != nil || len(buffer) == 0 {
					cond.Release()
					return n, err
				}
				item := buffer[0]
				buffer = buffer[1:]
				cond.Release()
				fmt.Println("consumed", item)
				n++
			}
		})
		for _, item := range []string{"a", "b", "c"} {
			aio.Sleep(c, time.Millisecond) // the item takes time to make
			cond.Acquire(c)
			buffer = append(buffer, item)
			cond.Notify(1)
			cond.Release()
		}
		cond.Acquire(c)
		done = true
		cond.NotifyAll()
		cond.Release()
		n, err := aio.Await(c, consumer)
		fmt.Println(n, "items consumed")
		return struct{}{}, err
	})
	// Output:
	// consumed a
	// consumed b
	// consumed c
	// 3 items consumed
}

// Three workers finish a phase at different times and wait at a Barrier;
// none starts the next phase before all are done with the first.
func ExampleBarrier() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		b, _ := locks.NewBarrier(3)
		err := aio.WithGroup(c, func(g *aio.Group) error {
			for i := range 3 {
				g.Go(func(c *aio.Ctx) error {
					aio.Sleep(c, time.Duration(i+1)*time.Millisecond) // phase 1
					fmt.Println("worker", i, "done with phase 1")
					if _, err := b.Wait(c); err != nil {
						return err
					}
					if i == 0 {
						fmt.Println("everyone starts phase 2")
					}
					return nil
				})
			}
			return nil
		})
		return struct{}{}, err
	})
	// Output:
	// worker 0 done with phase 1
	// worker 1 done with phase 1
	// worker 2 done with phase 1
	// everyone starts phase 2
}

// Readers share an RWLock; a writer waits until they have left, and the
// readers that come after the writer wait for it.
func ExampleRWLock() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		var rw locks.RWLock
		config := "v1"
		read := func(name string, delay time.Duration) func(c *aio.Ctx) error {
			return func(c *aio.Ctx) error {
				aio.Sleep(c, delay)
				if err := rw.RLock(c); err != nil {
					return err
				}
				defer rw.RUnlock()
				fmt.Println(name, "reads", config)
				return aio.Sleep(c, 2*time.Millisecond)
			}
		}
		err := aio.WithGroup(c, func(g *aio.Group) error {
			g.Go(read("reader 1", 0))
			g.Go(func(c *aio.Ctx) error {
				aio.Sleep(c, time.Millisecond)
				if err := rw.Lock(c); err != nil {
					return err
				}
				defer rw.Unlock()
				config = "v2"
				fmt.Println("writer writes", config)
				return nil
			})
			g.Go(read("reader 2", 2*time.Millisecond)) // comes after the writer
			return nil
		})
		return struct{}{}, err
	})
	// Output:
	// reader 1 reads v1
	// writer writes v2
	// reader 2 reads v2
}
