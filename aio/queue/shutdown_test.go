package queue_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/queue"
)

// After a graceful Shutdown, Put and TryPut return ErrShutdown and every
// waiting putter is woken with it, its item not put; getters drain what is
// left, and then Get and TryGet return ErrShutdown, as does every getter
// that was waiting.
func TestShutdownGraceful(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](2)
		q.TryPut(1)
		q.TryPut(2)
		_, putter := spawnPut[int](c, q, 3)
		settle(c)
		if dropped := q.Shutdown(false); dropped != nil {
			t.Errorf("graceful Shutdown dropped %v", dropped)
		}
		settle(c)
		if !putter.done || !errors.Is(putter.err, queue.ErrShutdown) {
			t.Errorf("waiting putter: %+v, want ErrShutdown", *putter)
		}
		if err := q.Put(c, 4); !errors.Is(err, queue.ErrShutdown) {
			t.Errorf("Put after Shutdown = %v", err)
		}
		if err := q.TryPut(4); !errors.Is(err, queue.ErrShutdown) {
			t.Errorf("TryPut after Shutdown = %v", err)
		}
		if v, err := q.Get(c); v != 1 || err != nil {
			t.Errorf("Get = %d, %v; want 1 (drain)", v, err)
		}
		if v, err := q.TryGet(); v != 2 || err != nil {
			t.Errorf("TryGet = %d, %v; want 2 (drain)", v, err)
		}
		if _, err := q.Get(c); !errors.Is(err, queue.ErrShutdown) {
			t.Errorf("Get on a drained, shut-down queue = %v", err)
		}
		if _, err := q.TryGet(); !errors.Is(err, queue.ErrShutdown) {
			t.Errorf("TryGet on a drained, shut-down queue = %v", err)
		}

		// Getters waiting on an empty queue are woken with ErrShutdown.
		e := queue.NewFIFO[int](0)
		_, g1 := spawnGet[int](c, e)
		_, g2 := spawnGet[int](c, e)
		settle(c)
		e.Shutdown(false)
		settle(c)
		if !errors.Is(g1.err, queue.ErrShutdown) || !errors.Is(g2.err, queue.ErrShutdown) {
			t.Errorf("waiting getters: %+v, %+v", *g1, *g2)
		}
		return nil
	})
}

// A graceful Shutdown while an item is promised to a woken getter and
// another getter waits behind it: the first gets the item, the one behind
// gets ErrShutdown once the queue is empty.
func TestShutdownGracefulWithWokenGetter(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](0)
		_, a := spawnGet[int](c, q)
		_, b := spawnGet[int](c, q)
		settle(c)
		q.TryPut(1)
		q.Shutdown(false)
		settle(c)
		if a.err != nil || a.v != 1 || !errors.Is(b.err, queue.ErrShutdown) {
			t.Errorf("woken getter %+v, the one behind %+v", *a, *b)
		}
		return nil
	})
}

// An immediate Shutdown drops the items and returns them, in the order Get
// would have returned them; it lowers the unfinished count by as many, so
// that Join is released if nothing else is unfinished; every waiting
// getter and putter is woken with ErrShutdown.
func TestShutdownImmediate(t *testing.T) {
	prio, _ := queue.NewPriority[int](3, func(a, b int) int { return b - a }) // largest first
	cases := []struct {
		name string
		q    *queue.Queue[int]
		want []int
	}{
		{"FIFO", queue.NewFIFO[int](3), []int{1, 3, 2}},
		{"LIFO", queue.NewLIFO[int](3), []int{2, 3, 1}},
		{"priority", prio, []int{3, 2, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run(t, func(c *aio.Ctx) error {
				q := tc.q
				for _, v := range []int{1, 3, 2} {
					q.TryPut(v)
				}
				_, putter := spawnPut[int](c, q, 9)
				joined := false
				j, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
					err := q.Join(c)
					joined = true
					return 0, err
				})
				settle(c)
				dropped := q.Shutdown(true)
				if !slices.Equal(dropped, tc.want) {
					t.Errorf("Shutdown(true) = %v, want %v", dropped, tc.want)
				}
				if q.Len() != 0 {
					t.Errorf("Len after an immediate Shutdown = %d", q.Len())
				}
				settle(c)
				if !errors.Is(putter.err, queue.ErrShutdown) || !joined {
					t.Errorf("putter %+v, Join released %v", *putter, joined)
				}
				if _, err := q.Get(c); !errors.Is(err, queue.ErrShutdown) {
					t.Errorf("Get = %v", err)
				}
				_, err := aio.Await(c, j)
				return err
			})
		})
	}
}

// An immediate Shutdown wakes a getter that was promised an item with
// ErrShutdown (the item is among those returned), and Join still waits for
// the items got but not marked done: only the dropped ones are counted off.
func TestShutdownImmediateAccounting(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](0)
		_, g := spawnGet[int](c, q)
		settle(c)
		q.TryPut(1) // one item is promised to g, whichever is first when it runs
		q.TryPut(2)
		q.TryPut(3)
		if v, err := q.TryGet(); v != 1 || err != nil { // got, not done
			t.Errorf("TryGet = %d, %v", v, err)
		}
		if dropped := q.Shutdown(true); !slices.Equal(dropped, []int{2, 3}) {
			t.Errorf("dropped %v, want [2 3]", dropped)
		}
		settle(c)
		if !errors.Is(g.err, queue.ErrShutdown) {
			t.Errorf("woken getter: %+v", *g)
		}
		j, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, q.Join(c) })
		settle(c)
		if j.IsDone() {
			t.Error("Join returned with the item got but not done")
		}
		q.TaskDone()
		_, err := aio.Await(c, j)
		return err
	})
}

// A shut-down queue stays so: every later call returns an error (or, for
// Join with nothing unfinished, nil) at once, however often it is made,
// and never waits; Shutdown may be called again, and an immediate one after
// a graceful one drops and returns what is left.
func TestUseAfterShutdown(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](1)
		q.TryPut(1)
		q.Shutdown(false)
		if d := q.Shutdown(false); d != nil {
			t.Errorf("second graceful Shutdown dropped %v", d)
		}
		if d := q.Shutdown(true); !slices.Equal(d, []int{1}) {
			t.Errorf("immediate Shutdown after a graceful one dropped %v, want [1]", d)
		}
		if d := q.Shutdown(true); d != nil {
			t.Errorf("Shutdown of an empty queue dropped %v", d)
		}
		for range 3 {
			if err := q.Put(c, 1); !errors.Is(err, queue.ErrShutdown) {
				t.Errorf("Put = %v", err)
			}
			if err := q.TryPut(1); !errors.Is(err, queue.ErrShutdown) {
				t.Errorf("TryPut = %v", err)
			}
			if _, err := q.Get(c); !errors.Is(err, queue.ErrShutdown) {
				t.Errorf("Get = %v", err)
			}
			if _, err := q.TryGet(); !errors.Is(err, queue.ErrShutdown) {
				t.Errorf("TryGet = %v", err)
			}
			if err := q.Join(c); err != nil {
				t.Errorf("Join = %v", err)
			}
			if err := q.TaskDone(); !errors.Is(err, queue.ErrTooManyDone) {
				t.Errorf("TaskDone = %v", err)
			}
		}
		return nil
	})
}
