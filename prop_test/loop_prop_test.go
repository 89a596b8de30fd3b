package prop_test

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// Property tests of the event loop: callbacks, timers, cancellation, the
// door from other goroutines, and the one-thread guarantee. Each check
// draws a small program, runs it on a fresh loop through the public API and
// compares what happened with a model. Helpers start with "lp" so that they
// do not collide with those of other files of the package.

// lpTimeout bounds each run of a loop: a liveness bound, never an assertion
// about speed.
const lpTimeout = 5 * time.Second

// lpLoop returns a new loop closed when the check ends.
func lpLoop(t *rapid.T) *aio.Loop {
	l, err := aio.NewLoop()
	if err != nil {
		t.Fatalf("NewLoop: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// lpRun runs fn (which runs l) on a new goroutine and waits for it. If it
// has not returned after lpTimeout, it stops l and fails the check.
func lpRun(t *rapid.T, l *aio.Loop, fn func() error) {
	errc := make(chan error, 1)
	go func() { errc <- fn() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		return
	case <-time.After(lpTimeout):
	}
	l.Stop()
	select {
	case <-errc:
	case <-time.After(time.Second):
	}
	t.Fatalf("the loop was still running after %v", lpTimeout)
}

// lpOffLoop calls fn on a new goroutine and waits for it; from a loop
// callback it blocks the loop for a moment.
func lpOffLoop(fn func()) {
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	<-done
}

// lpTid returns the calling OS thread's id, from /proc/thread-self
// (Linux); elsewhere the thread property skips itself.
func lpTid() (int, error) {
	s, err := os.Readlink("/proc/thread-self") // "<pid>/task/<tid>"
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s[strings.LastIndexByte(s, '/')+1:])
}

// TestPropCallbacksFIFO: callbacks scheduled with CallSoon from loop code,
// some of which schedule more and cancel some of what they scheduled, run
// in the order of a single FIFO queue, and each one in the iteration after
// the one in which it was scheduled. Cancelled callbacks never run.
//
// The program is a forest: node i is scheduled by node parent[i], or by the
// root callback if parent[i] == -1, when that node runs; a node schedules
// its children in index order and then cancels those marked cancelled.
func TestPropCallbacksFIFO(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 60).Draw(t, "n")
		parent := make([]int, n)
		cancelled := make([]bool, n)
		children := make([][]int, n+1) // children[p+1]: the nodes node p schedules
		for i := range n {
			parent[i] = rapid.IntRange(-1, i-1).Draw(t, fmt.Sprintf("parent%d", i))
			cancelled[i] = rapid.IntRange(0, 4).Draw(t, fmt.Sprintf("cancel%d", i)) == 0
			children[parent[i]+1] = append(children[parent[i]+1], i)
		}

		// The model: one FIFO queue; the root runs in iteration 0.
		type ran struct{ node, iter int }
		var want []ran
		type item struct{ node, iter int }
		queue := []item{}
		for _, c := range children[0] {
			queue = append(queue, item{c, 1})
		}
		for len(queue) > 0 {
			it := queue[0]
			queue = queue[1:]
			if cancelled[it.node] {
				continue
			}
			want = append(want, ran(it))
			for _, c := range children[it.node+1] {
				queue = append(queue, item{c, it.iter + 1})
			}
		}

		maxIter := 0
		for _, r := range want {
			maxIter = max(maxIter, r.iter)
		}

		l := lpLoop(t)
		iter, rootIter := 0, 0
		var got []ran
		var errs []string
		var spawn func(p int)
		spawn = func(p int) {
			var hs []aio.Handle
			for _, c := range children[p+1] {
				h, err := l.CallSoon(func() {
					got = append(got, ran{c, iter - rootIter})
					spawn(c)
				})
				if err != nil {
					errs = append(errs, err.Error())
				}
				hs = append(hs, h)
			}
			for k, c := range children[p+1] {
				if cancelled[c] {
					hs[k].Cancel()
				}
			}
		}
		// A watcher reschedules itself every iteration, so that the loop
		// never parks: a lost callback shows as a mismatch, not a hang. It
		// does not record anything, so it does not disturb the model.
		var watch func()
		watch = func() { l.CallSoon(watch) }
		if _, err := l.CallSoon(func() { rootIter = iter; spawn(-1); l.CallSoon(watch) }); err != nil {
			t.Fatal(err)
		}
		// Run one iteration past the model's last, to catch extra runs.
		lpRun(t, l, func() error {
			return l.RunUntil(func() bool {
				iter++
				return rootIter > 0 && iter-rootIter > maxIter+1
			})
		})
		if len(errs) > 0 {
			t.Fatal(strings.Join(errs, "\n"))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ran (node, iteration after the root's):\n got %v\nwant %v", got, want)
		}
	})
}

