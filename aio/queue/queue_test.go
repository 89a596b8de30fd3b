package queue_test

import (
	"cmp"
	"errors"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/queue"
)

// item is a value with a priority, to tell equal priorities apart.
type item struct{ pri, id int }

func byPri(a, b item) int { return cmp.Compare(a.pri, b.pri) }

// Each order gives the items out as its asyncio counterpart does: FIFO in
// the order put, LIFO the last put first, priority the least first and,
// among equal priorities, in the order put (stable).
func TestOrders(t *testing.T) {
	in := []item{{3, 0}, {1, 1}, {2, 2}, {1, 3}, {3, 4}, {1, 5}, {2, 6}}
	prio, err := queue.NewPriority[item](0, byPri)
	if err != nil {
		t.Fatal(err)
	}
	stable := slices.Clone(in)
	slices.SortStableFunc(stable, byPri)
	cases := []struct {
		name string
		q    *queue.Queue[item]
		want []item
	}{
		{"zero value", new(queue.Queue[item]), in},
		{"FIFO", queue.NewFIFO[item](0), in},
		{"FIFO bounded", queue.NewFIFO[item](len(in)), in},
		{"LIFO", queue.NewLIFO[item](0), reversed(in)},
		{"LIFO bounded", queue.NewLIFO[item](len(in)), reversed(in)},
		{"priority", prio, stable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run(t, func(c *aio.Ctx) error {
				for round := range 3 { // again once the ring has wrapped and grown
					for _, v := range in {
						if err := tc.q.Put(c, v); err != nil {
							return err
						}
					}
					var got []item
					for range in {
						v, err := tc.q.Get(c)
						if err != nil {
							return err
						}
						got = append(got, v)
					}
					if !slices.Equal(got, tc.want) {
						t.Errorf("round %d: got %v, want %v", round, got, tc.want)
					}
					if _, err := tc.q.TryGet(); err != queue.ErrEmpty {
						t.Errorf("TryGet after draining = %v, want ErrEmpty", err)
					}
					// Interleaved: a partial drain, then more puts.
					tc.q.TryPut(in[0])
					tc.q.TryGet()
				}
				return nil
			})
		})
	}
}

func reversed[S ~[]E, E any](s S) S {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

// A FIFO queue that grows and wraps around its ring many times keeps its
// order, and a priority queue gives out every one of many items in order.
func TestOrderAtScale(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](0)
		next, want := 0, 0
		for round := range 50 {
			for range round % 7 * 13 {
				q.TryPut(next)
				next++
			}
			for range round % 5 * 11 {
				v, err := q.TryGet()
				if err != nil {
					break
				}
				if v != want {
					t.Errorf("FIFO: got %d, want %d", v, want)
				}
				want++
			}
		}
		p, _ := queue.NewPriority[item](0, byPri)
		for i := range 1000 {
			p.TryPut(item{pri: (i * 7919) % 10, id: i})
		}
		prev := item{-1, -1}
		for range 1000 {
			v, _ := p.TryGet()
			if v.pri < prev.pri || v.pri == prev.pri && v.id < prev.id {
				t.Errorf("priority: %v after %v", v, prev)
			}
			prev = v
		}
		return nil
	})
}

// Len, Cap, Empty and Full describe the contents; a bound of 0 or less
// means none, and an unbounded queue is never full.
func TestSizes(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		for _, max := range []int{0, -3} {
			q := queue.NewFIFO[int](max)
			for i := range 100 {
				if err := q.TryPut(i); err != nil {
					t.Errorf("unbounded TryPut: %v", err)
				}
			}
			if q.Cap() != 0 || q.Len() != 100 || q.Full() || q.Empty() {
				t.Errorf("NewFIFO(%d): Cap %d Len %d Full %v Empty %v", max, q.Cap(), q.Len(), q.Full(), q.Empty())
			}
		}
		q := queue.NewLIFO[int](2)
		if q.Cap() != 2 || q.Len() != 0 || !q.Empty() || q.Full() {
			t.Errorf("empty: Cap %d Len %d Empty %v Full %v", q.Cap(), q.Len(), q.Empty(), q.Full())
		}
		q.TryPut(1)
		q.TryPut(2)
		if q.Len() != 2 || q.Empty() || !q.Full() {
			t.Errorf("full: Len %d Empty %v Full %v", q.Len(), q.Empty(), q.Full())
		}
		if err := q.TryPut(3); err != queue.ErrFull {
			t.Errorf("TryPut on a full queue = %v, want ErrFull", err)
		}
		return nil
	})
}

