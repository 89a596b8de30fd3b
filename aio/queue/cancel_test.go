package queue_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/queue"
)

// A getter that a Put woke and that is cancelled before it runs takes
// nothing; the wake passes to the getter behind it, which gets the item,
// and the getters behind that one still wait, each for an item of its own.
func TestCancelledWokenGetterPassesOn(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](0)
		var tasks []*aio.Task[int]
		var gets []*outcome[int]
		for range 3 {
			task, o := spawnGet[int](c, q)
			tasks, gets = append(tasks, task), append(gets, o)
		}
		settle(c)
		q.TryPut(1)          // wakes getter 0 ...
		tasks[0].Cancel(nil) // ... which is cancelled before it runs
		settle(c)
		if !errors.Is(gets[0].err, context.Canceled) {
			t.Errorf("cancelled getter: %+v", *gets[0])
		}
		if !gets[1].done || gets[1].err != nil || gets[1].v != 1 {
			t.Errorf("the getter behind it: %+v, want 1", *gets[1])
		}
		if gets[2].done {
			t.Errorf("the third getter ended: %+v", *gets[2])
		}
		q.TryPut(2)
		settle(c)
		if gets[2].v != 2 || q.Len() != 0 {
			t.Errorf("third getter %+v, Len %d", *gets[2], q.Len())
		}
		return nil
	})
}

// A putter on a full bounded queue that a Get woke and that is cancelled
// before it runs puts nothing; the free slot passes to the putter behind
// it, and the putters behind that one still wait.
func TestCancelledWokenPutterPassesOn(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](1)
		q.TryPut(0)
		var tasks []*aio.Task[int]
		var puts []*outcome[int]
		for i := range 3 {
			task, o := spawnPut[int](c, q, 1+i)
			tasks, puts = append(tasks, task), append(puts, o)
		}
		settle(c)
		if v, _ := q.TryGet(); v != 0 { // frees the slot for putter 0 ...
			t.Errorf("TryGet = %d", v)
		}
		tasks[0].Cancel(nil) // ... which is cancelled before it runs
		settle(c)
		if !errors.Is(puts[0].err, context.Canceled) {
			t.Errorf("cancelled putter: %+v", *puts[0])
		}
		if !puts[1].done || puts[1].err != nil || puts[2].done {
			t.Errorf("putters behind: %+v, %+v", *puts[1], *puts[2])
		}
		if v, _ := q.TryGet(); v != 2 {
			t.Errorf("TryGet = %d, want putter 1's 2", v)
		}
		settle(c)
		if v, _ := q.TryGet(); v != 3 || !puts[2].done {
			t.Errorf("TryGet = %d, want putter 2's 3", v)
		}
		return nil
	})
}

// A getter cancelled with nobody behind it leaves the item that arrived
// for it in the queue, where the next Get finds it; a getter cancelled
// while it waits, with no item in sight, leaves the queue as it was.
func TestCancelledGetterLeavesItem(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](0)
		a, ao := spawnGet[int](c, q)
		b, bo := spawnGet[int](c, q)
		settle(c)
		b.Cancel(nil) // waiting, no item
		settle(c)
		q.TryPut(7)
		a.Cancel(nil) // woken for 7, not run yet
		settle(c)
		if !errors.Is(ao.err, context.Canceled) || !errors.Is(bo.err, context.Canceled) {
			t.Errorf("getters: %+v, %+v", *ao, *bo)
		}
		if v, err := q.TryGet(); v != 7 || err != nil {
			t.Errorf("TryGet = %d, %v; want the item the cancelled getter left", v, err)
		}
		return nil
	})
}

