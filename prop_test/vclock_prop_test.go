package prop_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/aiotest"
	"pgregory.net/rapid"
)

// Property test of the virtual clock (aio.WithVirtualClock, through
// aiotest.Run): rapid draws a program of a few actors, each a task that runs
// a list of operations (sleeps, timeouts that expire or not, WaitFor on a
// child task, task groups whose children end at distinct times and of
// which one may fail, tickers, bursts of yields), and some actors are
// cancelled at a random instant by a timer of the main task. Every event is
// traced with its loop time. The program runs twice: the two traces must be
// identical, event for event and in the same global order, and each actor's
// events must be those of a model that computes, for each operation, when
// it ends and how. Durations are whole milliseconds and cancellation
// instants fall half-way between two of them, and the durations that race
// in one operation are distinct, so that the model needs no rule for equal
// deadlines. Helpers start with "vc".

// TestPropVirtualClockDeterministic checks the property.
func TestPropVirtualClockDeterministic(t *testing.T) { rapid.Check(t, vcCheck) }

const (
	vcSleep = iota
	vcTimeout
	vcWaitFor
	vcGroup
	vcTicker
	vcYield
	vcKinds
)

// vcOp is one operation of an actor.
type vcOp struct {
	kind  int
	d, d2 time.Duration   // sleep: d; timeout: bound d around a sleep d2; WaitFor: bound d on a child sleeping d2; ticker: period d
	ds    []time.Duration // group: the children's sleeps, distinct
	fail  int             // group: the child that fails after its sleep, or -1
	n     int             // ticker: ticks; yield: yields
}

// vcActor is one task of the program.
type vcActor struct {
	ops      []vcOp
	cancelAt time.Duration // -1: never cancelled
}

var errVc = errors.New("vc: child failed")

func vcMs(rt *rapid.T, label string, lo, hi int) time.Duration {
	return time.Duration(rapid.IntRange(lo, hi).Draw(rt, label)) * time.Millisecond
}

func vcDrawOp(rt *rapid.T) vcOp {
	op := vcOp{kind: rapid.IntRange(0, vcKinds-1).Draw(rt, "kind"), fail: -1}
	switch op.kind {
	case vcSleep:
		op.d = vcMs(rt, "d", 0, 40)
	case vcTimeout, vcWaitFor:
		op.d = vcMs(rt, "bound", 1, 40)
		op.d2 = vcMs(rt, "work", 1, 40)
		if op.d2 == op.d {
			op.d2 += time.Millisecond
		}
	case vcGroup:
		ms := rapid.SliceOfNDistinct(rapid.IntRange(1, 40), 1, 4, rapid.ID[int]).Draw(rt, "children")
		for _, m := range ms {
			op.ds = append(op.ds, time.Duration(m)*time.Millisecond)
		}
		if rapid.Bool().Draw(rt, "fails") {
			op.fail = rapid.IntRange(0, len(ms)-1).Draw(rt, "failer")
		}
	case vcTicker:
		op.d = vcMs(rt, "period", 1, 15)
		op.n = rapid.IntRange(1, 4).Draw(rt, "ticks")
	case vcYield:
		op.n = rapid.IntRange(1, 20).Draw(rt, "yields")
	}
	return op
}

// vcEvent is one traced event: an actor's, at a loop time since the start.
type vcEvent struct {
	actor int
	at    time.Duration
	what  string
}

func (e vcEvent) String() string { return fmt.Sprintf("a%d@%v:%s", e.actor, e.at, e.what) }

