package prop_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// TestPropChanModel runs random sequences of Chan operations (sends and
// receives in tasks that park, TrySend, TryRecv, Close, the cancellation of
// parked senders and receivers, and a cancellation in the same turn as the
// hand-off that completes the cancelled party) on buffered and unbuffered
// Chans, and checks every outcome against a model: a FIFO buffer and FIFO
// queues of parked senders and receivers, where a hand-off completes the
// first parked party, a cancelled party that nothing completed leaves
// empty-handed, and one that a hand-off completed in the same turn keeps
// its value and gets the cancellation at its next suspension point.
// Conservation: every value whose send succeeded is received exactly once
// or is still in the buffer when the test ends (then drained); no value
// whose send failed is ever received.
func TestPropChanModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		capacity := rapid.IntRange(0, 3).Draw(rt, "cap")
		_, err := aio.Run(func(c *aio.Ctx) (int, error) {
			ch := aio.NewChan[int](capacity)
			type party struct {
				task      *aio.Task[int]
				send      bool
				v         int   // the value to send, or the value received
				ok        bool  // received a value
				err       error // the outcome of Send or Recv
				next      error // the task's next suspension point
				ended     bool
				cancelled bool // cancelled while the model has it parked
			}
			var parties []*party
			// The model.
			var buf []int
			var senders, receivers []*party // parked, in order
			closed := false
			want := map[*party]struct {
				v        int
				ok, fail bool // fail: ended by cancellation or close with nothing
			}{}
			received := map[int]int{} // value -> times received
			sentOK := map[int]bool{}  // values whose send succeeded
			nextValue := 0
			settle := func() {
				for range 4 {
					aio.Yield(c)
				}
			}
			spawn := func(p *party) {
				p.task, _ = aio.Spawn(c, func(c *aio.Ctx) (int, error) {
					if p.send {
						p.err = ch.Send(c, p.v)
					} else {
						p.v, p.ok, p.err = ch.Recv(c)
					}
					p.next = aio.Yield(c)
					p.ended = true
					return 0, nil
				})
				parties = append(parties, p)
			}
			// handToReceiver models a value reaching the first parked
			// receiver, or the buffer; it reports whether it went anywhere.
			handToReceiver := func(v int) bool {
				if len(receivers) > 0 {
					r := receivers[0]
					receivers = receivers[1:]
					want[r] = struct {
						v        int
						ok, fail bool
					}{v, true, false}
					return true
				}
				if len(buf) < capacity {
					buf = append(buf, v)
					return true
				}
				return false
			}
			// takeValue models a receive: from the buffer (refilled from the
			// first parked sender), or from a parked sender.
			takeValue := func() (int, bool) {
				if len(buf) > 0 {
					v := buf[0]
					buf = buf[1:]
					if len(senders) > 0 {
						s := senders[0]
						senders = senders[1:]
						buf = append(buf, s.v)
						sentOK[s.v] = true
						want[s] = struct {
							v        int
							ok, fail bool
						}{}
					}
					return v, true
				}
				if len(senders) > 0 {
					s := senders[0]
					senders = senders[1:]
					sentOK[s.v] = true
					want[s] = struct {
						v        int
						ok, fail bool
					}{}
					return s.v, true
				}
				return 0, false
			}
			rt.Repeat(map[string]func(*rapid.T){
				"Send": func(rt *rapid.T) {
					nextValue++
					p := &party{send: true, v: nextValue}
					spawn(p)
					switch {
					case closed:
						want[p] = struct {
							v        int
							ok, fail bool
						}{fail: true}
					case handToReceiver(p.v):
						sentOK[p.v] = true
						want[p] = struct {
							v        int
							ok, fail bool
						}{}
					default:
						senders = append(senders, p)
					}
					settle()
				},
				"Recv": func(rt *rapid.T) {
					p := &party{}
					spawn(p)
					if v, ok := takeValue(); ok {
						want[p] = struct {
							v        int
							ok, fail bool
						}{v, true, false}
					} else if closed {
						want[p] = struct {
							v        int
							ok, fail bool
						}{}
					} else {
						receivers = append(receivers, p)
					}
					settle()
				},
				"TrySend": func(rt *rapid.T) {
					nextValue++
					err := ch.TrySend(nextValue)
					switch {
					case closed:
						if !errors.Is(err, aio.ErrChanClosed) {
							rt.Fatalf("TrySend on a closed Chan = %v", err)
						}
					case handToReceiver(nextValue):
						if err != nil {
							rt.Fatalf("TrySend = %v, the model sent it", err)
						}
						sentOK[nextValue] = true
					default:
						if !errors.Is(err, aio.ErrWouldBlock) {
							rt.Fatalf("TrySend = %v, the model says it would block", err)
						}
					}
					settle()
				},
				"TryRecv": func(rt *rapid.T) {
					v, ok, err := ch.TryRecv()
					mv, mok := takeValue()
					switch {
					case mok:
						if err != nil || !ok || v != mv {
							rt.Fatalf("TryRecv = %d, %v, %v; the model says %d", v, ok, err, mv)
						}
						received[v]++
					case closed:
						if err != nil || ok {
							rt.Fatalf("TryRecv of a closed Chan = %d, %v, %v", v, ok, err)
						}
					default:
						if !errors.Is(err, aio.ErrWouldBlock) {
							rt.Fatalf("TryRecv = %d, %v, %v; the model says would block", v, ok, err)
						}
					}
					settle()
				},
				"Close": func(rt *rapid.T) {
					err := ch.Close()
					if closed != errors.Is(err, aio.ErrChanClosed) {
						rt.Fatalf("Close = %v with closed %v", err, closed)
					}
					if !closed {
						closed = true
						for _, r := range receivers {
							want[r] = struct {
								v        int
								ok, fail bool
							}{}
						}
						for _, s := range senders {
							want[s] = struct {
								v        int
								ok, fail bool
							}{fail: true}
						}
						receivers, senders = nil, nil
					}
					settle()
				},
				"CancelParked": func(rt *rapid.T) {
					parked := append(slices.Clone(senders), receivers...)
					if len(parked) == 0 {
						rt.Skip("nobody parked")
					}
					p := rapid.SampledFrom(parked).Draw(rt, "party")
					p.task.Cancel(nil)
					p.cancelled = true
					want[p] = struct {
						v        int
						ok, fail bool
					}{fail: true}
					if i := slices.Index(senders, p); i >= 0 {
						senders = slices.Delete(senders, i, i+1)
					}
					if i := slices.Index(receivers, p); i >= 0 {
						receivers = slices.Delete(receivers, i, i+1)
					}
					settle()
				},
				"CancelWithHandOff": func(rt *rapid.T) {
					// Cancel the first parked party and complete it in the
					// same turn: it keeps the exchange.
					switch {
					case len(receivers) > 0:
						r := receivers[0]
						r.task.Cancel(nil)
						r.cancelled = true
						nextValue++
						if err := ch.TrySend(nextValue); err != nil {
							rt.Fatalf("TrySend to a parked, cancelled receiver = %v", err)
						}
						handToReceiver(nextValue)
						sentOK[nextValue] = true
					case len(senders) > 0:
						s := senders[0]
						s.task.Cancel(nil)
						s.cancelled = true
						v, ok, err := ch.TryRecv()
						mv, _ := takeValue()
						if err != nil || !ok || v != mv {
							rt.Fatalf("TryRecv from a parked, cancelled sender = %d, %v, %v; want %d", v, ok, err, mv)
						}
						received[v]++
					default:
						rt.Skip("nobody parked")
					}
					settle()
				},
			})
			// Close and drain, then check every party against the model.
			if !closed {
				ch.Close()
				for _, r := range receivers {
					want[r] = struct {
						v        int
						ok, fail bool
					}{}
				}
				for _, s := range senders {
					want[s] = struct {
						v        int
						ok, fail bool
					}{fail: true}
				}
			}
			for v := range ch.All(c) {
				received[v]++
				if len(buf) == 0 || buf[0] != v {
					rt.Fatalf("drained %d, the model's buffer is %v", v, buf)
				}
				buf = buf[1:]
			}
			settle()
			for _, p := range parties {
				w := want[p]
				if !p.ended {
					rt.Fatalf("a party never ended")
				}
				switch {
				case p.send && w.fail:
					if p.err == nil {
						rt.Fatalf("send of %d succeeded, the model says it failed", p.v)
					}
				case p.send:
					if p.err != nil {
						rt.Fatalf("send of %d = %v, the model says it was sent", p.v, p.err)
					}
				case w.fail:
					if p.err == nil {
						rt.Fatalf("a receive got %d, %v; the model says cancelled", p.v, p.ok)
					}
				default:
					if p.err != nil || p.ok != w.ok || p.v != w.v {
						rt.Fatalf("a receive got %d, %v, %v; the model says %d, %v", p.v, p.ok, p.err, w.v, w.ok)
					}
					if p.ok {
						received[p.v]++
					}
				}
				if p.cancelled && !w.fail && !errors.Is(p.next, context.Canceled) {
					rt.Fatalf("a party completed in its cancellation's turn did not get the cancellation next: %v", p.next)
				}
			}
			for v, n := range received {
				if n != 1 || !sentOK[v] {
					rt.Fatalf("value %d received %d times (sent ok: %v)", v, n, sentOK[v])
				}
			}
			for v := range sentOK {
				if received[v] != 1 {
					rt.Fatalf("value %d was sent and received %d times", v, received[v])
				}
			}
			return 0, nil
		})
		if err != nil {
			rt.Fatal(err)
		}
	})
}
