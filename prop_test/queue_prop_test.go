package prop_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/queue"
	"pgregory.net/rapid"
)

// Property tests of package aio/queue: a rapid state machine per order
// (FIFO, LIFO, priority with duplicate priorities), bounded and unbounded.
// The main task of a loop drives a real Queue with random operations, one
// at a time or several in one loop step (a burst): Put, Get and Join in
// tasks of their own (started at the next iteration or eagerly, bare or
// under an aio.WithTimeout of zero or of an hour), TryPut, TryGet,
// TaskDone, Shutdown in both modes, and cancellations of the tasks that
// wait (Task.Cancel, Scope.Cancel, or moving a WithTimeout's deadline to
// now), also of tasks that a wake picked before they ran. After each step
// the loop runs what became ready, and the queue, every task's outcome and
// the ledger of values are compared with a model.
//
// The model is the queue's contents (a slice in the order of the puts),
// FIFO lists of the tasks waiting in Get, Put and Join, the claims of the
// tasks that a wake picked and that have not run (one item or free slot
// each), and the loop's ready queue: the tasks whose step is due, in
// order. It knows the protocol of the seam (a cancelled task that was
// picked passes its wake to the next waiter) and of the queue (a newcomer
// takes only what is not claimed; a woken task looks again and waits again,
// at the end, if it finds nothing), and nothing else. Helpers start with
// "pq".

// TestPropQueueFIFO checks the state machine on FIFO queues.
func TestPropQueueFIFO(t *testing.T) { rapid.Check(t, pqCheck("fifo")) }

// TestPropQueueLIFO checks the state machine on LIFO queues.
func TestPropQueueLIFO(t *testing.T) { rapid.Check(t, pqCheck("lifo")) }

// TestPropQueuePriority checks the state machine on priority queues whose
// items have three distinct priorities, so that the order among equal ones
// (that of their puts) is exercised.
func TestPropQueuePriority(t *testing.T) { rapid.Check(t, pqCheck("priority")) }

// pqItem is a value: key is its priority (used by priority queues only),
// id is unique to it, for the ledger.
type pqItem struct{ key, id int }

func pqByKey(a, b pqItem) int { return cmp.Compare(a.key, b.key) }

// The kinds of task.
const (
	pqGet = iota
	pqPut
	pqJoin
)

var pqKindName = [...]string{"Get", "Put", "Join"}

// The model's states of a task.
const (
	pqStarting  = iota // its first step is in the ready queue
	pqWaiting          // in its wait list
	pqPicked           // taken off its list by a wake; its step is in the ready queue
	pqCancelled        // cancelled while waiting: off its list; its step is in the ready queue
	pqEnded
)

// pqTask is a task that uses the queue, as it really runs.
type pqTask struct {
	kind  int
	task  *aio.Task[int]
	scope *aio.Scope // the WithTimeout around the call, if any, once it runs
	v     pqItem     // Put: its value; Get: the value got
	err   error      // the queue method's own error
	done  bool
}

// pqWant is the outcome the model decided for a task.
type pqWant struct {
	err  error // nil, a queue sentinel, or context.Canceled
	v    pqItem
	hasV bool // a Get that returns a value
}

// pqTaskModel is a task as the model sees it.
type pqTaskModel struct {
	kind      int
	state     int
	cancelled bool          // a picked task's cancellation is pending
	timeout   time.Duration // -1: none; 0: expired at once
	value     pqItem        // Put: its value
	gen       uint64        // Join: m.finishes when it parked
	want      pqWant
}

// pqModel is the queue as it should be.
type pqModel struct {
	order      string
	max        int // 0: unbounded
	items      []pqItem
	lists      [3][]int // waiting tasks, in order, by kind
	claims     [3]int   // picked tasks that have not run, by kind
	tasks      []*pqTaskModel
	ready      []int // tasks whose step is due, in order
	unfinished int
	finishes   uint64
	shut       bool
	put        []pqItem // every value put, for the ledger
}