// python/asyncio#343: an item put in the same loop iteration in which a
// timeout around a Get expires is either returned by that Get or stays in
// the queue for the next getter; it is never lost. Each case arranges the
// two events in one iteration, in one order or the other: two timers with
// the same deadline (they fire in the order they were scheduled), or one
// callback that does both. Every value is counted end to end.
func TestIssue343TimeoutAroundGet(t *testing.T) {
	type arrange func(c *aio.Ctx, q *queue.Queue[int], v int) (got int, err error)
	const d = 2 * time.Millisecond
	cases := []struct {
		name string
		get  arrange
	}{
		{"timeout timer, then put timer", func(c *aio.Ctx, q *queue.Queue[int], v int) (int, error) {
			var got int
			var gerr error
			err := aio.WithTimeout(c, d, func(c *aio.Ctx) error {
				dl, _ := c.Scope().Deadline()
				c.Loop().CallAt(dl, func() { q.TryPut(v) }) // after the timeout's timer
				got, gerr = q.Get(c)
				return gerr
			})
			return got, errors.Join(gerr, err)
		}},
		{"put timer, then timeout timer", func(c *aio.Ctx, q *queue.Queue[int], v int) (int, error) {
			var got int
			var gerr error
			at := c.Loop().Now().Add(d)
			c.Loop().CallAt(at, func() { q.TryPut(v) })
			err := aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error {
				c.Scope().SetDeadline(at) // the scope's timer now comes after the put's
				got, gerr = q.Get(c)
				return gerr
			})
			return got, errors.Join(gerr, err)
		}},
		{"one callback: put, then expire", func(c *aio.Ctx, q *queue.Queue[int], v int) (int, error) {
			var got int
			var gerr error
			err := aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error {
				s := c.Scope()
				c.Loop().CallLater(d, func() {
					q.TryPut(v)
					s.Cancel(nil) // the scope's cancellation, in the same step
				})
				got, gerr = q.Get(c)
				return gerr
			})
			return got, errors.Join(gerr, err) // the scope absorbs its own Cancel
		}},
		{"one callback: expire, then put", func(c *aio.Ctx, q *queue.Queue[int], v int) (int, error) {
			var got int
			var gerr error
			err := aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error {
				s := c.Scope()
				c.Loop().CallLater(d, func() {
					s.Cancel(nil)
					q.TryPut(v)
				})
				got, gerr = q.Get(c)
				return gerr
			})
			return got, errors.Join(gerr, err) // the scope absorbs its own Cancel
		}},
		{"WaitFor on a getter task, put timer at its deadline", func(c *aio.Ctx, q *queue.Queue[int], v int) (int, error) {
			getter, _ := aio.Spawn(c, q.Get)
			aio.Yield(c) // the getter waits
			c.Loop().CallLater(d, func() { q.TryPut(v) })
			return aio.WaitFor(c, getter, d)
		}},
		{"WaitFor on a getter task, put and cancel in one callback", func(c *aio.Ctx, q *queue.Queue[int], v int) (int, error) {
			getter, _ := aio.Spawn(c, q.Get)
			c.Loop().CallLater(d, func() {
				q.TryPut(v)
				getter.Cancel(nil)
			})
			return aio.WaitFor(c, getter, time.Hour)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run(t, func(c *aio.Ctx) error {
				q := queue.NewFIFO[int](0)
				var got []int
				gotByGet, left := 0, 0
				const rounds = 20
				for v := range rounds {
					g, err := tc.get(c, q, v)
					switch {
					case err == nil:
						got, gotByGet = append(got, g), gotByGet+1
					case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
						aio.Yield(c) // let a late TryPut of a timer land
						if w, err := q.TryGet(); err == nil {
							got, left = append(got, w), left+1
						}
					default:
						return err
					}
					if q.Len() != 0 {
						t.Errorf("round %d: %d items left after the round", v, q.Len())
					}
				}
				if want := seq(rounds); !slices.Equal(got, want) {
					t.Errorf("values got %v, want each of %v once", got, want)
				}
				t.Logf("%d got by the timed-out Get's caller, %d left in the queue", gotByGet, left)
				return nil
			})
		})
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// The same from the putter's side: a Put on a full queue under a timeout
// that expires in the iteration in which a slot frees either put the item
// (and returned nil) or did not (and returned the timeout); the queue's
// contents agree with what Put returned.
func TestTimeoutAroundPutAgrees(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](1)
		const d = time.Millisecond
		in := 0
		for round := range 20 {
			q.TryPut(-1)
			err := aio.WithTimeout(c, d, func(c *aio.Ctx) error {
				dl, _ := c.Scope().Deadline()
				if round%2 == 0 {
					c.Loop().CallAt(dl, func() { q.TryGet() }) // after the timeout's timer
				} else {
					c.Scope().SetDeadline(dl.Add(time.Hour))
					c.Loop().CallAt(dl, func() { q.TryGet() })
					c.Scope().SetDeadline(dl) // now after the TryGet's
				}
				return q.Put(c, round)
			})
			aio.Yield(c)
			v, gerr := q.TryGet()
			switch {
			case err == nil && (gerr != nil || v != round):
				t.Errorf("round %d: Put returned nil but the queue has %d, %v", round, v, gerr)
			case err != nil && gerr != queue.ErrEmpty:
				t.Errorf("round %d: Put returned %v but the queue has %d, %v", round, err, v, gerr)
			case err == nil:
				in++
			}
		}
		t.Logf("%d of 20 Puts got in", in)
		return nil
	})
}

// Many consumers Get under short random timeouts while a producer puts
// values at random moments, some of them cancelled outright: every value
// put is got exactly once, by a consumer or by the final drain. On the
// virtual clock each seed gives one interleaving, the same every run, so
// the test tries several.
func TestTimeoutsNeverLoseValues(t *testing.T) {
	for _, max := range []int{0, 1, 4} {
		for seed := range uint64(8) {
			timeoutsNeverLoseValues(t, max, seed)
		}
	}
}

// timeoutsNeverLoseValues runs TestTimeoutsNeverLoseValues for one queue
// bound and one seed.
func timeoutsNeverLoseValues(t *testing.T, max int, seed uint64) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](max)
		const n = 1000
		rng := rand.New(rand.NewPCG(seed, uint64(max)))
		seen := make([]int, n)
		stop := false
		var consumers []*aio.Task[int]
		for range 4 {
			task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				for !stop {
					var v int
					err := aio.WithTimeout(c, time.Duration(rng.IntN(50))*time.Microsecond, func(c *aio.Ctx) error {
						var err error
						v, err = q.Get(c)
						return err
					})
					switch {
					case err == nil:
						seen[v]++
					case errors.Is(err, context.DeadlineExceeded):
					case errors.Is(err, queue.ErrShutdown):
						return 0, nil
					default:
						return 0, err
					}
				}
				return 0, nil
			})
			consumers = append(consumers, task)
		}
		for v := range n {
			if rng.IntN(4) == 0 {
				aio.Sleep(c, time.Duration(rng.IntN(30))*time.Microsecond)
			}
			err := aio.WithTimeout(c, time.Duration(rng.IntN(100))*time.Microsecond, func(c *aio.Ctx) error {
				return q.Put(c, v)
			})
			for errors.Is(err, context.DeadlineExceeded) { // the value was not put: again
				err = q.Put(c, v)
			}
			if err != nil {
				return err
			}
		}
		stop = true
		q.Shutdown(false)
		if _, err := aio.Gather(c, consumers...); err != nil {
			return err
		}
		for {
			v, err := q.TryGet()
			if err != nil {
				break
			}
			seen[v]++
		}
		for v, k := range seen {
			if k != 1 {
				t.Errorf("max %d, seed %d: value %d got %d times", max, seed, v, k)
			}
		}
		return nil
	})
}