// vcModel returns the events actor a should trace, in order.
func vcModel(id int, a vcActor) []vcEvent {
	var evs []vcEvent
	now := time.Duration(0)
	add := func(at time.Duration, what string) { evs = append(evs, vcEvent{id, at, what}) }
	for i, op := range a.ops {
		switch op.kind {
		case vcSleep:
			now += op.d
			add(now, fmt.Sprintf("op%d slept", i))
		case vcTimeout:
			if op.d2 < op.d {
				now += op.d2
				add(now, fmt.Sprintf("op%d in time", i))
			} else {
				now += op.d
				add(now, fmt.Sprintf("op%d timed out", i))
			}
		case vcWaitFor:
			if op.d2 < op.d {
				now += op.d2
				add(now, fmt.Sprintf("op%d got %d", i, i))
			} else {
				now += op.d
				add(now, fmt.Sprintf("op%d timed out", i))
			}
		case vcGroup:
			end := slices.Max(op.ds)
			if op.fail >= 0 {
				end = op.ds[op.fail]
			}
			order := slices.Clone(op.ds)
			slices.Sort(order)
			for _, d := range order {
				if d > end {
					break
				}
				k := slices.Index(op.ds, d)
				if k == op.fail {
					add(now+d, fmt.Sprintf("op%d child %d fails", i, k))
				} else {
					add(now+d, fmt.Sprintf("op%d child %d done", i, k))
				}
			}
			now += end
			if op.fail >= 0 {
				add(now, fmt.Sprintf("op%d group failed", i))
			} else {
				add(now, fmt.Sprintf("op%d group done", i))
			}
		case vcTicker:
			for k := 1; k <= op.n; k++ {
				add(now+time.Duration(k)*op.d, fmt.Sprintf("op%d tick %d", i, k))
			}
			now += time.Duration(op.n) * op.d
		case vcYield:
			add(now, fmt.Sprintf("op%d yielded", i))
		}
	}
	add(now, "done")
	if a.cancelAt >= 0 && a.cancelAt < now {
		cut := slices.IndexFunc(evs, func(e vcEvent) bool { return e.at > a.cancelAt })
		evs = append(evs[:cut], vcEvent{id, a.cancelAt, "cancelled"})
	}
	return evs
}

// vcRun runs the program on the virtual clock and returns its trace.
func vcRun(rt *rapid.T, actors []vcActor) []vcEvent {
	var trace []vcEvent
	aiotest.Run(rt, func(c *aio.Ctx) error {
		l := c.Loop()
		start := l.Now()
		log := func(id int, what string) {
			trace = append(trace, vcEvent{id, l.Now().Sub(start), what})
		}
		var tasks []*aio.Task[int]
		for id, a := range actors {
			task, err := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				for i, op := range a.ops {
					if err := vcDo(c, id, i, op, log); err != nil {
						if errors.Is(err, context.Canceled) {
							log(id, "cancelled")
							return 0, nil
						}
						return 0, err
					}
				}
				log(id, "done")
				return 0, nil
			}, aio.WithName(fmt.Sprintf("a%d", id)))
			if err != nil {
				return err
			}
			tasks = append(tasks, task)
			if a.cancelAt >= 0 {
				l.CallLater(a.cancelAt, func() { task.Cancel(nil) })
			}
		}
		_, err := aio.Gather(c, tasks...)
		return err
	})
	return trace
}

// vcDo runs one operation of actor id.
func vcDo(c *aio.Ctx, id, i int, op vcOp, log func(int, string)) error {
	switch op.kind {
	case vcSleep:
		if err := aio.Sleep(c, op.d); err != nil {
			return err
		}
		log(id, fmt.Sprintf("op%d slept", i))
	case vcTimeout:
		err := aio.WithTimeout(c, op.d, func(c *aio.Ctx) error { return aio.Sleep(c, op.d2) })
		switch {
		case err == nil:
			log(id, fmt.Sprintf("op%d in time", i))
		case errors.Is(err, aio.ErrTimeout):
			log(id, fmt.Sprintf("op%d timed out", i))
		default:
			return err
		}
	case vcWaitFor:
		child, err := aio.Spawn(c, func(c *aio.Ctx) (int, error) { return i, aio.Sleep(c, op.d2) })
		if err != nil {
			return err
		}
		v, err := aio.WaitFor[int](c, child, op.d)
		switch {
		case err == nil:
			log(id, fmt.Sprintf("op%d got %d", i, v))
		case errors.Is(err, aio.ErrTimeout):
			log(id, fmt.Sprintf("op%d timed out", i))
		default:
			return err
		}
	case vcGroup:
		err := aio.WithGroup(c, func(g *aio.Group) error {
			for k, d := range op.ds {
				g.Go(func(c *aio.Ctx) error {
					if err := aio.Sleep(c, d); err != nil {
						return err
					}
					if k == op.fail {
						log(id, fmt.Sprintf("op%d child %d fails", i, k))
						return errVc
					}
					log(id, fmt.Sprintf("op%d child %d done", i, k))
					return nil
				})
			}
			return nil
		})
		switch {
		case err == nil:
			log(id, fmt.Sprintf("op%d group done", i))
		case errors.Is(err, errVc):
			log(id, fmt.Sprintf("op%d group failed", i))
		default:
			return err
		}
	case vcTicker:
		tk, err := aio.NewTicker(c.Loop(), op.d)
		if err != nil {
			return err
		}
		defer tk.Stop()
		for k := 1; k <= op.n; k++ {
			if _, err := tk.Tick(c); err != nil {
				return err
			}
			log(id, fmt.Sprintf("op%d tick %d", i, k))
		}
	case vcYield:
		for range op.n {
			if err := aio.Yield(c); err != nil {
				return err
			}
		}
		log(id, fmt.Sprintf("op%d yielded", i))
	}
	return nil
}

