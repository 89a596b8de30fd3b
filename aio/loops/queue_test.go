package loops_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/loops"
)

func contextBackground() context.Context { return context.Background() }

// A bounded queue homed on one loop: a Put from another loop waits while
// it is full and a Get from another loop while it is empty; values come
// out in order; Close lets Gets drain what is left and then fail.
func TestQueueAcrossLoops(t *testing.T) {
	g := startGroup(t, 2)
	q := loops.NewQueue[int](g.Loop(0), 2)
	put := make(chan error, 1)
	go func() {
		_, err := onLoop(t, g.Loop(1), func(c *aio.Ctx) (int, error) {
			for i := range 10 {
				if err := q.Put(c, i); err != nil {
					return 0, err
				}
			}
			return 0, q.Close()
		})
		put <- err
	}()
	got, err := onLoop(t, g.Loop(1), func(c *aio.Ctx) ([]int, error) {
		var got []int
		for {
			v, err := q.Get(c)
			if errors.Is(err, loops.ErrQueueClosed) {
				return got, nil
			}
			if err != nil {
				return got, err
			}
			got = append(got, v)
			aio.Sleep(c, 100*time.Microsecond)
		}
	})
	if err != nil || <-put != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("got %v", got)
		}
	}
	if len(got) != 10 {
		t.Fatalf("got %v", got)
	}
	_, err = onLoop(t, g.Loop(1), func(c *aio.Ctx) (int, error) { return 0, q.Put(c, 1) })
	if !errors.Is(err, loops.ErrQueueClosed) {
		t.Errorf("Put after Close = %v", err)
	}
}

// A Get of another loop cancelled while it waits takes nothing: the value
// put later goes to the next Get.
func TestQueueCancelledGetTakesNothing(t *testing.T) {
	g := startGroup(t, 2)
	q := loops.NewQueue[int](g.Loop(0), 0)
	_, err := onLoop(t, g.Loop(1), func(c *aio.Ctx) (int, error) {
		err := aio.WithTimeout(c, time.Millisecond, func(c *aio.Ctx) error {
			_, err := q.Get(c)
			return err
		})
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("Get under a timeout = %v", err)
		}
		if err := q.Put(c, 5); err != nil {
			return 0, err
		}
		v, err := q.Get(c)
		if v != 5 || err != nil {
			t.Errorf("next Get = %v, %v", v, err)
		}
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Bad input: a zero Queue, a Queue whose home loop is closed, Len off the
// home loop.
func TestQueueBadInput(t *testing.T) {
	g := startGroup(t, 1)
	var zero loops.Queue[int]
	dead, _ := aio.NewLoop()
	dead.Close()
	q := loops.NewQueue[int](dead, 0)
	_, err := onLoop(t, g.Loop(0), func(c *aio.Ctx) (int, error) {
		if err := zero.Put(c, 1); !errors.Is(err, aio.ErrNoLoop) {
			t.Errorf("zero Queue Put = %v", err)
		}
		if err := q.Put(c, 1); !errors.Is(err, aio.ErrClosed) {
			t.Errorf("Put to a closed home = %v", err)
		}
		if _, err := q.Get(c); !errors.Is(err, aio.ErrClosed) {
			t.Errorf("Get from a closed home = %v", err)
		}
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Error("Len off the home loop did not panic")
				}
			}()
			q.Len()
		}()
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
