package aio_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// helpersBlocked waits until at least n GoRecv/GoSend/GoRecvCase helper
// goroutines are blocked in their select (read from the goroutine dump), so
// that a test can act on a helper that is certainly out; it fails the test
// after a generous bound.
func helpersBlocked(t *testing.T, n int) {
	t.Helper()
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := runtime.Stack(buf, true)
		k := 0
		for _, g := range strings.Split(string(buf[:m]), "\n\n") {
			if strings.Contains(g, "[select") && strings.Contains(g, "aio.(*goOp[") {
				k++
			}
		}
		if k >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d helper goroutines blocked, want %d", k, n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// offLoopAfterBlocked runs fn on a new goroutine once n helpers are blocked,
// and returns a channel closed when fn has returned.
func offLoopAfterBlocked(t *testing.T, n int, fn func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		helpersBlocked(t, n)
		fn()
	}()
	return done
}

// A ready Go channel is received from, and sent to, at once; a value sent by
// a goroutine after the task parked is received, and a value the task sends
// while no receiver is ready reaches a goroutine that receives later.
func TestGoRecvSendReadyAndNotReady(t *testing.T) {
	runMainRealClock(t, func(c *aio.Ctx) error {
		ready := make(chan int, 1)
		ready <- 1
		if v, ok, err := aio.GoRecv(c, ready); v != 1 || !ok || err != nil {
			t.Errorf("GoRecv(ready) = %d, %v, %v", v, ok, err)
		}
		if err := aio.GoSend(c, ready, 2); err != nil || len(ready) != 1 || <-ready != 2 {
			t.Errorf("GoSend(ready) = %v", err)
		}

		ch := make(chan int)
		done := offLoopAfterBlocked(t, 1, func() { ch <- 7 })
		if v, ok, err := aio.GoRecv(c, ch); v != 7 || !ok || err != nil {
			t.Errorf("GoRecv(not ready) = %d, %v, %v", v, ok, err)
		}
		<-done

		got := make(chan int, 1)
		done = offLoopAfterBlocked(t, 1, func() { got <- <-ch })
		if err := aio.GoSend(c, ch, 8); err != nil {
			t.Errorf("GoSend(not ready) = %v", err)
		}
		<-done
		if v := <-got; v != 8 {
			t.Errorf("the receiver got %d, want 8", v)
		}
		return nil
	})
}

// The frozen ticker done right: a task receiving ten ticks of a
// time.Ticker with GoRecv lets the other tasks of the loop run meanwhile
// (with a plain <-ticker.C the other task would not run until the ten
// ticks were in).
func TestGoRecvTickerLetsTasksRun(t *testing.T) {
	runMainRealClock(t, func(c *aio.Ctx) error {
		ticker := time.NewTicker(time.Millisecond)
		defer ticker.Stop()
		steps := 0
		stop := false
		other, err := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
			for !stop {
				steps++
				if err := aio.Yield(c); err != nil {
					return struct{}{}, err
				}
			}
			return struct{}{}, nil
		})
		if err != nil {
			return err
		}
		ticks := 0
		for range 10 {
			if _, ok, err := aio.GoRecv(c, ticker.C); !ok || err != nil {
				t.Fatalf("GoRecv(ticker) = %v, %v", ok, err)
			}
			ticks++
		}
		during := steps
		stop = true
		if _, err := aio.Await(c, other); err != nil {
			return err
		}
		if ticks != 10 || during == 0 {
			t.Errorf("%d ticks, the other task ran %d steps meanwhile; want 10 and some", ticks, during)
		}
		return nil
	})
}

