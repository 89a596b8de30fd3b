package prop_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/locks"
	"pgregory.net/rapid"
)

// TestPropBarrierModel runs random sequences of Wait (by tasks, and by the
// main task when it would not suspend), Reset, Abort and cancellations of
// waiting tasks, alone or several at once, before or right after the last
// party released the round or a Reset or Abort broke it (before the woken
// tasks ran, with a task that starts waiting just then), on a
// locks.Barrier of 1 to 4 parties, and checks after each step, once the
// tasks are quiet, that the Barrier matches a model: a broken flag and the
// parties of the round under way, in order. The last party to arrive
// releases the round: every party of it returns its index, its order of
// arrival, the last one at once. Abort and Reset end the round broken: each
// of its parties gets ErrBrokenBarrier, and so does every later Wait until a
// Reset, after which rounds fill again. A party cancelled while it waits
// returns the cancellation and breaks the barrier (the others get
// ErrBrokenBarrier) unless its round was released before it ran, in which
// case it returns the cancellation and the round stands for the others. A
// task that waits in a later round is not released by the end of an earlier
// one (nor by a wake a cancelled party of that one passes on). Broken,
// NWaiting and Parties agree with the model throughout.
func TestPropBarrierModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		parties := rapid.IntRange(1, 4).Draw(rt, "parties")
		lkRun(rt, func(c *aio.Ctx) error {
			b, err := locks.NewBarrier(parties)
			if err != nil {
				return err
			}
			w := &lkWorld{c: c}
			broken := false // the model: the barrier is broken
			var round []int // the model: the parties waiting, in order
			spawnWait := func() int {
				return w.spawn(func(c *aio.Ctx, tk *lkTask) {
					tk.idx, tk.err = b.Wait(c)
					tk.got = tk.err == nil
				})
			}
			release := func() {
				for i, k := range round {
					w.want[k] = idxWant(i)
				}
				round = nil
			}
			breakRound := func() {
				for _, k := range round {
					w.want[k] = "broken"
				}
				round = nil
			}
			// arrive is the model of task k's Wait, when it runs.
			arrive := func(k int) {
				switch {
				case broken:
					w.want[k] = "broken"
				case len(round)+1 == parties:
					w.want[k] = idxWant(len(round))
					release()
				default:
					round = append(round, k)
				}
			}
			// cancelWaiting cancels ks, parties of the round under way that
			// have not been woken: the first to run breaks the barrier.
			cancelWaiting := func(ks []int) {
				for _, k := range ks {
					w.cancel(k)
					w.want[k] = "canceled"
					round = lkRemove(round, k)
				}
				breakRound()
				broken = true
			}
			// cancelWoken cancels ks, parties of a round that has ended
			// (their want is decided), before they run: they get the
			// cancellation, and change nothing else.
			cancelWoken := func(rt *rapid.T, ended []int) {
				if len(ended) == 0 || !rapid.Bool().Draw(rt, "cancel some") {
					return
				}
				for _, k := range lkDrawSubset(rt, ended, "cancel") {
					w.cancel(k)
					w.want[k] = "canceled"
				}
			}
			// mainWait is the main task's Wait, which must not suspend: it
			// is the last party, or the barrier is broken.
			mainWait := func(rt *rapid.T) {
				i, err := b.Wait(c)
				if broken {
					if !errors.Is(err, locks.ErrBrokenBarrier) {
						rt.Fatalf("Wait on a broken Barrier = %d, %v", i, err)
					}
					return
				}
				if err != nil || i != len(round) {
					rt.Fatalf("Wait of the last party = %d, %v; want %d", i, err, len(round))
				}
				release()
			}
			rt.Repeat(map[string]func(*rapid.T){
				"Wait": func(rt *rapid.T) { arrive(spawnWait()); w.settle(rt) },
				"MainWait": func(rt *rapid.T) {
					if !broken && len(round)+1 != parties {
						rt.Skip("the main task would wait")
					}
					mainWait(rt)
					w.settle(rt)
				},
				"Reset": func(rt *rapid.T) {
					b.Reset()
					breakRound()
					broken = false
					w.settle(rt)
				},
				"Abort": func(rt *rapid.T) {
					b.Abort()
					breakRound()
					broken = true
					w.settle(rt)
				},
				"Cancel": func(rt *rapid.T) {
					if len(w.tasks) == 0 {
						rt.Skip("no task")
					}
					k := rapid.IntRange(0, len(w.tasks)-1).Draw(rt, "task")
					if slices.Contains(round, k) {
						cancelWaiting([]int{k})
					} else {
						w.cancel(k) // ended, or will: nothing changes
					}
					w.settle(rt)
				},
				"CancelSeveral": func(rt *rapid.T) {
					if len(round) == 0 {
						rt.Skip("nobody waits")
					}
					cancelWaiting(lkDrawSubset(rt, round, "cancel"))
					w.settle(rt)
				},
				// Cancellations of waiting parties, and then, before they
				// run, the last party's arrival: the round is released and
				// stands.
				"CancelThenMainWait": func(rt *rapid.T) {
					if broken || len(round) == 0 || len(round)+1 != parties {
						rt.Skip("not the last party")
					}
					members := slices.Clone(round)
					mainWait(rt)
					for _, k := range lkDrawSubset(rt, members, "cancel") {
						w.cancel(k)
						w.want[k] = "canceled"
					}
					w.settle(rt)
				},
				// The end of a round (the main task's arrival as its last
				// party, a Reset or an Abort), cancellations of some of the
				// parties it woke before they run, and a task spawned just
				// before, which starts waiting after it, in the next round.
				"EndRoundThenCancelWoken": func(rt *rapid.T) {
					if len(round) == 0 {
						rt.Skip("nobody waits")
					}
					how := rapid.SampledFrom([]string{"last party", "reset", "abort"}).Draw(rt, "end")
					if how == "last party" && len(round)+1 != parties {
						how = "reset"
					}
					late, hasLate := -1, rapid.Bool().Draw(rt, "late waiter")
					if hasLate {
						late = spawnWait()
					}
					members := slices.Clone(round)
					switch how {
					case "last party":
						mainWait(rt)
					case "reset":
						b.Reset()
						breakRound()
						broken = false
					case "abort":
						b.Abort()
						breakRound()
						broken = true
					}
					cancelWoken(rt, members)
					if hasLate {
						arrive(late)
					}
					w.settle(rt)
				},
				"": func(rt *rapid.T) {
					if b.Broken() != broken || b.NWaiting() != len(round) || b.Parties() != parties {
						rt.Fatalf("Broken %v, NWaiting %d, Parties %d; the model: broken %v, waiting %v, parties %d",
							b.Broken(), b.NWaiting(), b.Parties(), broken, round, parties)
					}
					w.check(rt, func(err error) bool { return errors.Is(err, locks.ErrBrokenBarrier) })
				},
			})
			return w.finish(rt)
		})
	})
}

// idxWant is the outcome lkWorld.check expects of a Barrier party that
// returns index i.
func idxWant(i int) string { return "idx=" + string(rune('0'+i)) }