// next returns the index in items of the item Get takes next.
func (m *pqModel) next() int {
	switch m.order {
	case "fifo":
		return 0
	case "lifo":
		return len(m.items) - 1
	}
	best := 0
	for i, it := range m.items {
		if it.key < m.items[best].key { // strict: the earliest among equals
			best = i
		}
	}
	return best
}

func (m *pqModel) available() bool { return len(m.items) > m.claims[pqGet] }

func (m *pqModel) hasRoom() bool { return m.max == 0 || m.max-len(m.items) > m.claims[pqPut] }

// wakeOne is WaitQueue.WakeOne on the list of kind.
func (m *pqModel) wakeOne(kind int) {
	l := m.lists[kind]
	if len(l) == 0 {
		return
	}
	k := l[0]
	m.lists[kind] = l[1:]
	m.tasks[k].state = pqPicked
	m.claims[kind]++
	m.ready = append(m.ready, k)
}

func (m *pqModel) wakeAll(kind int) {
	for len(m.lists[kind]) > 0 {
		m.wakeOne(kind)
	}
}

func (m *pqModel) park(k int) {
	t := m.tasks[k]
	t.state = pqWaiting
	if t.kind == pqJoin {
		t.gen = m.finishes
	}
	m.lists[t.kind] = append(m.lists[t.kind], k)
}

func (m *pqModel) decide(k int, w pqWant) {
	m.tasks[k].state = pqEnded
	m.tasks[k].want = w
}

// add is the queue's add: v goes in, and a getter is woken for it.
func (m *pqModel) add(v pqItem) {
	m.items = append(m.items, v)
	m.put = append(m.put, v)
	m.unfinished++
	if len(m.lists[pqGet]) > 0 && m.available() {
		m.wakeOne(pqGet)
	}
}

// take is the queue's take: the next item comes out, a putter is woken
// for its slot, and on a shut-down queue left empty every getter.
func (m *pqModel) take() pqItem {
	i := m.next()
	v := m.items[i]
	m.items = slices.Delete(m.items, i, i+1)
	if len(m.lists[pqPut]) > 0 && m.hasRoom() {
		m.wakeOne(pqPut)
	}
	if m.shut && len(m.items) == 0 {
		m.wakeAll(pqGet)
	}
	return v
}

func (m *pqModel) finish() {
	m.finishes++
	m.wakeAll(pqJoin)
}

// tryPut is TryPut: the error it returns.
func (m *pqModel) tryPut(v pqItem) error {
	switch {
	case m.shut:
		return queue.ErrShutdown
	case !m.hasRoom():
		return queue.ErrFull
	}
	m.add(v)
	return nil
}

// tryGet is TryGet.
func (m *pqModel) tryGet() (pqItem, error) {
	switch {
	case m.available():
		return m.take(), nil
	case m.shut && len(m.items) == 0:
		return pqItem{}, queue.ErrShutdown
	}
	return pqItem{}, queue.ErrEmpty
}

// look is what task k does when it looks at the queue, at its first step
// or after a wake: it ends or it waits (again, at the end of its list).
func (m *pqModel) look(k int, woken bool) {
	t := m.tasks[k]
	switch t.kind {
	case pqGet:
		switch {
		case m.available():
			m.decide(k, pqWant{v: m.take(), hasV: true})
		case m.shut && len(m.items) == 0:
			m.decide(k, pqWant{err: queue.ErrShutdown})
		case t.timeout == 0:
			m.decide(k, pqWant{err: context.Canceled})
		default:
			m.park(k)
		}
	case pqPut:
		switch {
		case m.shut:
			m.decide(k, pqWant{err: queue.ErrShutdown})
		case m.hasRoom():
			m.add(t.value)
			m.decide(k, pqWant{})
		case t.timeout == 0:
			m.decide(k, pqWant{err: context.Canceled})
		default:
			m.park(k)
		}
	default:
		switch {
		case woken && m.finishes != t.gen, m.unfinished == 0:
			m.decide(k, pqWant{})
		default:
			m.park(k)
		}
	}
}