// TestPropTimersModel: timers scheduled with CallAt at base+k ms (k in 0..3,
// so that deadlines tie exactly), some cancelled before anything fires (on
// the loop, or from another goroutine) and some cancelled by other timers'
// callbacks, fire in the order of the model: the timers not cancelled by
// the time their turn comes, sorted by (deadline, scheduling order). Each
// fires at or after its When, and Cancelled reports exactly the timers
// cancelled before they fired.
func TestPropTimersModel(t *testing.T) {
	const (
		keep = iota
		cancelOnLoop
		cancelFromGoroutine
		cancelByTimer
	)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 20).Draw(t, "n")
		offs := make([]int, n)
		kind := make([]int, n)
		canceller := make([]int, n) // for cancelByTimer: the timer whose callback cancels
		targets := make([][]int, n)
		for i := range n {
			offs[i] = rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("off%d", i))
			kind[i] = rapid.SampledFrom([]int{keep, keep, keep, cancelOnLoop, cancelFromGoroutine, cancelByTimer}).Draw(t, fmt.Sprintf("kind%d", i))
			if kind[i] == cancelByTimer {
				if n == 1 {
					kind[i] = keep
					continue
				}
				j := rapid.IntRange(0, n-2).Draw(t, fmt.Sprintf("canceller%d", i))
				if j >= i {
					j++
				}
				canceller[i] = j
				targets[j] = append(targets[j], i)
			}
		}

		// The model.
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return offs[a] - offs[b] })
		dead := make([]bool, n) // cancelled before its turn
		for i := range n {
			dead[i] = kind[i] == cancelOnLoop || kind[i] == cancelFromGoroutine
		}
		var want []int
		for _, i := range order {
			if dead[i] {
				continue
			}
			want = append(want, i)
			for _, c := range targets[i] {
				dead[c] = true // no effect if c already fired
			}
		}
		fired := make([]bool, n)
		for _, i := range want {
			fired[i] = true
		}

		l := lpLoop(t)
		hs := make([]aio.Handle, n)
		var got []int
		var errs []string
		finished := false
		l.CallSoon(func() {
			base := l.Now()
			for i := range n {
				at := base.Add(time.Duration(offs[i]) * time.Millisecond)
				h, err := l.CallAt(at, func() {
					got = append(got, i)
					if now := l.Now(); now.Before(hs[i].When()) {
						errs = append(errs, fmt.Sprintf("timer %d fired at %v, before its deadline %v", i, now, hs[i].When()))
					}
					for _, c := range targets[i] {
						hs[c].Cancel()
					}
				})
				if err != nil {
					errs = append(errs, err.Error())
				}
				if !h.When().Equal(at) {
					errs = append(errs, fmt.Sprintf("timer %d: When() = %v, want %v", i, h.When(), at))
				}
				hs[i] = h
			}
			for i := range n {
				switch kind[i] {
				case cancelOnLoop:
					hs[i].Cancel()
				case cancelFromGoroutine:
					// The cancel is in the door before this callback
					// returns, so the next iteration receives it before
					// it moves any timer to the ready queue.
					lpOffLoop(hs[i].Cancel)
				}
			}
			// After every timer of the program, in deadline order.
			l.CallAt(base.Add(4*time.Millisecond), func() {
				finished = true
			})
		})
		lpRun(t, l, func() error { return l.RunUntil(func() bool { return finished }) })
		if len(errs) > 0 {
			t.Fatal(strings.Join(errs, "\n"))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("fired %v, want %v (offsets %v, kinds %v, cancellers %v)", got, want, offs, kind, canceller)
		}
	})
}

