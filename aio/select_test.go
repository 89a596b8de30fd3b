package aio_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
)

// Tests of Select (select.go).

// Select takes the ready case; with none ready it takes the default, or
// waits for the first case to become ready: a receive, a send, an
// awaitable, a timeout.
func TestSelectBasics(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		a, b := aio.NewChan[int](1), aio.NewChan[int](1)
		b.TrySend(2)
		var v int
		var ok bool
		i, err := aio.Select(c, aio.RecvCase(a, &v, nil), aio.RecvCase(b, &v, &ok))
		if i != 1 || v != 2 || !ok || err != nil {
			t.Errorf("Select with b ready = %d (%d, %v), %v", i, v, ok, err)
		}
		i, err = aio.Select(c, aio.RecvCase(a, &v, nil), aio.DefaultCase())
		if i != 1 || err != nil {
			t.Errorf("Select with nothing ready and a default = %d, %v", i, err)
		}
		i, err = aio.Select(c, aio.RecvCase(a, &v, nil), aio.TimeoutCase(2*time.Millisecond))
		if i != 1 || err != nil {
			t.Errorf("Select with a timeout = %d, %v", i, err)
		}
		// Waiting: a receive that a task completes later.
		aio.Spawn(c, func(c *aio.Ctx) (int, error) { aio.Sleep(c, time.Millisecond); return 0, a.Send(c, 5) })
		i, err = aio.Select(c, aio.RecvCase(a, &v, nil), aio.TimeoutCase(time.Hour))
		if i != 0 || v != 5 || err != nil {
			t.Errorf("Select waiting for a receive = %d (%d), %v", i, v, err)
		}
		// A send that a receiver takes later.
		var u aio.Chan[string]
		var got string
		aio.Spawn(c, func(c *aio.Ctx) (int, error) { aio.Sleep(c, time.Millisecond); got, _, err = u.Recv(c); return 0, err })
		i, err = aio.Select(c, aio.SendCase(&u, "x"), aio.RecvCase(a, &v, nil))
		aio.Yield(c)
		if i != 0 || err != nil || got != "x" {
			t.Errorf("Select waiting for a send = %d, %v; received %q", i, err, got)
		}
		// An awaitable: a task, and an Event (an Awaitable of its own).
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) { return "done", aio.Sleep(c, time.Millisecond) })
		var res string
		var terr error
		i, err = aio.Select(c, aio.AwaitCase[string](task, &res, &terr), aio.RecvCase(a, &v, nil))
		if i != 0 || res != "done" || terr != nil || err != nil {
			t.Errorf("Select on a task = %d (%q, %v), %v", i, res, terr, err)
		}
		var ev locks.Event
		aio.Spawn(c, func(c *aio.Ctx) (int, error) { ev.Set(); return 0, nil })
		i, err = aio.Select(c, aio.RecvCase(a, &v, nil), aio.AwaitCase[struct{}](&ev, nil, nil))
		if i != 1 || err != nil {
			t.Errorf("Select on an Event = %d, %v", i, err)
		}
		return nil
	})
}

// Among cases ready at the same time, each is chosen with the same chance,
// as in Go's select.
func TestSelectFair(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		chans := []*aio.Chan[int]{aio.NewChan[int](1), aio.NewChan[int](1), aio.NewChan[int](1)}
		var idle aio.Chan[int] // never ready, between the ready ones
		const rounds = 30000
		var counts [4]int
		for range rounds {
			for _, ch := range chans {
				if ch.Len() == 0 {
					ch.TrySend(1)
				}
			}
			i, err := aio.Select(c,
				aio.RecvCase(chans[0], nil, nil), aio.RecvCase(&idle, nil, nil),
				aio.RecvCase(chans[1], nil, nil), aio.RecvCase(chans[2], nil, nil))
			if err != nil {
				return err
			}
			counts[i]++
		}
		for _, i := range []int{0, 2, 3} {
			if share := float64(counts[i]) / rounds; share < 0.30 || share > 0.37 {
				t.Errorf("case %d chosen %.3f of the time, want 1/3 (counts %v)", i, share, counts)
			}
		}
		if counts[1] != 0 {
			t.Errorf("the idle case was chosen %d times", counts[1])
		}
		return nil
	})
}