// cancel is a cancellation of task k, waiting or picked, in this step.
func (m *pqModel) cancel(k int) {
	t := m.tasks[k]
	switch t.state {
	case pqWaiting: // leaves its list at once, and its step is queued
		m.lists[t.kind] = slices.DeleteFunc(m.lists[t.kind], func(x int) bool { return x == k })
		t.state = pqCancelled
		m.ready = append(m.ready, k)
	case pqPicked: // its step is queued already
		t.cancelled = true
	}
}

// run runs the ready queue as the loop does, until it is empty, and
// returns how many loop iterations that takes.
func (m *pqModel) run() int {
	iterations := 0
	for len(m.ready) > 0 {
		iterations++
		batch := m.ready
		m.ready = nil
		for _, k := range batch {
			t := m.tasks[k]
			switch t.state {
			case pqStarting:
				m.look(k, false)
			case pqCancelled:
				m.decide(k, pqWant{err: context.Canceled})
			case pqPicked:
				m.claims[t.kind]--
				if t.cancelled {
					m.decide(k, pqWant{err: context.Canceled})
					m.wakeOne(t.kind) // the seam passes the wake on
				} else {
					m.look(k, true)
				}
			}
		}
	}
	return iterations
}

// shutdown is Shutdown(immediate); it returns what the model drops.
func (m *pqModel) shutdown(immediate bool) []pqItem {
	m.shut = true
	var dropped []pqItem
	if immediate && len(m.items) > 0 {
		for len(m.items) > 0 {
			i := m.next()
			dropped = append(dropped, m.items[i])
			m.items = slices.Delete(m.items, i, i+1)
		}
		m.unfinished = max(m.unfinished-len(dropped), 0)
		if m.unfinished == 0 {
			m.finish()
		}
	}
	m.wakeAll(pqPut)
	if len(m.items) == 0 {
		m.wakeAll(pqGet)
	}
	return dropped
}

// pqRig is one run of the state machine. rapid runs on the test goroutine,
// where every draw, the model and the checks live; the real queue lives on
// a loop whose main task runs on a goroutine of its own and does, for each
// step, the batch of operations the test goroutine sends it, then lets the
// loop run and answers. The two take turns through channels, so the test
// goroutine reads what the tasks recorded only while the loop waits. (rapid
// stops a test by panicking, in a draw or a failed check; a panic inside a
// task would become the task's error and hide from rapid what it was.)
type pqRig struct {
	q       *queue.Queue[pqItem]
	m       *pqModel
	tasks   []*pqTask
	nextID  int
	batch   []func(c *aio.Ctx) // the real operations of this step, in order
	fails   []string           // mismatches the operations found, on the loop
	qlen    int                // q.Len() after the step, read on the loop
	tryGot  []pqItem           // what TryGet returned
	dropped []pqItem           // what Shutdown returned
	steps   chan pqStep
	replies chan struct{}
	ended   chan error
}

// pqStep is what the test goroutine sends the loop: operations to do in
// one loop step, and how many iterations to let the loop run after.
type pqStep struct {
	ops    []func(c *aio.Ctx)
	yields int
}

func (r *pqRig) failf(format string, args ...any) {
	r.fails = append(r.fails, fmt.Sprintf(format, args...))
}

// start runs the loop on a goroutine of its own, serving steps until stop.
func (r *pqRig) start() {
	r.steps, r.replies, r.ended = make(chan pqStep), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := aio.Run(func(c *aio.Ctx) (int, error) {
			for st := range r.steps {
				for _, op := range st.ops {
					op(c)
				}
				for range st.yields {
					aio.Yield(c)
				}
				r.qlen = r.q.Len()
				r.replies <- struct{}{}
			}
			return 0, nil
		})
		r.ended <- err
	}()
}

