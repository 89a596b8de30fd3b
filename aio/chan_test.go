package aio_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
)

// Tests of Chan (chan.go): Go's channel semantics for tasks, and values
// that are never lost to a cancellation.

// An unbuffered Chan is a rendezvous: Send returns only once a receiver has
// the value, and values from several senders arrive in the order the
// senders parked.
func TestChanUnbuffered(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var ch aio.Chan[int]
		var sent []int
		for i := range 3 {
			aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				err := ch.Send(c, i)
				sent = append(sent, i)
				return 0, err
			})
		}
		aio.Yield(c)
		if len(sent) != 0 {
			t.Fatalf("sends completed with no receiver: %v", sent)
		}
		var got []int
		for range 3 {
			v, ok, err := ch.Recv(c)
			if err != nil || !ok {
				return err
			}
			got = append(got, v)
		}
		aio.Yield(c)
		if !slices.Equal(got, []int{0, 1, 2}) || !slices.Equal(sent, []int{0, 1, 2}) {
			t.Errorf("received %v, senders done %v; want [0 1 2] both", got, sent)
		}
		if ch.Len() != 0 || ch.Cap() != 0 {
			t.Errorf("Len %d, Cap %d", ch.Len(), ch.Cap())
		}
		return nil
	})
}

// A buffered Chan takes Cap values without a receiver, then Send waits; a
// receive refills the buffer from the first waiting sender, so the order is
// the order of the sends.
func TestChanBuffered(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		ch := aio.NewChan[int](2)
		if err := ch.Send(c, 1); err != nil {
			return err
		}
		if err := ch.TrySend(2); err != nil {
			return err
		}
		if err := ch.TrySend(3); !errors.Is(err, aio.ErrWouldBlock) {
			t.Errorf("TrySend on a full Chan = %v, want ErrWouldBlock", err)
		}
		done := false
		aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			err := ch.Send(c, 3)
			done = true
			return 0, err
		})
		aio.Yield(c)
		if done || ch.Len() != 2 || ch.Cap() != 2 {
			t.Fatalf("third send done %v, Len %d, Cap %d", done, ch.Len(), ch.Cap())
		}
		var got []int
		for range 3 {
			v, _, err := ch.Recv(c)
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		aio.Yield(c) // the sender, woken when its value moved into the buffer, runs
		if !slices.Equal(got, []int{1, 2, 3}) || !done {
			t.Errorf("received %v (sender done %v), want [1 2 3]", got, done)
		}
		if _, _, err := ch.TryRecv(); !errors.Is(err, aio.ErrWouldBlock) {
			t.Errorf("TryRecv of an empty Chan = %v", err)
		}
		return nil
	})
}

// Close: receivers drain the buffer, then get false; receivers and senders
// waiting at the Close wake at once (senders with ErrChanClosed); a send
// after Close and a second Close return ErrChanClosed.
func TestChanClose(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		ch := aio.NewChan[int](1)
		ch.Send(c, 7)
		ch.Close()
		if v, ok, err := ch.Recv(c); v != 7 || !ok || err != nil {
			t.Errorf("first Recv after Close = %d, %v, %v; want the buffered 7", v, ok, err)
		}
		if v, ok, err := ch.Recv(c); v != 0 || ok || err != nil {
			t.Errorf("Recv of a closed, drained Chan = %d, %v, %v", v, ok, err)
		}
		if _, ok, err := ch.TryRecv(); ok || err != nil {
			t.Errorf("TryRecv of a closed, drained Chan = %v, %v", ok, err)
		}
		if err := ch.Send(c, 1); !errors.Is(err, aio.ErrChanClosed) {
			t.Errorf("Send on a closed Chan = %v", err)
		}
		if err := ch.TrySend(1); !errors.Is(err, aio.ErrChanClosed) {
			t.Errorf("TrySend on a closed Chan = %v", err)
		}
		if err := ch.Close(); !errors.Is(err, aio.ErrChanClosed) {
			t.Errorf("second Close = %v", err)
		}

		var u aio.Chan[int]
		var recvOK bool
		var sendErr error
		r, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			_, ok, err := u.Recv(c)
			recvOK = ok
			return 0, err
		})
		aio.Yield(c)
		u.Close()
		aio.Await(c, r)
		if recvOK {
			t.Error("a receiver waiting at Close got a value")
		}
		var w aio.Chan[int]
		s, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { sendErr = w.Send(c, 1); return 0, nil })
		aio.Yield(c)
		w.Close()
		aio.Await(c, s)
		if !errors.Is(sendErr, aio.ErrChanClosed) {
			t.Errorf("a sender waiting at Close got %v, want ErrChanClosed", sendErr)
		}
		return nil
	})
}

