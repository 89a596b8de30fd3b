package prop_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// gcTally counts every value of a run: sent (a goroutine's send completed,
// or a GoSend returned nil) and received (a GoRecv, a GoRecvCase, a
// goroutine's receive, the final drain, or a stranded-value report).
// Shared by the loop and the goroutines.
type gcTally struct {
	mu       sync.Mutex
	sent     map[int]int
	received map[int]int
	failed   map[int]bool // values whose GoSend returned an error: never received
}

func (g *gcTally) add(m map[int]int, v int) {
	g.mu.Lock()
	m[v]++
	g.mu.Unlock()
}

// TestPropGoChanConservation runs random mixes of producers and consumers
// of one Go channel (buffered or not) between goroutines and tasks: tasks
// receiving with GoRecv or with a GoRecvCase in a Select beside a timeout,
// tasks sending with GoSend, goroutines sending and receiving, under random
// timeouts and random cancellations of the tasks, and checks conservation:
// every value sent (a goroutine's send that completed, a GoSend that
// returned nil) is received exactly once, by a task, a goroutine, the final
// drain, or as a stranded value reported at the loop's close; no value
// whose GoSend failed is ever received; no value is received that was not
// sent. No goroutine is left behind (TestMain's goleak).
func TestPropGoChanConservation(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		capacity := rapid.IntRange(0, 2).Draw(rt, "cap")
		ch := make(chan int, capacity)
		g := &gcTally{sent: map[int]int{}, received: map[int]int{}, failed: map[int]bool{}}
		var gwg sync.WaitGroup // goroutine producers and consumers
		quit := make(chan struct{})
		next := 0
		var stranded []any
		var mu sync.Mutex
		_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
			c.Loop().SetErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) {
				var se *aio.StrandedValueError
				if errors.As(ec.Err, &se) {
					mu.Lock()
					stranded = append(stranded, se.Value)
					mu.Unlock()
					return
				}
				aio.DefaultErrorHandler(nil, ec)
			})
			var tasks []*aio.Task[struct{}]
			timeout := func(rt *rapid.T) time.Duration {
				return []time.Duration{0, time.Microsecond, 50 * time.Microsecond, time.Millisecond, -1}[rapid.IntRange(0, 4).Draw(rt, "timeout")]
			}
			// within runs body under timeout d (none for a negative d).
			within := func(c *aio.Ctx, d time.Duration, body func(c *aio.Ctx) error) error {
				if d < 0 {
					return body(c)
				}
				return aio.WithTimeout(c, d, body)
			}
			spawn := func(body func(c *aio.Ctx) error) {
				task, err := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) { return struct{}{}, body(c) })
				if err != nil {
					rt.Fatalf("Spawn: %v", err)
				}
				tasks = append(tasks, task)
			}
			rt.Repeat(map[string]func(*rapid.T){
				"goSend": func(rt *rapid.T) {
					v := next
					next++
					gwg.Add(1)
					go func() {
						defer gwg.Done()
						select {
						case ch <- v:
							g.add(g.sent, v)
						case <-quit:
						}
					}()
				},
				"goRecv": func(rt *rapid.T) {
					gwg.Add(1)
					go func() {
						defer gwg.Done()
						select {
						case v := <-ch:
							g.add(g.received, v)
						case <-quit:
						}
					}()
				},
				"taskRecv": func(rt *rapid.T) {
					d := timeout(rt)
					spawn(func(c *aio.Ctx) error {
						return within(c, d, func(c *aio.Ctx) error {
							v, ok, err := aio.GoRecv(c, ch)
							if err == nil && ok {
								g.add(g.received, v)
							}
							return err
						})
					})
				},
				"taskSelect": func(rt *rapid.T) {
					d := timeout(rt)
					var lch aio.Chan[int]
					spawn(func(c *aio.Ctx) error {
						var v int
						var ok bool
						cases := []aio.SelectCase{aio.GoRecvCase(ch, &v, &ok), aio.RecvCase(&lch, nil, nil)}
						if d >= 0 {
							cases = append(cases, aio.TimeoutCase(d))
						}
						i, err := aio.Select(c, cases...)
						if err == nil && i == 0 && ok {
							g.add(g.received, v)
						}
						return err
					})
				},
				"taskSend": func(rt *rapid.T) {
					d := timeout(rt)
					v := next
					next++
					spawn(func(c *aio.Ctx) error {
						err := within(c, d, func(c *aio.Ctx) error { return aio.GoSend(c, ch, v) })
						if err == nil {
							g.add(g.sent, v)
						} else {
							g.mu.Lock()
							g.failed[v] = true
							g.mu.Unlock()
						}
						return err
					})
				},
				"cancel": func(rt *rapid.T) {
					if len(tasks) > 0 {
						tasks[rapid.IntRange(0, len(tasks)-1).Draw(rt, "task")].Cancel(nil)
					}
				},
				"step": func(rt *rapid.T) {
					for range rapid.IntRange(1, 4).Draw(rt, "yields") {
						aio.Yield(c)
					}
				},
				"sleep": func(rt *rapid.T) {
					aio.Sleep(c, 100*time.Microsecond)
				},
			})
			// End: cancel every task, wait for them, and let the loop close
			// (which reports what its stashes hold).
			for _, task := range tasks {
				task.Cancel(nil)
			}
			for _, task := range tasks {
				if _, err := aio.Await(c, task); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, aio.ErrTimeout) {
					return struct{}{}, fmt.Errorf("task: %w", err)
				}
			}
			return struct{}{}, nil
		})
		if err != nil {
			rt.Fatalf("Run: %v", err)
		}
		// Drain: take what goroutine senders still offer, then stop the
		// goroutines left blocked.
		deadline := time.After(50 * time.Millisecond)
	drain:
		for {
			select {
			case v := <-ch:
				g.add(g.received, v)
			case <-deadline:
				break drain
			}
		}
		close(quit)
		gwg.Wait()
		for len(ch) > 0 {
			g.add(g.received, <-ch)
		}
		for _, v := range stranded {
			g.add(g.received, v.(int))
		}
		for v, n := range g.received {
			if g.sent[v] != 1 || n != 1 {
				rt.Fatalf("value %d received %d times, sent %d times (failed %v)", v, n, g.sent[v], g.failed[v])
			}
		}
		for v, n := range g.sent {
			if g.received[v] != n {
				rt.Fatalf("value %d sent %d times, received %d times", v, n, g.received[v])
			}
		}
		for v := range g.failed {
			if g.received[v] != 0 || g.sent[v] != 0 {
				rt.Fatalf("value %d: GoSend failed, yet it was received", v)
			}
		}
	})
}