// The cases that lose take nothing: with two senders parked on two
// Chans, a Select receives from one, and the other sender's value is still
// there for the next receive.
func TestSelectLosersTakeNothing(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var a, b aio.Chan[int]
		aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, a.Send(c, 1) })
		aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, b.Send(c, 2) })
		aio.Yield(c)
		var v int
		i, err := aio.Select(c, aio.RecvCase(&a, &v, nil), aio.RecvCase(&b, &v, nil))
		if err != nil {
			return err
		}
		other := &b
		if i == 1 {
			other = &a
		}
		w, ok, err := other.TryRecv()
		if err != nil || !ok || w+v != 3 {
			t.Errorf("Select took %d from case %d; the other Chan gave %d, %v, %v", v, i, w, ok, err)
		}
		// A Select parked on two Chans: a send to one wins, and a send to
		// the other waits for a receiver, since the Select is decided.
		var x, y aio.Chan[int]
		var sv int
		sel, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			return aio.Select(c, aio.RecvCase(&x, &sv, nil), aio.RecvCase(&y, &sv, nil))
		})
		aio.Yield(c)
		x.TrySend(10)
		if err := y.TrySend(20); !errors.Is(err, aio.ErrWouldBlock) {
			t.Errorf("TrySend to the losing case's Chan = %v, want ErrWouldBlock (the Select is decided)", err)
		}
		if i, err := aio.Await(c, sel); i != 0 || sv != 10 || err != nil {
			t.Errorf("Select = %d (%d), %v", i, sv, err)
		}
		return nil
	})
}

// A Select in a cancelled task returns the cancellation and takes nothing;
// a case completed in the turn the task was cancelled wins, and the
// cancellation waits for the next suspension point.
func TestSelectCancelled(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var a aio.Chan[int]
		var selErr, next error
		idx := 0
		var v int
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			idx, selErr = aio.Select(c, aio.RecvCase(&a, &v, nil), aio.TimeoutCase(time.Hour))
			return 0, nil
		})
		aio.Yield(c)
		task.Cancel(nil)
		aio.Await(c, task)
		if idx != -1 || !errors.Is(selErr, context.Canceled) {
			t.Errorf("cancelled Select = %d, %v", idx, selErr)
		}
		if err := a.TrySend(1); !errors.Is(err, aio.ErrWouldBlock) {
			t.Errorf("a cancelled Select left a receiver behind: TrySend = %v", err)
		}
		task, _ = aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			idx, selErr = aio.Select(c, aio.RecvCase(&a, &v, nil))
			next = aio.Yield(c)
			return 0, nil
		})
		aio.Yield(c)
		task.Cancel(nil)
		a.TrySend(8) // reaches the Select in the same turn
		aio.Await(c, task)
		if idx != 0 || v != 8 || selErr != nil || !errors.Is(next, context.Canceled) {
			t.Errorf("Select completed with a cancel = %d (%d), %v, then %v", idx, v, selErr, next)
		}
		return nil
	})
}

// Cases on nil Chans are never ready; a send case on a closed Chan is
// ready and ends the Select with ErrChanClosed; a receive on a closed
// Chan reports ok false.
func TestSelectNilAndClosed(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var nilCh *aio.Chan[int]
		i, err := aio.Select(c, aio.RecvCase(nilCh, nil, nil), aio.SendCase(nilCh, 1), aio.TimeoutCase(time.Millisecond))
		if i != 2 || err != nil {
			t.Errorf("Select with nil Chans and a timeout = %d, %v", i, err)
		}
		closed := aio.NewChan[int](0)
		closed.Close()
		if i, err := aio.Select(c, aio.SendCase(closed, 1)); i != 0 || !errors.Is(err, aio.ErrChanClosed) {
			t.Errorf("Select sending on a closed Chan = %d, %v", i, err)
		}
		ok := true
		if i, err := aio.Select(c, aio.RecvCase(closed, nil, &ok)); i != 0 || ok || err != nil {
			t.Errorf("Select receiving from a closed Chan = %d, ok %v, %v", i, ok, err)
		}
		return nil
	})
}

// Misuse is an error with the index -1: no cases, two defaults, a nil case,
// a Chan of another loop.
func TestSelectMisuse(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		if i, err := aio.Select(c); i != -1 || !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("Select() = %d, %v", i, err)
		}
		if i, err := aio.Select(c, aio.DefaultCase(), aio.DefaultCase()); i != -1 || !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("Select with two defaults = %d, %v", i, err)
		}
		if i, err := aio.Select(c, nil); i != -1 || !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("Select with a nil case = %d, %v", i, err)
		}
		if i, err := aio.Select(nil, aio.DefaultCase()); i != -1 || !errors.Is(err, aio.ErrNotInTask) {
			t.Errorf("Select with a nil Ctx = %d, %v", i, err)
		}
		return nil
	})
}
