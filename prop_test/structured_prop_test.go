package prop_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"pgregory.net/rapid"
)

// A property test of structured concurrency against a model: random trees
// of task groups, timeouts, cancel scopes and shields, whose leaves sleep
// and then succeed, fail or panic, under an outside cancellation of the
// root task at a random time, run on a virtual clock (time moves only when
// every task waits, so the run is deterministic). Every timed event has its
// own instant; what an event sets off happens in that instant.
//
// The model states the rules of cancellation as outcomes:
//   - a cancellation request (of a task, by its group or from outside; of a
//     scope, by its deadline or its Cancel) is delivered at the first
//     suspension point inside its target that no shield inside the target
//     keeps it from; a leaf's sleep ends with the first one, a group's waits
//     take every one;
//   - a cancellation goes out through the scopes inside its target and is
//     absorbed by the target (a timeout returns ErrTimeout, a scope nil),
//     unless a request aimed further out was delivered too: the outermost
//     one goes on; a task-level one ends the task cancelled;
//   - a group's first failing task, or an outside cancellation, cancels its
//     tasks; the group ends when all have ended and returns the outside
//     cancellation if one reached it, else the failures joined.

type nodeKind int

const (
	leafNode nodeKind = iota
	groupNode
	timeoutNode
	scopeNode
	shieldNode
)

type leafEnd int

const (
	leafOK leafEnd = iota
	leafFails
	leafPanics
)

// treeNode is a node of a random tree. A group's kids are the bodies of
// its tasks; a wrapper (timeout, scope, shield) runs its child inline.
type treeNode struct {
	kind  nodeKind
	id    int
	at    int // ms: a leaf's sleep, a group body's sleep (0: none), a timeout, a scope's Cancel
	end   leafEnd
	kids  []*treeNode
	child *treeNode
}

func (n *treeNode) String() string {
	switch n.kind {
	case leafNode:
		return fmt.Sprintf("leaf%d(%dms,%s)", n.id, n.at, [...]string{"ok", "fail", "panic"}[n.end])
	case groupNode:
		kids := make([]string, len(n.kids))
		for i, k := range n.kids {
			kids[i] = k.String()
		}
		return fmt.Sprintf("group%d(body %dms; %s)", n.id, n.at, strings.Join(kids, ", "))
	case timeoutNode:
		return fmt.Sprintf("timeout%d(%dms, %v)", n.id, n.at, n.child)
	case scopeNode:
		return fmt.Sprintf("scope%d(cancel %dms, %v)", n.id, n.at, n.child)
	}
	return fmt.Sprintf("shield%d(%v)", n.id, n.child)
}

// genTree draws a tree; times are placeholders, numbered in slots.
func genTree(t *rapid.T, depth int, ids *int, slots *[]*treeNode) *treeNode {
	*ids++
	n := &treeNode{id: *ids}
	kinds := []nodeKind{leafNode, leafNode, groupNode, timeoutNode, scopeNode, shieldNode}
	if depth == 0 {
		kinds = kinds[:1]
	}
	n.kind = rapid.SampledFrom(kinds).Draw(t, "kind")
	switch n.kind {
	case leafNode:
		n.end = leafEnd(rapid.IntRange(0, 2).Draw(t, "end"))
		*slots = append(*slots, n)
	case groupNode:
		if rapid.Bool().Draw(t, "body sleeps") {
			*slots = append(*slots, n)
		}
		for range rapid.IntRange(0, 3).Draw(t, "tasks") {
			n.kids = append(n.kids, genTree(t, depth-1, ids, slots))
		}
	case timeoutNode, scopeNode:
		*slots = append(*slots, n)
		n.child = genTree(t, depth-1, ids, slots)
	case shieldNode:
		n.child = genTree(t, depth-1, ids, slots)
	}
	return n
}

// outcome classes of an error.
const (
	okClass       = "nil"
	canceledClass = "canceled"
	timeoutClass  = "timeout"
	failedClass   = "failed"
)

func classOf(err error) string {
	var te *aio.TaskError
	switch {
	case errors.As(err, &te):
		return failedClass // a group's failures, whatever they are
	case err == nil:
		return okClass
	case errors.Is(err, aio.ErrTimeout) && !errors.Is(err, context.Canceled):
		return timeoutClass
	case errors.Is(err, context.Canceled) && !errors.Is(err, aio.ErrTimeout):
		return canceledClass
	case !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		return failedClass
	}
	return "ambiguous: " + err.Error()
}

type leafErr struct{ id int }

func (e leafErr) Error() string { return fmt.Sprintf("leaf %d failed", e.id) }

type leafPanic struct{ id int }

// failedLeaves returns the leaves whose failure or panic err holds.
func failedLeaves(err error) []int {
	var ids []int
	var walk func(error)
	walk = func(err error) {
		var pe *aio.PanicError
		var le leafErr
		switch {
		case err == nil:
		case errors.As(err, &pe) && pe == err:
			if lp, ok := pe.Value.(leafPanic); ok {
				ids = append(ids, lp.id)
			}
		case errors.As(err, &le) && error(le) == err:
			ids = append(ids, le.id)
		default:
			switch u := err.(type) {
			case interface{ Unwrap() []error }:
				for _, e := range u.Unwrap() {
					walk(e)
				}
			case interface{ Unwrap() error }:
				walk(u.Unwrap())
			}
		}
	}
	walk(err)
	slices.Sort(ids)
	return ids
}

