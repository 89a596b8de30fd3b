package aio_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
)

// Tests of cases reused across Select calls (select.go).

// Cases made once serve many Selects, one at a time, whether a case was
// ready when polled or the Select waited for it: every value sent is
// received once, in order, the send case sends its value each time it wins,
// the timeout and await cases fire afresh in each Select, and nothing an
// earlier Select saw (an await case's outcome, a send on a closed Chan)
// leaks into a later one.
func TestSelectReusedCases(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		in, out := aio.NewChan[int](0), aio.NewChan[string](1)
		var ev locks.Event
		const n = 300
		aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			for i := range n {
				if i%3 == 0 {
					aio.Sleep(c, time.Millisecond) // the Select waits for this one
				}
				if err := in.Send(c, i); err != nil {
					return 0, err
				}
			}
			return 0, nil
		})
		var v int
		var ok bool
		var evErr error
		recv := aio.RecvCase(in, &v, &ok)
		send := aio.SendCase(out, "tick")
		timeout := aio.TimeoutCase(time.Hour)
		await := aio.AwaitCase[struct{}](&ev, nil, &evErr)
		next, sends := 0, 0
		for next < n {
			i, err := aio.Select(c, recv, send, timeout, await)
			switch {
			case err != nil:
				t.Fatalf("Select %d: %v", next, err)
			case i == 0:
				if !ok || v != next {
					t.Fatalf("received (%d, %v), want (%d, true)", v, ok, next)
				}
				next++
				if out.Len() == 1 { // room for the send case again
					if s, _, _ := out.TryRecv(); s != "tick" {
						t.Fatalf("the send case sent %q", s)
					}
				}
			case i == 1:
				sends++
			default:
				t.Fatalf("case %d won before the values were all in", i)
			}
		}
		if sends == 0 {
			t.Errorf("the send case never won")
		}
		// The await case fires in a later Select once the event is set; the
		// timeout case, made for an hour, fires afresh as a short one.
		ev.Set()
		if i, err := aio.Select(c, recv, await); i != 1 || err != nil || evErr != nil {
			t.Errorf("Select on a set Event = %d, %v (%v)", i, err, evErr)
		}
		ev.Clear()
		short := aio.TimeoutCase(time.Millisecond)
		for range 3 {
			if i, err := aio.Select(c, recv, await, short); i != 2 || err != nil {
				t.Errorf("Select with a timeout = %d, %v; want 2", i, err)
			}
		}
		// A send case that saw a closed Chan does not report it later.
		ch := aio.NewChan[int](0)
		s := aio.SendCase(ch, 1)
		aio.Spawn(c, func(c *aio.Ctx) (int, error) { ch.Close(); return 0, nil })
		if i, err := aio.Select(c, s); i != 0 || !errors.Is(err, aio.ErrChanClosed) {
			t.Errorf("send on a Chan closed while waiting = %d, %v", i, err)
		}
		other := aio.NewChan[int](1)
		s2 := aio.SendCase(other, 2)
		if i, err := aio.Select(c, s2); i != 0 || err != nil {
			t.Errorf("a reused send case = %d, %v", i, err)
		}
		return nil
	})
}

// A case waiting in one Select is refused by another (of another task, or
// the same case twice in one call) with ErrInvalidState, and the refused
// Select leaves nothing behind: the waiting Select still gets its value,
// and the Chan has no stray waiter (a later TrySend to it finds no
// receiver).
func TestSelectCaseInUse(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		ch := aio.NewChan[int](0)
		var v int
		shared := aio.RecvCase(ch, &v, nil)
		waiter, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return aio.Select(c, shared) })
		aio.Yield(c) // the waiter parks in its Select
		if i, err := aio.Select(c, aio.RecvCase(ch, &v, nil), aio.TimeoutCase(time.Hour), shared); i != -1 || !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("arming a case in use = %d, %v; want -1, ErrInvalidState", i, err)
		}
		if err := ch.Send(c, 7); err != nil {
			t.Fatal(err)
		}
		if i, err := aio.Await(c, waiter); i != 0 || err != nil || v != 7 {
			t.Errorf("the waiting Select = %d, %v (v %d)", i, err, v)
		}
		if err := ch.TrySend(8); err == nil {
			t.Errorf("a receiver was left waiting on the Chan by a refused Select")
		}
		twice := aio.RecvCase(ch, &v, nil)
		if i, err := aio.Select(c, twice, twice); i != -1 || !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("one case twice in a Select = %d, %v; want -1, ErrInvalidState", i, err)
		}
		if err := ch.TrySend(9); err == nil {
			t.Errorf("a receiver was left waiting after a Select refused a doubled case")
		}
		// After the refusals the cases serve again.
		aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, ch.Send(c, 10) })
		if i, err := aio.Select(c, twice); i != 0 || err != nil || v != 10 {
			t.Errorf("the doubled case, alone = %d, %v (v %d)", i, err, v)
		}
		return nil
	})
}