// A task with a pending cancellation is refused by GoRecv and GoSend even
// when the channel is ready (as a Chan's fast path does): nothing is taken
// from the channel, nothing is put in it.
func TestGoChanCancelBefore(t *testing.T) {
	runMainRealClock(t, func(c *aio.Ctx) error {
		full, empty := make(chan int, 1), make(chan int, 1)
		full <- 1
		recv, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			_, _, err := aio.GoRecv(c, full)
			return 0, err
		})
		send, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			return 0, aio.GoSend(c, empty, 2)
		})
		recv.Cancel(nil)
		send.Cancel(nil)
		if _, err := aio.Await(c, recv); !errors.Is(err, context.Canceled) {
			t.Errorf("GoRecv = %v, want a cancellation", err)
		}
		if _, err := aio.Await(c, send); !errors.Is(err, context.Canceled) {
			t.Errorf("GoSend = %v, want a cancellation", err)
		}
		if len(full) != 1 || len(empty) != 0 {
			t.Errorf("the channels hold %d and %d values, want 1 and 0", len(full), len(empty))
		}
		return nil
	})
}

// A task cancelled (from another goroutine) while it waits in GoRecv or
// GoSend returns the cancellation, and its helper is gone: no receiver or
// sender is left on the channel (a non-blocking send or receive finds
// nobody).
func TestGoChanCancelWhileWaiting(t *testing.T) {
	runMainRealClock(t, func(c *aio.Ctx) error {
		rch, sch := make(chan int), make(chan int)
		recv, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			v, _, err := aio.GoRecv(c, rch)
			return v, err
		})
		send, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			return 0, aio.GoSend(c, sch, 1)
		})
		offLoopAfterBlocked(t, 2, func() {
			recv.Cancel(nil)
			send.Cancel(nil)
		})
		if _, err := aio.Await(c, recv); !errors.Is(err, context.Canceled) {
			t.Errorf("GoRecv = %v, want a cancellation", err)
		}
		if _, err := aio.Await(c, send); !errors.Is(err, context.Canceled) {
			t.Errorf("GoSend = %v, want a cancellation", err)
		}
		select {
		case rch <- 1:
			t.Errorf("a receiver was left on the channel")
		case v := <-sch:
			t.Errorf("a sender was left on the channel, with %d", v)
		default:
		}
		return nil
	})
}

// The same-turn race: a value reaches the helper in the very callback that
// cancels the task. GoRecv returns the value and the cancellation comes at
// the task's next suspension point; likewise a GoSend whose value was taken
// returns nil, then the cancellation.
func TestGoChanSameTurnCancel(t *testing.T) {
	runMainRealClock(t, func(c *aio.Ctx) error {
		l := c.Loop()
		rch := make(chan int, 1)
		recv, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			v, ok, err := aio.GoRecv(c, rch)
			if v != 5 || !ok || err != nil {
				t.Errorf("GoRecv = %d, %v, %v; want 5, true, nil", v, ok, err)
			}
			return v, aio.Yield(c)
		})
		offLoopAfterBlocked(t, 1, func() {
			l.CallSoon(func() {
				rch <- 5 // to the helper, blocked on the empty buffer
				recv.Cancel(nil)
			})
		})
		if v, err := aio.Await(c, recv); v != 5 || !errors.Is(err, context.Canceled) {
			t.Errorf("receiver ended with %d, %v; want 5 and a cancellation", v, err)
		}

		sch := make(chan int)
		got := make(chan int, 1)
		send, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			if err := aio.GoSend(c, sch, 6); err != nil {
				t.Errorf("GoSend = %v, want nil", err)
			}
			return 0, aio.Yield(c)
		})
		offLoopAfterBlocked(t, 1, func() {
			l.CallSoon(func() {
				select {
				case v := <-sch: // from the helper, blocked on its send
					got <- v
				default:
					t.Errorf("the helper was not ready to send")
				}
				send.Cancel(nil)
			})
		})
		if _, err := aio.Await(c, send); !errors.Is(err, context.Canceled) {
			t.Errorf("sender ended with %v; want a cancellation", err)
		}
		if v := <-got; v != 6 {
			t.Errorf("received %d, want 6", v)
		}
		return nil
	})
}