// Getters waiting on an empty queue are served in the order they came, one
// item each; putters waiting on a full queue are let in in the order they
// came, and their items come out in that order.
func TestWaitersAreFIFO(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](1)
		var gets []*outcome[int]
		for range 3 {
			_, o := spawnGet[int](c, q)
			gets = append(gets, o)
		}
		settle(c)
		for i := range 3 {
			q.TryPut(10 + i)
			settle(c)
			for j, o := range gets {
				if o.done != (j <= i) || o.done && (o.err != nil || o.v != 10+j) {
					t.Errorf("after put %d: getter %d = %+v", i, j, *o)
				}
			}
		}

		q.TryPut(0) // full now
		var puts []*outcome[int]
		for i := range 3 {
			_, o := spawnPut[int](c, q, 20+i)
			puts = append(puts, o)
		}
		settle(c)
		var got []int
		for i := range 4 {
			v, err := q.Get(c)
			if err != nil {
				return err
			}
			got = append(got, v)
			settle(c)
			for j, o := range puts {
				if o.done != (j <= i) || o.done && o.err != nil {
					t.Errorf("after get %d: putter %d = %+v", i, j, *o)
				}
			}
		}
		if want := []int{0, 20, 21, 22}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

// A Get on a non-empty queue and a Put on a queue with room return at once,
// without suspending: a task that does both in a row needs no other task.
func TestFastPathsDoNotSuspend(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](1)
		other, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, nil })
		for i := range 3 {
			if err := q.Put(c, i); err != nil {
				return err
			}
			if v, err := q.Get(c); err != nil || v != i {
				t.Errorf("Get = %d, %v", v, err)
			}
		}
		if other.IsDone() {
			t.Error("the loop ran another task: a fast path suspended")
		}
		_, err := aio.Await(c, other)
		return err
	})
}

// A TryGet, or a Get that finds the item without waiting, never takes an
// item that a Put woke a waiting getter for: the woken getter gets it, and
// the newcomer waits behind.
func TestNewcomerDoesNotStealItem(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](0)
		_, first := spawnGet[int](c, q)
		settle(c)
		q.TryPut(1)
		if _, err := q.TryGet(); err != queue.ErrEmpty {
			t.Errorf("TryGet of an item promised to a woken getter = %v, want ErrEmpty", err)
		}
		if q.Len() != 1 {
			t.Errorf("Len = %d, want 1 (the promised item is still in the queue)", q.Len())
		}
		// An eager task runs its first step inside Spawn, before the woken
		// getter: its Get must not take the item.
		_, late := spawnGet[int](c, q, aio.WithEagerStart())
		if late.done {
			t.Errorf("a newcomer's Get took the promised item: %+v", *late)
		}
		settle(c)
		if !first.done || first.v != 1 || first.err != nil || late.done {
			t.Errorf("first getter %+v, newcomer %+v", *first, *late)
		}
		q.TryPut(2)
		settle(c)
		if !late.done || late.v != 2 {
			t.Errorf("newcomer %+v, want 2", *late)
		}
		return nil
	})
}

// A TryPut, or a Put that finds room without waiting, never takes a free
// slot of a bounded queue that a Get woke a waiting putter for.
func TestNewcomerDoesNotStealSlot(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		q := queue.NewFIFO[int](1)
		q.TryPut(0)
		_, first := spawnPut[int](c, q, 1)
		settle(c)
		q.TryGet() // frees the slot, for the waiting putter
		if err := q.TryPut(9); err != queue.ErrFull {
			t.Errorf("TryPut into a slot promised to a woken putter = %v, want ErrFull", err)
		}
		lateErr := errors.New("not run")
		aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			lateErr = q.Put(c, 2)
			return 0, nil
		}, aio.WithEagerStart())
		if lateErr == nil {
			t.Error("a newcomer's Put took the promised slot")
		}
		settle(c)
		if !first.done || first.err != nil {
			t.Errorf("first putter %+v", *first)
		}
		if v, _ := q.TryGet(); v != 1 {
			t.Errorf("got %d, want the first putter's 1", v)
		}
		settle(c)
		if v, _ := q.TryGet(); v != 2 || lateErr != nil {
			t.Errorf("got %d (newcomer's Put = %v), want 2", v, lateErr)
		}
		return nil
	})
}