// A Select over reused cases that finds one ready allocates nothing.
func TestSelectReusedAllocs(t *testing.T) {
	if !aio.CurgIsFastForTest {
		t.Skip("the slow goroutine-identity path (runtime.Stack) allocates at every check")
	}
	runMain(t, func(c *aio.Ctx) error {
		chans := [4]*aio.Chan[int]{aio.NewChan[int](1), aio.NewChan[int](1), aio.NewChan[int](1), aio.NewChan[int](1)}
		var v int
		cases := []aio.SelectCase{aio.RecvCase(chans[0], &v, nil), aio.RecvCase(chans[1], &v, nil),
			aio.RecvCase(chans[2], &v, nil), aio.RecvCase(chans[3], &v, nil)}
		k := 0
		allocs := testing.AllocsPerRun(200, func() {
			chans[k&3].TrySend(k)
			if i, err := aio.Select(c, cases...); i != k&3 || err != nil || v != k {
				t.Errorf("Select = %d, %v (v %d), want %d", i, err, v, k&3)
			}
			k++
		})
		if allocs != 0 {
			t.Errorf("a Select of reused, ready cases allocates %.1f times, want 0", allocs)
		}
		return nil
	})
}

// A case waiting in another task's Select is refused even when the
// refusing Select would be decided by an earlier case (an Event that is
// set, seen when armed), and the refusal leaves the other Select as it
// was: its receive still takes the next value sent, its timeout still
// fires.
func TestSelectBusyCaseLeftAlone(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var ev locks.Event
		ev.Set()
		ch := aio.NewChan[int](0)
		var v int
		recv := aio.RecvCase(ch, &v, nil)
		timeout := aio.TimeoutCase(time.Second)
		receiver, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return aio.Select(c, recv) })
		sleeper, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return aio.Select(c, timeout) })
		aio.Yield(c) // both park in their Selects
		for _, busy := range []aio.SelectCase{recv, timeout} {
			if i, err := aio.Select(c, aio.AwaitCase[struct{}](&ev, nil, nil), busy); i != -1 || !errors.Is(err, aio.ErrInvalidState) {
				t.Errorf("Select(set Event, busy case) = %d, %v; want -1, ErrInvalidState", i, err)
			}
		}
		if err := ch.TrySend(7); err != nil {
			t.Errorf("TrySend to the waiting receiver: %v", err)
		}
		if i, err := aio.Await(c, receiver); i != 0 || err != nil || v != 7 {
			t.Errorf("the receiver's Select = %d, %v (v %d)", i, err, v)
		}
		if i, err := aio.Await(c, sleeper); i != 0 || err != nil {
			t.Errorf("the sleeper's Select = %d, %v", i, err)
		}
		return nil
	})
}

// panicPoll is an Awaitable whose Poll panics.
type panicPoll struct{}

func (panicPoll) Poll(*aio.Waiter) (int, bool, error) { panic("Poll panics") }

// A panic while a Select arms its cases (an Awaitable's Poll) takes off
// the waiters armed before it: a value sent afterwards is not handed to
// the dead Select, and the cases serve a later Select.
func TestSelectPanicWhileArming(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		ch := aio.NewChan[int](0)
		var v int
		recv := aio.RecvCase(ch, &v, nil)
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			return aio.Select(c, recv, aio.AwaitCase[int](panicPoll{}, nil, nil))
		})
		if _, err := aio.Await(c, task); err == nil {
			t.Errorf("the task whose Poll panicked returned no error")
		}
		if err := ch.TrySend(1); err == nil {
			t.Errorf("TrySend(1) found a receiver: the value went to the dead Select")
		}
		aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, ch.Send(c, 2) })
		if i, err := aio.Select(c, recv, aio.TimeoutCase(time.Hour)); i != 0 || err != nil || v != 2 {
			t.Errorf("a later Select of the case = %d, %v (v %d)", i, err, v)
		}
		return nil
	})
}