// A closed Go channel: GoRecv returns the zero value and false, at once or
// when the channel is closed while it waits; GoSend returns an error
// matching ErrChanClosed (where Go panics), at once or when the channel is
// closed while it waits. A nil channel is refused with ErrInvalidState.
func TestGoChanClosedAndNil(t *testing.T) {
	runMainRealClock(t, func(c *aio.Ctx) error {
		closed := make(chan int)
		close(closed)
		if v, ok, err := aio.GoRecv(c, closed); v != 0 || ok || err != nil {
			t.Errorf("GoRecv(closed) = %d, %v, %v", v, ok, err)
		}
		if err := aio.GoSend(c, closed, 1); !errors.Is(err, aio.ErrChanClosed) {
			t.Errorf("GoSend(closed) = %v, want ErrChanClosed", err)
		}
		rch := make(chan int)
		offLoopAfterBlocked(t, 1, func() { close(rch) })
		if v, ok, err := aio.GoRecv(c, rch); v != 0 || ok || err != nil {
			t.Errorf("GoRecv(closed while waiting) = %d, %v, %v", v, ok, err)
		}
		// Closing a channel while a send waits on it is a race by Go's
		// rules (the race detector reports the close against the send),
		// so this part runs without the detector only.
		if !raceEnabled {
			sch := make(chan int)
			offLoopAfterBlocked(t, 1, func() { close(sch) })
			if err := aio.GoSend(c, sch, 1); !errors.Is(err, aio.ErrChanClosed) {
				t.Errorf("GoSend(closed while waiting) = %v, want ErrChanClosed", err)
			}
		}
		if _, _, err := aio.GoRecv[int](c, nil); !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("GoRecv(nil) = %v, want ErrInvalidState", err)
		}
		if err := aio.GoSend[int](c, nil, 1); !errors.Is(err, aio.ErrInvalidState) {
			t.Errorf("GoSend(nil) = %v, want ErrInvalidState", err)
		}
		// In a Select a nil channel is never ready, as in Go.
		i, err := aio.Select(c, aio.GoRecvCase[int](nil, nil, nil), aio.TimeoutCase(time.Millisecond))
		if i != 1 || err != nil {
			t.Errorf("Select(nil, timeout) = %d, %v; want the timeout", i, err)
		}
		return nil
	})
}

// Select with a GoRecvCase beside Chan cases and a timeout: a value a
// goroutine sends wins the Go case; a Chan value wins its case; with
// nothing sent the timeout wins. A Go value that arrives after the Chan
// case won is not lost: the next GoRecv of that channel gets it (from the
// loop's stash, or from the channel).
func TestGoRecvCaseInSelect(t *testing.T) {
	runMainRealClock(t, func(c *aio.Ctx) error {
		l := c.Loop()
		gch := make(chan int)
		var lch aio.Chan[int]
		var gv, lv int
		var ok bool
		cases := func() []aio.SelectCase {
			return []aio.SelectCase{
				aio.GoRecvCase(gch, &gv, &ok),
				aio.RecvCase(&lch, &lv, nil),
				aio.TimeoutCase(time.Hour),
			}
		}
		done := offLoopAfterBlocked(t, 1, func() { gch <- 11 })
		if i, err := aio.Select(c, cases()...); i != 0 || err != nil || gv != 11 || !ok {
			t.Errorf("Select = %d, %v, value %d %v; want the Go case with 11", i, err, gv, ok)
		}
		<-done

		// The Chan case wins, then the Go value comes.
		sent := offLoopAfterBlocked(t, 1, func() {
			won := make(chan struct{})
			l.CallSoon(func() { lch.TrySend(12); close(won) })
			<-won
			gch <- 13
		})
		if i, err := aio.Select(c, cases()...); i != 1 || err != nil || lv != 12 {
			t.Errorf("Select = %d, %v, value %d; want the Chan case with 12", i, err, lv)
		}
		if v, ok, err := aio.GoRecv(c, gch); v != 13 || !ok || err != nil {
			t.Errorf("GoRecv after the Select = %d, %v, %v; want 13", v, ok, err)
		}
		if _, _, err := aio.GoRecv(c, sent); err != nil {
			return err
		}

		i, err := aio.Select(c, aio.GoRecvCase(gch, &gv, nil), aio.RecvCase(&lch, &lv, nil), aio.TimeoutCase(time.Millisecond))
		if i != 2 || err != nil {
			t.Errorf("Select = %d, %v; want the timeout", i, err)
		}
		return nil
	})
}