// All iterates over the values until Close; a cancellation while it waits
// ends the loop and stays pending for the task's next suspension point.
func TestChanAll(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		ch := aio.NewChan[int](4)
		for i := range 4 {
			ch.Send(c, i)
		}
		ch.Close()
		var got []int
		for v := range ch.All(c) {
			got = append(got, v)
		}
		if !slices.Equal(got, []int{0, 1, 2, 3}) {
			t.Errorf("All = %v", got)
		}

		var open aio.Chan[int]
		var after error
		n := 0
		task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			for range open.All(c) {
				n++
			}
			after = aio.Yield(c)
			return 0, after
		})
		aio.Yield(c)
		open.Send(c, 1)
		aio.Yield(c)
		task.Cancel(nil)
		aio.Await(c, task)
		if n != 1 || !errors.Is(after, context.Canceled) {
			t.Errorf("All under cancellation: %d values, then %v; want 1 and the cancellation", n, after)
		}
		return nil
	})
}

// A receiver cancelled while it waits takes nothing: the value sent next
// goes to the receiver behind it.
func TestChanRecvCancelled(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var ch aio.Chan[int]
		var got [2]int
		var errs [2]error
		var tasks [2]*aio.Task[int]
		for i := range 2 {
			tasks[i], _ = aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				got[i], _, errs[i] = ch.Recv(c)
				return 0, nil
			})
		}
		aio.Yield(c)
		tasks[0].Cancel(nil)
		aio.Yield(c)
		ch.Send(c, 5)
		aio.Await(c, tasks[1])
		if !errors.Is(errs[0], context.Canceled) || got[0] != 0 || got[1] != 5 || errs[1] != nil {
			t.Errorf("got %v, errs %v; want the cancelled receiver empty-handed and 5 to the next", got, errs)
		}
		return nil
	})
}

// A value handed to a receiver in the turn the receiver is cancelled is not
// lost: Recv returns it, and the task's next suspension point returns the
// cancellation. The same for a send taken in the turn its sender is
// cancelled: Send returns nil, for the value was received.
func TestChanHandOffAndCancelTogether(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var ch aio.Chan[int]
		var v int
		var recvErr, next error
		r, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			v, _, recvErr = ch.Recv(c)
			next = aio.Yield(c)
			return 0, nil
		})
		aio.Yield(c)
		r.Cancel(nil) // the receiver is woken to take the cancellation...
		ch.TrySend(9) // ...and the value reaches it in the same turn
		aio.Await(c, r)
		if v != 9 || recvErr != nil || !errors.Is(next, context.Canceled) {
			t.Errorf("receiver: %d, %v, then %v; want 9, nil, then the cancellation", v, recvErr, next)
		}

		var sendErr error
		next = nil
		s, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			sendErr = ch.Send(c, 4)
			next = aio.Yield(c)
			return 0, nil
		})
		aio.Yield(c)
		s.Cancel(nil)
		got, ok, _ := ch.TryRecv()
		aio.Await(c, s)
		if got != 4 || !ok || sendErr != nil || !errors.Is(next, context.Canceled) {
			t.Errorf("sender: received %d %v, Send = %v, then %v; want 4, nil, then the cancellation", got, ok, sendErr, next)
		}
		return nil
	})
}

