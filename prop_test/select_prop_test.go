package prop_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// TestPropSelectReadySets draws Selects over receive and send cases on
// Chans of capacity 1, some ready (a value buffered to receive, room to
// send) and some not, with or without a default, and checks against a
// model that exactly one case was taken, that it was a ready one (or the
// default when none was ready), and that no other Chan changed: the losers
// took nothing and lost nothing.
func TestPropSelectReadySets(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		_, err := aio.Run(func(c *aio.Ctx) (int, error) {
			for range rapid.IntRange(1, 20).Draw(rt, "selects") {
				n := rapid.IntRange(1, 5).Draw(rt, "cases")
				chans := make([]*aio.Chan[int], n)
				send := make([]bool, n)
				ready := make([]bool, n)
				cases := make([]aio.SelectCase, n)
				got := make([]int, n)
				for i := range n {
					chans[i] = aio.NewChan[int](1)
					send[i] = rapid.Bool().Draw(rt, "send")
					full := rapid.Bool().Draw(rt, "full")
					if full {
						chans[i].TrySend(100 + i)
					}
					if send[i] {
						ready[i] = !full
						cases[i] = aio.SendCase(chans[i], 200+i)
					} else {
						ready[i] = full
						cases[i] = aio.RecvCase(chans[i], &got[i], nil)
					}
				}
				anyReady := false
				for _, r := range ready {
					anyReady = anyReady || r
				}
				withDefault := !anyReady || rapid.Bool().Draw(rt, "default")
				if withDefault {
					cases = append(cases, aio.DefaultCase())
				}
				i, err := aio.Select(c, cases...)
				if err != nil {
					rt.Fatalf("Select = %d, %v", i, err)
				}
				if i == n {
					if anyReady {
						rt.Fatalf("the default was taken with case(s) ready: %v", ready)
					}
				} else if !ready[i] {
					rt.Fatalf("case %d was taken and was not ready (ready %v)", i, ready)
				}
				for k := range n {
					v, ok, _ := chans[k].TryRecv()
					switch {
					case k == i && send[k]:
						if !ok || v != 200+k {
							rt.Fatalf("the chosen send case %d left %d, %v in its Chan", k, v, ok)
						}
					case k == i:
						if ok || got[k] != 100+k {
							rt.Fatalf("the chosen receive case %d got %d and left %v", k, got[k], ok)
						}
					case ready[k] == send[k]: // a losing case whose Chan was empty
						if ok {
							rt.Fatalf("losing case %d put %d in its Chan", k, v)
						}
					default: // a losing case whose Chan was full
						if !ok || v != 100+k || got[k] != 0 {
							rt.Fatalf("losing case %d changed its Chan: %d, %v, got %d", k, v, ok, got[k])
						}
					}
				}
			}
			return 0, nil
		})
		if err != nil {
			rt.Fatal(err)
		}
	})
}

// TestPropSelectParked parks a Select over unbuffered Chans (receives and
// sends) and then, at random, completes one of its cases from outside,
// cancels it, or both in the same turn, and tries every other Chan after:
// exactly one exchange happens if a case was completed (and then the
// Select returns it, even if cancelled, and the cancellation comes at the
// next suspension point), none if it was only cancelled; every other Chan
// has no waiter left. The cases are made once and reused for one to three
// rounds.
func TestPropSelectParked(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		_, err := aio.Run(func(c *aio.Ctx) (int, error) {
			n := rapid.IntRange(1, 4).Draw(rt, "cases")
			chans := make([]*aio.Chan[int], n)
			send := make([]bool, n)
			var got int
			cases := make([]aio.SelectCase, n)
			for i := range n {
				chans[i] = new(aio.Chan[int])
				send[i] = rapid.Bool().Draw(rt, "send")
				if send[i] {
					cases[i] = aio.SendCase(chans[i], 10+i)
				} else {
					cases[i] = aio.RecvCase(chans[i], &got, nil)
				}
			}
			// The same cases serve every round: a case made once is reused
			// by the next Select, after a win, a cancellation or both.
			for range rapid.IntRange(1, 3).Draw(rt, "rounds") {
				idx := -2
				var selErr, next error
				task, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
					idx, selErr = aio.Select(c, cases...)
					next = aio.Yield(c)
					return 0, nil
				})
				aio.Yield(c)
				complete := rapid.Bool().Draw(rt, "complete")
				cancel := !complete || rapid.Bool().Draw(rt, "cancel")
				k := rapid.IntRange(0, n-1).Draw(rt, "case")
				if cancel {
					task.Cancel(nil)
				}
				if complete {
					if send[k] {
						v, ok, err := chans[k].TryRecv()
						if err != nil || !ok || v != 10+k {
							rt.Fatalf("TryRecv from the parked send case = %d, %v, %v", v, ok, err)
						}
					} else if err := chans[k].TrySend(20 + k); err != nil {
						rt.Fatalf("TrySend to the parked receive case = %v", err)
					}
				}
				if _, err := aio.Await(c, task); err != nil {
					return 0, err
				}
				switch {
				case complete:
					if idx != k || selErr != nil {
						rt.Fatalf("Select = %d, %v; want case %d", idx, selErr, k)
					}
					if !send[k] && got != 20+k {
						rt.Fatalf("the receive case got %d, want %d", got, 20+k)
					}
					if cancel != errors.Is(next, context.Canceled) {
						rt.Fatalf("cancelled %v, the next suspension point returned %v", cancel, next)
					}
				default:
					if idx != -1 || !errors.Is(selErr, context.Canceled) {
						rt.Fatalf("a cancelled Select = %d, %v", idx, selErr)
					}
				}
				for i := range n {
					if complete && i == k {
						continue
					}
					if send[i] {
						if _, _, err := chans[i].TryRecv(); !errors.Is(err, aio.ErrWouldBlock) {
							rt.Fatalf("case %d left a sender: TryRecv = %v", i, err)
						}
					} else if err := chans[i].TrySend(1); !errors.Is(err, aio.ErrWouldBlock) {
						rt.Fatalf("case %d left a receiver: TrySend = %v", i, err)
					}
				}
			}
			return 0, nil
		})
		if err != nil {
			rt.Fatal(err)
		}
	})
}