// TestPropDoorSubmissions: producers (1..8 goroutines) submit callbacks
// with CallSoon while the loop is busy (a callback reschedules itself every
// iteration) or parked. Some submissions are cancelled by their producer
// right after CallSoon, which may or may not beat the callback to the loop.
// Every callback not cancelled runs exactly once, a cancelled one at most
// once, and each producer's callbacks run in the order it submitted them.
func TestPropDoorSubmissions(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		producers := rapid.IntRange(1, 8).Draw(t, "producers")
		busy := rapid.Bool().Draw(t, "busy")
		items := make([][]bool, producers) // items[p][i]: cancel item i of producer p
		for p := range producers {
			items[p] = rapid.SliceOfN(rapid.Map(rapid.IntRange(0, 9), func(v int) bool { return v == 0 }), 0, 40).Draw(t, fmt.Sprintf("items%d", p))
		}

		l := lpLoop(t)
		seen := make([][]int, producers)
		finished := false
		var spin func()
		spin = func() {
			if !finished {
				l.CallSoon(spin)
			}
		}
		start := make(chan struct{})
		l.CallSoon(func() {
			if busy {
				spin()
			}
			close(start)
		})
		errc := make(chan error, producers+1)
		go func() {
			<-start
			var wg sync.WaitGroup
			for p := range producers {
				wg.Go(func() {
					for i, cancel := range items[p] {
						h, err := l.CallSoon(func() { seen[p] = append(seen[p], i) })
						if err != nil {
							errc <- err
							return
						}
						if cancel {
							h.Cancel()
						}
					}
				})
			}
			wg.Wait()
			// Every submission and cancel above is in the door before this
			// one, so this runs after all of them.
			if _, err := l.CallSoon(func() { finished = true }); err != nil {
				errc <- err
			}
		}()
		lpRun(t, l, func() error { return l.RunUntil(func() bool { return finished }) })
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		for p := range producers {
			s := seen[p]
			for k := 1; k < len(s); k++ {
				if s[k] <= s[k-1] {
					t.Fatalf("producer %d: callbacks ran in order %v", p, s)
				}
			}
			var want []int
			for i, cancel := range items[p] {
				if !cancel {
					want = append(want, i)
				}
			}
			// s is increasing; it must contain every item not cancelled.
			for _, i := range want {
				if _, ok := slices.BinarySearch(s, i); !ok {
					t.Fatalf("producer %d: callback %d (not cancelled) did not run; ran %v", p, i, s)
				}
			}
		}
	})
}

// TestPropOneThread: a random mix of callbacks (soon and timers from loop
// code, soon and timers from other goroutines, callbacks that schedule
// more, readiness callbacks) all run on one OS thread, the loop's own, not
// the thread of the goroutine that called RunUntil.
func TestPropOneThread(t *testing.T) {
	if _, err := lpTid(); err != nil {
		t.Skipf("cannot read the thread id: %v", err)
	}
	const (
		soon = iota
		later
		doorSoon
		doorLater
		nested
		ioAct
	)
	rapid.Check(t, func(t *rapid.T) {
		acts := rapid.SliceOfN(rapid.IntRange(soon, ioAct), 1, 40).Draw(t, "actions")
		delays := rapid.SliceOfN(rapid.IntRange(0, 2000), len(acts), len(acts)).Draw(t, "delays_us")

		var p [2]int
		if err := syscall.Pipe(p[:]); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Close(p[0]); syscall.Close(p[1]) })
		syscall.SetNonblock(p[0], true)

		l := lpLoop(t)
		var tids []int
		record := func() {
			tid, err := lpTid()
			if err != nil {
				tid = -1
			}
			tids = append(tids, tid)
		}
		want := 0
		var doorActs []func()
		setup := func() {
			err := l.AddReader(p[0], func() {
				var b [1]byte
				if n, _ := syscall.Read(p[0], b[:]); n == 1 {
					record()
				}
			})
			if err != nil {
				tids = append(tids, -2)
			}
			for i, a := range acts {
				d := time.Duration(delays[i]) * time.Microsecond
				switch a {
				case soon:
					l.CallSoon(record)
				case later:
					l.CallLater(d, record)
				case doorSoon:
					doorActs = append(doorActs, func() { l.CallSoon(record) })
				case doorLater:
					doorActs = append(doorActs, func() { l.CallLater(d, record) })
				case nested:
					l.CallSoon(func() { record(); l.CallSoon(record) })
				case ioAct:
					syscall.Write(p[1], []byte{1})
				}
			}
			go func() {
				for _, f := range doorActs {
					f()
				}
			}()
		}
		for _, a := range acts {
			want++
			if a == nested {
				want++
			}
		}
		var caller int
		lpRun(t, l, func() error {
			// Pin first, so that the thread read here is the caller's.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var err error
			if caller, err = lpTid(); err != nil {
				return err
			}
			l.CallSoon(setup)
			return l.RunUntil(func() bool { return len(tids) >= want })
		})
		for i, tid := range tids {
			if tid != tids[0] || tid == caller {
				t.Fatalf("callback %d ran on thread %d; the first on %d, RunUntil's caller on %d (actions %v)", i, tid, tids[0], caller, acts)
			}
		}
	})
}

// tpGettid returns the calling thread's id, or 0 where it cannot be read
// (the caller skips first when lpTid fails).
func tpGettid() int {
	id, _ := lpTid()
	return id
}