// A sender cancelled before its value is taken sends nothing.
func TestChanSendCancelled(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var ch aio.Chan[int]
		var sendErr error
		s, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) { sendErr = ch.Send(c, 1); return 0, nil })
		aio.Yield(c)
		s.Cancel(nil)
		aio.Await(c, s)
		if _, _, err := ch.TryRecv(); !errors.Is(err, aio.ErrWouldBlock) || !errors.Is(sendErr, context.Canceled) {
			t.Errorf("after the sender's cancellation: TryRecv %v, Send %v", err, sendErr)
		}
		return nil
	})
}

// A Chan is an Awaitable of its next value.
func TestChanAwait(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var ch aio.Chan[string]
		aio.Spawn(c, func(c *aio.Ctx) (int, error) { return 0, ch.Send(c, "hi") })
		v, err := aio.Await[string](c, &ch)
		if v != "hi" || err != nil {
			t.Errorf("Await of a Chan = %q, %v", v, err)
		}
		ch.Close()
		if _, err := aio.Await[string](c, &ch); !errors.Is(err, aio.ErrChanClosed) {
			t.Errorf("Await of a closed Chan = %v", err)
		}
		return nil
	})
}

// Misuse: a nil *Chan, a Chan used from a plain goroutine or from another
// loop, a negative capacity.
func TestChanMisuse(t *testing.T) {
	runMain(t, func(c *aio.Ctx) error {
		var nilCh *aio.Chan[int]
		if err := nilCh.Send(c, 1); !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("Send on a nil *Chan = %v", err)
		}
		if _, _, err := nilCh.Recv(c); !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("Recv on a nil *Chan = %v", err)
		}
		var ch aio.Chan[int]
		ch.TrySend(0) // binds it to this loop
		if err := offLoop(func() error { return ch.TrySend(1) }); !errors.Is(err, aio.ErrNotOnLoop) {
			t.Errorf("TrySend from a plain goroutine = %v", err)
		}
		if err := offLoop(func() error { return ch.Close() }); !errors.Is(err, aio.ErrNotOnLoop) {
			t.Errorf("Close from a plain goroutine = %v", err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("NewChan(-1) did not panic")
				}
			}()
			aio.NewChan[int](-1)
		}()
		return nil
	})
	l := newLoop(t)
	var shared aio.Chan[int]
	runTask(t, l, func(c *aio.Ctx) (int, error) { shared.TrySend(1); return 0, nil }) // binds it to l
	l2 := newLoop(t)
	task := runTask(t, l2, func(c *aio.Ctx) (int, error) { return 0, shared.Send(c, 2) })
	if _, err := task.Result(); !errors.Is(err, aio.ErrInvalidState) {
		t.Errorf("Send on a Chan of another loop = %v", err)
	}
}

// The hand-off between two tasks allocates nothing in steady state.
func TestChanPingPongAllocs(t *testing.T) {
	if !aio.CurgIsFastForTest {
		t.Skip("the slow goroutine-identity path (runtime.Stack) allocates at every check")
	}
	runMain(t, func(c *aio.Ctx) error {
		var ping, pong aio.Chan[int]
		const n = 2000
		peer, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			for {
				v, ok, err := ping.Recv(c)
				if err != nil || !ok {
					return 0, err
				}
				pong.Send(c, v+1)
			}
		})
		round := func() {
			ping.Send(c, 1)
			pong.Recv(c)
		}
		for range 100 {
			round() // warm up the pools
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			round()
		}
		runtime.ReadMemStats(&after)
		if per := float64(after.Mallocs-before.Mallocs) / n; per > 0.05 {
			t.Errorf("%.2f allocations per round trip, want 0", per)
		}
		ping.Close()
		_, err := aio.Await(c, peer)
		return err
	})
}