// observed is what one node did, in the run or in the model.
type observed struct {
	Finished bool   // a leaf slept to the end
	Class    string // the error a node returned, as a class
	Leaves   []int  // the leaves whose errors it holds
	Expired  bool   // a timeout's deadline passed while it was open
}

// runTree runs n inline in the task of c and records what each node did.
func runTree(c *aio.Ctx, n *treeNode, got map[int]observed) error {
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	var err error
	o := observed{}
	switch n.kind {
	case leafNode:
		if err = aio.Sleep(c, ms(n.at)); err == nil {
			o.Finished = true
			switch n.end {
			case leafFails:
				err = leafErr{n.id}
			case leafPanics:
				got[n.id] = observed{Finished: true, Class: failedClass, Leaves: []int{n.id}}
				panic(leafPanic{n.id})
			}
		}
	case groupNode:
		err = aio.WithGroup(c, func(g *aio.Group) error {
			for _, k := range n.kids {
				if err := g.Go(func(c *aio.Ctx) error { return runTree(c, k, got) }); err != nil {
					return err
				}
			}
			if n.at > 0 {
				return aio.Sleep(c, ms(n.at))
			}
			return nil
		})
	case timeoutNode:
		var s *aio.Scope
		err = aio.WithTimeout(c, ms(n.at), func(c *aio.Ctx) error {
			s = c.Scope()
			return runTree(c, n.child, got)
		})
		o.Expired = s.Expired()
	case scopeNode:
		err = aio.WithScope(c, func(s *aio.Scope) error {
			c.Loop().CallLater(ms(n.at), func() { s.Cancel(nil) })
			return runTree(c, n.child, got)
		})
	case shieldNode:
		err = aio.Shielded(c, func(c *aio.Ctx) error { return runTree(c, n.child, got) })
	}
	o.Class, o.Leaves = classOf(err), failedLeaves(err)
	got[n.id] = o
	return err
}

const never = math.MaxInt

// request is a cancellation request as the model sees it: its level in a
// task's chain of wrappers (0: the task itself, i: the i-th wrapper from
// the outside) and when it arrives.
type request struct{ level, at int }

// modelResult is what the model says a chain or a group ends with.
type modelResult struct {
	class  string
	leaves []int
}

// model computes what each node does, and the number of task failures a
// group drops because a cancellation from outside goes on in their place.
type model struct {
	want    map[int]observed
	dropped map[int]int // by group
}

// chain evaluates the task body n (wrappers, then a leaf or a group) in a
// task that is cancelled at taskCancel; it returns when the body ends, what
// it returns, and writes the nodes' outcomes into m.want.
func (m *model) chain(n *treeNode, taskCancel int) (int, modelResult) {
	var wraps []*treeNode
	x := n
	for x.kind != leafNode && x.kind != groupNode {
		wraps = append(wraps, x)
		x = x.child
	}
	// The requests that can reach x: no shield inside their target.
	var reqs []request
	shielded := false
	for i := len(wraps) - 1; i >= 0; i-- {
		w := wraps[i]
		if w.kind == shieldNode {
			shielded = true
		} else if !shielded {
			reqs = append(reqs, request{i + 1, w.at})
		}
	}
	if !shielded && taskCancel != never {
		reqs = append(reqs, request{0, taskCancel})
	}
	first := request{-1, never}
	for _, r := range reqs {
		if r.at < first.at {
			first = r
		}
	}
	var end int
	var res modelResult
	var delivered []request
	if x.kind == leafNode {
		if first.at < x.at {
			end, res = first.at, modelResult{class: canceledClass}
			delivered = []request{first}
			m.want[x.id] = observed{Class: canceledClass}
		} else {
			end = x.at
			switch x.end {
			case leafOK:
				res = modelResult{class: okClass}
			default:
				res = modelResult{class: failedClass, leaves: []int{x.id}}
			}
			m.want[x.id] = observed{Finished: true, Class: res.class, Leaves: res.leaves}
		}
	} else {
		end, res, delivered = m.group(x, reqs, first)
	}
	// Out through the wrappers: the outermost delivered request decides.
	outermost := -1
	for _, r := range delivered {
		if outermost < 0 || r.level < outermost {
			outermost = r.level
		}
	}
	cur := res
	for i := len(wraps); i >= 1; i-- {
		w := wraps[i-1]
		switch {
		case w.kind == shieldNode || outermost < 0 || outermost > i:
			// passes what comes from inside
		case outermost < i:
			cur = modelResult{class: canceledClass}
		case w.kind == timeoutNode:
			cur = modelResult{class: timeoutClass}
		default:
			cur = modelResult{class: okClass}
		}
		o := observed{Class: cur.class, Leaves: cur.leaves}
		if w.kind == timeoutNode {
			o.Expired = w.at <= end
		}
		if !(x.kind == leafNode && x.end == leafPanics && res.class == failedClass) {
			m.want[w.id] = o // a panic goes through the wrappers
		}
	}
	if outermost == 0 {
		cur = modelResult{class: canceledClass}
	}
	return end, cur
}