// stop ends the loop's main task; Run then cancels the tasks still
// waiting, and closes the loop.
func (r *pqRig) stop(rt *rapid.T) {
	close(r.steps)
	select {
	case err := <-r.ended:
		if err != nil {
			rt.Errorf("aio.Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		rt.Errorf("the loop did not end within 10 s")
	}
}

// exec sends the operations gathered since the last step to the loop, lets
// it run as many iterations as the model's ready queue needs, and a few
// more, and reports the mismatches the operations found.
func (r *pqRig) exec(rt *rapid.T) {
	st := pqStep{ops: r.batch, yields: r.m.run() + 3}
	r.batch = nil
	select {
	case r.steps <- st:
	case <-time.After(10 * time.Second):
		rt.Fatalf("the loop did not take the step")
	}
	select {
	case <-r.replies:
	case <-time.After(10 * time.Second):
		rt.Fatalf("the loop did not finish the step within 10 s")
	}
	if len(r.fails) > 0 {
		rt.Fatalf("%s", strings.Join(r.fails, "; "))
	}
}

func (r *pqRig) newItem(rt *rapid.T) pqItem {
	r.nextID++
	return pqItem{key: rapid.IntRange(0, 2).Draw(rt, "key"), id: r.nextID}
}

// spawn starts a task of kind (with v, for a Put), under a WithTimeout of
// d if d >= 0, eagerly or not.
func (r *pqRig) spawn(kind int, v pqItem, d time.Duration, eager bool) {
	k := len(r.tasks)
	tk := &pqTask{kind: kind, v: v}
	r.tasks = append(r.tasks, tk)
	r.m.tasks = append(r.m.tasks, &pqTaskModel{kind: kind, timeout: d, value: v})
	call := func(c *aio.Ctx) error {
		switch kind {
		case pqGet:
			tk.v, tk.err = r.q.Get(c)
		case pqPut:
			tk.err = r.q.Put(c, v)
		default:
			tk.err = r.q.Join(c)
		}
		return tk.err
	}
	body := func(c *aio.Ctx) (int, error) {
		if d < 0 {
			call(c)
		} else {
			aio.WithTimeout(c, d, func(c *aio.Ctx) error {
				tk.scope = c.Scope()
				return call(c)
			})
		}
		tk.done = true
		return 0, nil
	}
	if eager {
		r.batch = append(r.batch, func(c *aio.Ctx) { tk.task, _ = aio.Spawn(c, body, aio.WithEagerStart()) })
		r.m.look(k, false)
	} else {
		r.batch = append(r.batch, func(c *aio.Ctx) { tk.task, _ = aio.Spawn(c, body) })
		r.m.ready = append(r.m.ready, k)
	}
}

// cancellable returns the tasks a cancellation may aim at: waiting, or
// picked and not cancelled yet.
func (r *pqRig) cancellable() []int {
	var ks []int
	for k, t := range r.m.tasks {
		if t.state == pqWaiting || t.state == pqPicked && !t.cancelled {
			ks = append(ks, k)
		}
	}
	return ks
}

// op draws one operation, applies it to the model and adds it to the
// batch of the step.
func (r *pqRig) op(rt *rapid.T) {
	m, q := r.m, r.q
	switch rapid.IntRange(0, 7).Draw(rt, "op") {
	case 0, 1: // a task that Gets or Puts
		kind := rapid.SampledFrom([]int{pqGet, pqPut}).Draw(rt, "kind")
		d := rapid.SampledFrom([]time.Duration{-1, 0, time.Hour}).Draw(rt, "timeout")
		var v pqItem
		if kind == pqPut {
			v = r.newItem(rt)
		}
		r.spawn(kind, v, d, rapid.Bool().Draw(rt, "eager"))
	case 2:
		r.spawn(pqJoin, pqItem{}, -1, rapid.Bool().Draw(rt, "eager"))
	case 3:
		v := r.newItem(rt)
		want := m.tryPut(v)
		r.batch = append(r.batch, func(*aio.Ctx) {
			if err := q.TryPut(v); err != want {
				r.failf("TryPut(%v) = %v, want %v", v, err, want)
			}
		})
	case 4:
		want, werr := m.tryGet()
		r.batch = append(r.batch, func(*aio.Ctx) {
			got, err := q.TryGet()
			if err != werr || got != want {
				r.failf("TryGet = %v, %v; want %v, %v", got, err, want, werr)
			}
			if err == nil {
				r.tryGot = append(r.tryGot, got)
			}
		})
	case 5:
		var want error
		if m.unfinished == 0 {
			want = queue.ErrTooManyDone
		} else if m.unfinished--; m.unfinished == 0 {
			m.finish()
		}
		r.batch = append(r.batch, func(*aio.Ctx) {
			if err := q.TaskDone(); err != want {
				r.failf("TaskDone = %v, want %v", err, want)
			}
		})
	case 6:
		ks := r.cancellable()
		if len(ks) == 0 {
			return
		}
		k := rapid.SampledFrom(ks).Draw(rt, "cancel")
		tk := r.tasks[k]
		if tk.scope != nil && rapid.Bool().Draw(rt, "viaScope") {
			r.batch = append(r.batch, func(*aio.Ctx) { tk.scope.Cancel(nil) })
		} else {
			r.batch = append(r.batch, func(*aio.Ctx) { tk.task.Cancel(nil) })
		}
		m.cancel(k)
	case 7:
		if !rapid.Bool().Draw(rt, "shutdown") { // rarer than the others
			return
		}
		r.shutdown(rapid.Bool().Draw(rt, "immediate"))
	}
}

// shutdown adds a Shutdown(immediate) to the step.
func (r *pqRig) shutdown(immediate bool) {
	want := r.m.shutdown(immediate)
	r.batch = append(r.batch, func(*aio.Ctx) {
		got := r.q.Shutdown(immediate)
		if !slices.Equal(got, want) {
			r.failf("Shutdown(%v) dropped %v, want %v", immediate, got, want)
		}
		r.dropped = append(r.dropped, got...)
	})
}

// check compares the queue's length, every task and the ledger with the
// model, after a step.
func (r *pqRig) check(rt *rapid.T) {
	if r.qlen != len(r.m.items) {
		rt.Fatalf("Len = %d, want %d (%v)", r.qlen, len(r.m.items), r.m.items)
	}
	for k, tk := range r.tasks {
		t := r.m.tasks[k]
		w := t.want
		name := pqKindName[tk.kind]
		switch {
		case t.state != pqEnded && tk.done:
			rt.Fatalf("task %d (%s) ended (%v, %v) while the model has it in state %d", k, name, tk.v, tk.err, t.state)
		case t.state == pqEnded && !tk.done:
			rt.Fatalf("task %d (%s) still waits; the model says it ended with %v, %v", k, name, w.v, w.err)
		case t.state != pqEnded:
		case w.err == nil && tk.err != nil, w.err != nil && !errors.Is(tk.err, w.err):
			rt.Fatalf("task %d (%s): error %v, want %v", k, name, tk.err, w.err)
		case w.hasV && tk.v != w.v:
			rt.Fatalf("task %d (%s): got %v, want %v", k, name, tk.v, w.v)
		}
	}
	r.checkLedger(rt)
}

// checkLedger checks conservation: every value put (by a Put task or
// TryPut) was got exactly once (by a Get task or TryGet), or is still in
// the queue, or was dropped by an immediate Shutdown and returned by it;
// and nothing was got that was not put. What was got and dropped is what
// the real queue returned; what is still in it is the model's contents,
// which check holds to the real queue's Len and to the values it gives
// out, and which the final Shutdown drops and compares.
func (r *pqRig) checkLedger(rt *rapid.T) {
	put := map[int]int{}
	for _, v := range r.m.put {
		put[v.id]++
	}
	seen := map[int]int{}
	for _, tk := range r.tasks {
		if tk.kind == pqGet && tk.done && tk.err == nil {
			seen[tk.v.id]++
		}
	}
	for _, s := range [][]pqItem{r.tryGot, r.dropped, r.m.items} {
		for _, v := range s {
			seen[v.id]++
		}
	}
	for id, n := range put {
		if n != 1 || seen[id] != 1 {
			rt.Fatalf("value %d: put %d times, accounted for %d times", id, n, seen[id])
		}
	}
	for id := range seen {
		if put[id] == 0 {
			rt.Fatalf("value %d was got but never put", id)
		}
	}
}

func pqCheck(order string) func(*rapid.T) {
	return func(rt *rapid.T) {
		maxItems := rapid.SampledFrom([]int{0, 1, 2, 3}).Draw(rt, "max")
		r := &pqRig{m: &pqModel{order: order, max: maxItems}}
		switch order {
		case "fifo":
			r.q = queue.NewFIFO[pqItem](maxItems)
		case "lifo":
			r.q = queue.NewLIFO[pqItem](maxItems)
		default:
			r.q, _ = queue.NewPriority(maxItems, pqByKey)
		}
		r.start()
		defer r.stop(rt)
		rt.Repeat(map[string]func(*rapid.T){
			"Op": func(rt *rapid.T) {
				r.op(rt)
				r.exec(rt)
			},
			"Burst": func(rt *rapid.T) { // several in one loop step
				for range rapid.IntRange(2, 6).Draw(rt, "ops") {
					r.op(rt)
				}
				r.exec(rt)
			},
			// A WithTimeout's deadline moved to now: the expiry comes from
			// the timers of a later iteration, so nothing else may be in
			// flight.
			"Expire": func(rt *rapid.T) {
				var ks []int
				for _, k := range r.cancellable() {
					if r.tasks[k].scope != nil && r.m.tasks[k].state == pqWaiting {
						ks = append(ks, k)
					}
				}
				if len(ks) == 0 {
					rt.Skip("no task waits under a timeout")
				}
				k := rapid.SampledFrom(ks).Draw(rt, "expire")
				s := r.tasks[k].scope
				r.batch = append(r.batch, func(*aio.Ctx) { s.SetTimeout(0) })
				r.m.cancel(k)
				r.exec(rt)
			},
			// The last TaskDone wakes the joiners; an item is put again, a
			// new task Joins, and a woken joiner is cancelled before it
			// runs: the seam passes its wake to the new joiner, which must
			// not return while the item is unfinished. (A burst can do
			// this too, but seldom.)
			"FinishAndRejoin": func(rt *rapid.T) {
				m := r.m
				if len(m.lists[pqJoin]) == 0 || m.unfinished == 0 || m.shut || !m.hasRoom() {
					rt.Skip("needs joiners, unfinished items and room")
				}
				for m.unfinished > 0 {
					m.unfinished--
					r.batch = append(r.batch, func(*aio.Ctx) {
						if err := r.q.TaskDone(); err != nil {
							r.failf("TaskDone = %v", err)
						}
					})
				}
				m.finish()
				var woken []int
				for _, k := range r.cancellable() {
					if m.tasks[k].kind == pqJoin {
						woken = append(woken, k)
					}
				}
				v := r.newItem(rt)
				want := m.tryPut(v)
				r.batch = append(r.batch, func(*aio.Ctx) {
					if err := r.q.TryPut(v); err != want {
						r.failf("TryPut(%v) = %v, want %v", v, err, want)
					}
				})
				r.spawn(pqJoin, pqItem{}, -1, true)
				k := rapid.SampledFrom(woken).Draw(rt, "cancel")
				tk := r.tasks[k]
				r.batch = append(r.batch, func(*aio.Ctx) { tk.task.Cancel(nil) })
				m.cancel(k)
				r.exec(rt)
			},
			"": r.check,
		})

		// The end: an immediate shutdown releases every getter and putter,
		// and the items left are dropped and returned; the joiners still
		// waiting are cancelled (nothing will mark their items done).
		r.shutdown(true)
		for _, k := range slices.Clone(r.m.lists[pqJoin]) {
			tk := r.tasks[k]
			r.batch = append(r.batch, func(*aio.Ctx) { tk.task.Cancel(nil) })
			r.m.cancel(k)
		}
		r.exec(rt)
		r.check(rt)
		for k, tk := range r.tasks {
			if !tk.done {
				rt.Fatalf("task %d (%s) never ended", k, pqKindName[tk.kind])
			}
		}
	}
}