func vcCheck(rt *rapid.T) {
	n := rapid.IntRange(1, 4).Draw(rt, "actors")
	actors := make([]vcActor, n)
	for id := range actors {
		k := rapid.IntRange(1, 5).Draw(rt, "ops")
		for range k {
			actors[id].ops = append(actors[id].ops, vcDrawOp(rt))
		}
		actors[id].cancelAt = -1
		if rapid.IntRange(0, 2).Draw(rt, "cancel") == 0 {
			ms := rapid.IntRange(0, 100).Draw(rt, "cancelAt")
			actors[id].cancelAt = time.Duration(ms)*time.Millisecond + 500*time.Microsecond
		}
	}
	first := vcRun(rt, actors)
	second := vcRun(rt, actors)
	if !slices.Equal(first, second) {
		rt.Fatalf("two runs of one program gave different traces:\n%v\n%v", first, second)
	}
	for i := 1; i < len(first); i++ {
		if first[i].at < first[i-1].at {
			rt.Fatalf("the trace goes back in time at %v: %v", first[i], first)
		}
	}
	for id, a := range actors {
		var got []vcEvent
		for _, e := range first {
			if e.actor == id {
				got = append(got, e)
			}
		}
		if want := vcModel(id, a); !slices.Equal(got, want) {
			rt.Fatalf("actor %d (%+v):\n got %v\nwant %v", id, a, got, want)
		}
	}
}

// Helpers of the property tests that run a loop by hand on the virtual
// clock (structured_prop_test.go, taskset_prop_test.go).

// vcRunUntil runs l until done reports true, on another goroutine, and
// fails rt if the run fails or has not ended after 10 s of real time (a
// liveness bound: on the virtual clock these runs take milliseconds).
func vcRunUntil(rt *rapid.T, l *aio.Loop, done func() bool) {
	rt.Helper()
	errc := make(chan error, 1)
	go func() { errc <- l.RunUntil(done) }()
	select {
	case err := <-errc:
		if err != nil {
			rt.Fatalf("RunUntil: %v", err)
		}
	case <-time.After(10 * time.Second):
		l.Stop()
		<-errc
		rt.Fatalf("the loop was still running after 10 s")
	}
}

// vcRecorder keeps what reached a loop's error handler.
type vcRecorder struct {
	mu   sync.Mutex
	list []aio.ErrorContext
}

// vcRecord makes l's error handler record into a new vcRecorder.
func vcRecord(l *aio.Loop) *vcRecorder {
	r := &vcRecorder{}
	l.SetErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) {
		r.mu.Lock()
		r.list = append(r.list, ec)
		r.mu.Unlock()
	})
	return r
}

// count returns the number of reports whose message contains msg.
func (r *vcRecorder) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ec := range r.list {
		if strings.Contains(ec.Message, msg) {
			n++
		}
	}
	return n
}