// group evaluates the group x whose task gets the requests reqs (first the
// earliest of them).
func (m *model) group(x *treeNode, reqs []request, first request) (int, modelResult, []request) {
	// Run the tasks undisturbed to find the first failure, then again
	// with the group's abort, if there is one.
	natural := 0
	failure := never
	for _, k := range x.kids {
		end, r := m.chain(k, never)
		natural = max(natural, end)
		if r.class != okClass && r.class != canceledClass && end < failure {
			failure = end
		}
	}
	natural = max(natural, x.at)
	// A request at the instant of the first failure is the failure's
	// doing (every timed event has its own instant): the failure is first.
	abort, outsideAbort := never, false
	switch {
	case failure <= first.at:
		abort = failure
	case first.at < natural:
		abort, outsideAbort = first.at, true
	}
	end := min(x.at, abort)
	var failed []int
	failures := 0
	for _, k := range x.kids {
		kend, r := m.chain(k, abort)
		end = max(end, kend)
		if r.class != okClass && r.class != canceledClass {
			failures++
			failed = append(failed, r.leaves...)
		}
	}
	var delivered []request
	for _, r := range reqs {
		// A request at the group's last instant arrives after it ended,
		// unless it is the one that aborted the group.
		if r.at < end || r == first && outsideAbort {
			delivered = append(delivered, r)
		}
	}
	var res modelResult
	switch {
	case len(delivered) > 0:
		res = modelResult{class: canceledClass}
		m.dropped[x.id] = failures
	case failures > 0:
		slices.Sort(failed)
		res = modelResult{class: failedClass, leaves: failed}
	default:
		res = modelResult{class: okClass}
	}
	m.want[x.id] = observed{Class: res.class, Leaves: res.leaves}
	return end, res, delivered
}

// TestPropStructuredTree checks random trees of groups, timeouts, scopes
// and shields against the model: which leaves slept to the end, which
// error every node returned (by class: nil, cancelled, timeout, failed),
// which leaves' failures each error holds, which timeouts expired, how many
// task failures went to the error handler because an outside cancellation
// went on in their place, and that nothing is left running.
func TestPropStructuredTree(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ids := 0
		var slots []*treeNode
		root := genTree(rt, 3, &ids, &slots)
		outside := rapid.Bool().Draw(rt, "outside cancel")
		n := len(slots)
		if outside {
			n++
		}
		times := rapid.SliceOfNDistinct(rapid.IntRange(1, 4*n+4), n, n, rapid.ID[int]).Draw(rt, "times")
		for i, s := range slots {
			s.at = times[i]
		}
		cancelAt := never
		if outside {
			cancelAt = times[n-1]
		}
		rt.Logf("tree %v, outside cancel at %d", root, cancelAt)

		m := &model{want: map[int]observed{}, dropped: map[int]int{}}
		_, rootWant := m.chain(root, cancelAt)
		dropped := 0
		for _, d := range m.dropped {
			dropped += d
		}

		l, err := aio.NewLoop()
		if err != nil {
			rt.Fatal(err)
		}
		defer l.Close()
		if err := l.SetVirtualClock(); err != nil {
			rt.Fatal(err)
		}
		rec := vcRecord(l)
		got := map[int]observed{}
		task, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, runTree(c, root, got) })
		if err != nil {
			rt.Fatal(err)
		}
		if outside {
			l.CallLater(time.Duration(cancelAt)*time.Millisecond, func() { task.Cancel(errors.New("outside")) })
		}
		left, ended := 0, false
		vcRunUntil(rt, l, func() bool {
			switch {
			case !task.IsDone():
				return false
			case !ended: // one more iteration, for the reports
				ended = true
				l.CallSoon(func() {})
				return false
			}
			left = len(l.Tasks())
			return true
		})
		_, rootErr := task.Result()
		if c := classOf(rootErr); c != rootWant.class {
			rt.Errorf("the root task ended %s (%v), the model says %s", c, rootErr, rootWant.class)
		}
		if !maps.EqualFunc(got, m.want, func(a, b observed) bool {
			return a.Finished == b.Finished && a.Class == b.Class && a.Expired == b.Expired && slices.Equal(a.Leaves, b.Leaves)
		}) {
			for id := 1; id <= ids; id++ {
				if fmt.Sprint(got[id]) != fmt.Sprint(m.want[id]) {
					rt.Errorf("node %d: ran %+v, the model says %+v", id, got[id], m.want[id])
				}
			}
		}
		if d := rec.count("cancelled from outside"); d != dropped {
			rt.Errorf("%d dropped task failures reported, the model says %d", d, dropped)
		}
		if left != 0 {
			rt.Errorf("%d tasks left after the root ended", left)
		}
	})
}