// A value a GoRecvCase's helper received after its Select chose another
// case, when nobody on the loop receives from that channel again, is
// reported with its value through the loop's error handler when the loop
// closes (a *StrandedValueError matching ErrStranded), never dropped.
func TestGoRecvCaseStrandedReported(t *testing.T) {
	l := newLoop(t)
	rec := record(l)
	gch := make(chan int, 1)
	var lch aio.Chan[int]
	task, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		return aio.Select(c, aio.GoRecvCase(gch, nil, nil), aio.RecvCase(&lch, nil, nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	offLoopAfterBlocked(t, 1, func() {
		l.CallSoon(func() {
			lch.TrySend(1) // the Chan case wins
			gch <- 42      // to the helper, blocked on the empty buffer
		})
	})
	runUntil(t, l, task.IsDone)
	if i, err := task.Result(); i != 1 || err != nil {
		t.Fatalf("Select = %d, %v; want the Chan case", i, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var found []any
	for _, ec := range rec.all() {
		var se *aio.StrandedValueError
		if errors.As(ec.Err, &se) && errors.Is(ec.Err, aio.ErrStranded) {
			found = append(found, se.Value)
		}
	}
	if len(found) != 1 || found[0] != 42 || len(gch) != 0 {
		t.Errorf("stranded values reported: %v (channel holds %d); want [42]", found, len(gch))
	}
}

// No helper goroutine outlives its operation: after many waits, completed,
// cancelled, and lost in Selects, none is left (leakCheck, through
// runMainRealClock).
func TestGoChanNoGoroutineLeft(t *testing.T) {
	runMainRealClock(t, func(c *aio.Ctx) error {
		ch := make(chan int)
		go func() {
			for i := range 50 {
				ch <- i
			}
		}()
		n := 0
		for n < 50 {
			var v int
			i, err := aio.Select(c, aio.GoRecvCase(ch, &v, nil), aio.TimeoutCase(time.Microsecond))
			if err != nil {
				return err
			}
			if i == 0 {
				n++
			}
			err = aio.WithTimeout(c, time.Microsecond, func(c *aio.Ctx) error {
				_, _, err := aio.GoRecv(c, ch)
				if err == nil {
					n++
				}
				return err
			})
			if err != nil && !errors.Is(err, aio.ErrTimeout) {
				return err
			}
		}
		if n != 50 {
			t.Errorf("received %d values, want 50", n)
		}
		return nil
	})
}

// A loop closed while its task waits in GoRecv and in a Select with a
// GoRecvCase stops both helpers: the waits end with a cancellation whose
// cause is ErrClosed, no receiver is left on the channel, and no goroutine
// is left (leakCheck, through newLoop).
func TestGoChanLoopCloseWhileWaiting(t *testing.T) {
	l := newLoop(t)
	ch := make(chan int)
	var recvErr, selErr error
	aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		_, _, recvErr = aio.GoRecv(c, ch)
		return 0, recvErr
	})
	aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		_, selErr = aio.Select(c, aio.GoRecvCase(ch, nil, nil), aio.TimeoutCase(time.Hour))
		return 0, selErr
	})
	blocked := make(chan struct{})
	done := offLoopAfterBlocked(t, 2, func() {
		close(blocked)
		l.CallSoon(func() {}) // an iteration, to see it
	})
	runUntil(t, l, func() bool { return isClosed(blocked) })
	<-done
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(recvErr, aio.ErrClosed) || !errors.Is(selErr, aio.ErrClosed) {
		t.Errorf("GoRecv = %v, Select = %v; want cancellations by ErrClosed", recvErr, selErr)
	}
	select {
	case ch <- 1:
		t.Errorf("a receiver was left on the channel")
	default:
	}
}
