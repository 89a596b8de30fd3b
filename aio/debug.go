package aio

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Debug mode (asyncio's debug mode, PYTHONASYNCIODEBUG).
//
// Off, it is one atomic load of a nil pointer per loop iteration and per
// CallSoon, CallLater, Spawn and NewFuture: the loop keeps no site, measures
// nothing and runs no watchdog. On, the loop:
//   - keeps where each task, future and callback scheduled by loop code was
//     created (runtime.Callers: a few hundred nanoseconds, resolved to a
//     file and line only when a report needs it);
//   - runs its ready queue through runReadyDebug, which times each callback
//     and task step on the real clock and reports those that held the loop
//     for the slow-callback duration or longer (ErrSlowCallback);
//   - runs a watchdog goroutine (watchdog.go) that reports, while it
//     happens, a callback or step that has held the loop past that duration,
//     with the stacks of the loop's goroutine and of the task's coroutine
//     (ErrLoopBlocked);
//   - reports when it closes the futures never completed (ErrNeverCompleted)
//     and the resources never closed (ErrNotClosed: transports, streams,
//     servers, sockets, subprocesses, whatever registered with
//     TrackResource), each with where it was created;
//   - adds the creation site to the report of a task error never retrieved.

// DefaultSlowCallbackDuration is the time a callback or task step may hold
// the loop before debug mode reports it: 100 ms, asyncio's default
// slow_callback_duration.
const DefaultSlowCallbackDuration = 100 * time.Millisecond

// Errors of the reports of debug mode, for errors.Is in an error handler.
var (
	// ErrSlowCallback: a callback or task step held the loop for the
	// slow-callback duration or longer (reported once it has returned).
	ErrSlowCallback = errors.New("aio: slow callback")
	// ErrLoopBlocked: a callback or task step has been holding the loop
	// for the slow-callback duration, and is still running (reported by
	// the watchdog, while it happens, with the stacks).
	ErrLoopBlocked = errors.New("aio: loop blocked")
	// ErrNeverCompleted: a future was still pending when its loop closed.
	ErrNeverCompleted = errors.New("aio: future never completed")
	// ErrNotClosed: a resource (a transport, a stream, a server, a socket,
	// a subprocess) was still open when its loop closed.
	ErrNotClosed = errors.New("aio: resource never closed")
)

// WithDebug runs the loop of Run in debug mode (see Loop.SetDebug).
func WithDebug() RunOption {
	return func(c *runConfig) { c.debug = true }
}

// debugMode is the loop's debug-mode component (Loop.debug).
type debugMode struct {
	on   atomic.Pointer[debugState] // nil: debug mode is off
	slow atomic.Int64               // the slow-callback duration; 0: the default
	wd   *watchdog                  // the running watchdog; loop goroutine only
}

// debugState is what debug mode keeps while it is on.
type debugState struct {
	l *Loop

	// Loop goroutine only: the creation sites of the callback records
	// scheduled by loop code, with the generation they were for.
	cbSites   map[*callback]cbSite
	cbCompact int // size at which cbSites is next compacted

	// What runs now, for the watchdog: written by the loop before and
	// after each callback, read by the watchdog goroutine.
	busy    atomic.Int64  // real-clock nanoseconds (since debugEpoch) at which the callback started; 0: none
	seq     atomic.Uint64 // callbacks started
	curTask atomic.Pointer[Ctx]
	curFn   atomic.Uintptr // the code pointer of the callback's function
	curSite atomic.Pointer[site]
	curG    atomic.Uint64 // goroutine id of the task's coroutine, 0 if unknown or a callback
	loopG   atomic.Uint64 // goroutine id of the loop's goroutine while it runs

	mu         sync.Mutex // guards what follows: any goroutine
	futures    map[*futureBase]*site
	futCompact int
	resources  map[uint64]*resource
	resSeq     uint64
}

type cbSite struct {
	gen uint64
	s   *site
}

// resource is one registration of TrackResource.
type resource struct {
	kind     string
	describe func() string
	site     *site
}

var debugEpoch = time.Now()

// debugNow is the real monotonic clock, also under a virtual clock.
func debugNow() int64 { return int64(time.Since(debugEpoch)) + 1 } // never 0

// SetDebug turns debug mode on or off (see "Debug mode" in the package
// documentation). NewLoop turns it on when the environment variable AIODEBUG
// is set to 1 (or any value strconv.ParseBool reads as true); Run's
// WithDebug does too. Turning it on also turns on the stuck report with
// DefaultStuckThreshold (see SetStuckReport); turning it off leaves the
// stuck report as it is. It may be called from any goroutine, at any time;
// sites are kept from then on only (a task spawned before has none). On a
// zero Loop it panics with an error matching ErrNoLoop.
func (l *Loop) SetDebug(on bool) {
	if l.poller == nil {
		panic(noLoop("SetDebug"))
	}
	if !on {
		l.debug.on.Store(nil)
		return
	}
	if l.debug.on.Load() == nil {
		if l.debug.on.CompareAndSwap(nil, &debugState{
			l:         l,
			cbSites:   map[*callback]cbSite{},
			futures:   map[*futureBase]*site{},
			resources: map[uint64]*resource{},
		}) {
			l.SetStuckReport(DefaultStuckThreshold) // the stuck report, with the task dump (stuck.go)
		}
	}
}

// Debug reports whether debug mode is on. Any goroutine.
func (l *Loop) Debug() bool { return l.poller != nil && l.debug.on.Load() != nil }

// SetSlowCallbackDuration sets how long a callback or task step may hold the
// loop before debug mode reports it (asyncio's slow_callback_duration);
// zero or negative restores DefaultSlowCallbackDuration. Any goroutine. On a
// zero Loop it panics with an error matching ErrNoLoop.
func (l *Loop) SetSlowCallbackDuration(d time.Duration) {
	if l.poller == nil {
		panic(noLoop("SetSlowCallbackDuration"))
	}
	l.debug.slow.Store(int64(max(d, 0)))
}

// SlowCallbackDuration returns the duration set by SetSlowCallbackDuration.
// Any goroutine.
func (l *Loop) SlowCallbackDuration() time.Duration {
	if d := l.debug.slow.Load(); d > 0 {
		return time.Duration(d)
	}
	return DefaultSlowCallbackDuration
}

// debugFromEnv reports whether AIODEBUG asks for debug mode.
func debugFromEnv() bool {
	v := os.Getenv("AIODEBUG")
	on, err := strconv.ParseBool(v)
	return err == nil && on
}

// TrackResource registers, in debug mode, a resource that its owner must
// close (a transport, a stream, a server, a socket, a subprocess): if done
// has not been called when the loop closes, the loop reports it through its
// error handler (an error matching ErrNotClosed) with kind, describe's text
// (describe may be nil) and where the resource was created (the first
// caller outside the aio module). It is the seam of the sibling packages
// and of a program's own resources. done may be called any number of times
// from any goroutine. With debug mode off, or on a nil or zero Loop,
// TrackResource records nothing and returns a shared no-op, at the cost of
// an atomic load. Any goroutine.
func (l *Loop) TrackResource(kind string, describe func() string) (done func()) {
	if l == nil || l.poller == nil {
		return noopDone
	}
	d := l.debug.on.Load()
	if d == nil {
		return noopDone
	}
	r := &resource{kind: kind, describe: describe, site: captureSite(siteDepth)}
	d.mu.Lock()
	d.resSeq++
	id := d.resSeq
	d.resources[id] = r
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		delete(d.resources, id)
		d.mu.Unlock()
	}
}

func noopDone() {}

// noteTask keeps where c is being spawned. Spawn, in debug mode.
func (d *debugState) noteTask(c *Ctx) { c.extra().site = captureSite(siteDepth) }

// noteCallback keeps where cb is being scheduled. Loop goroutine, in debug
// mode.
func (d *debugState) noteCallback(cb *callback) {
	if len(d.cbSites) >= d.cbCompact {
		// Records cancelled and recycled leave stale entries: drop them,
		// at doubling sizes, so that a burst costs amortised O(1).
		for k, v := range d.cbSites {
			if k.gen != v.gen {
				delete(d.cbSites, k)
			}
		}
		d.cbCompact = max(2*len(d.cbSites), 1024)
	}
	d.cbSites[cb] = cbSite{gen: cb.gen, s: captureSite(callbackDepth)}
}

// takeCallbackSite returns and forgets the site of cb's present call.
func (d *debugState) takeCallbackSite(cb *callback) *site {
	v, ok := d.cbSites[cb]
	if !ok {
		return nil
	}
	delete(d.cbSites, cb)
	if v.gen != cb.gen {
		return nil
	}
	return v.s
}

// noteFuture keeps f, pending, with where it was made, for the report at
// the close. NewFuture, in debug mode; any goroutine.
func (d *debugState) noteFuture(f *futureBase) {
	s := captureSite(siteDepth)
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.futures) >= d.futCompact {
		for g := range d.futures {
			if g.isDone() {
				delete(d.futures, g)
			}
		}
		d.futCompact = max(2*len(d.futures), 256)
	}
	d.futures[f] = s
}

// futureSite returns where f was made, if debug mode kept it.
func (l *Loop) futureSite(f *futureBase) string {
	d := l.debug.on.Load()
	if d == nil {
		return ""
	}
	d.mu.Lock()
	s := d.futures[f]
	d.mu.Unlock()
	return s.String()
}

// debugSite returns where c was spawned, if debug mode kept it (for the
// reports and the task dump).
func (c *Ctx) debugSite() *site {
	if c.x == nil {
		return nil
	}
	return c.x.site
}

// CreationSite returns where t was spawned, "file:line" of the first caller
// outside the aio module, if the loop was in debug mode then; "" otherwise.
// Any goroutine.
func CreationSite(t AnyTask) string {
	if c := ctxOf(t); c != nil {
		return c.debugSite().String()
	}
	return ""
}

// ctxOf returns the Ctx of a task made by Spawn, or nil.
func ctxOf(t AnyTask) *Ctx {
	if h, ok := t.(interface{ taskCtx() *Ctx }); ok {
		return h.taskCtx()
	}
	return nil
}

func (t *Task[T]) taskCtx() *Ctx { return &t.c }

// runDebug is the end of runOnce in debug mode: it runs the n callbacks
// ready, timed, with the watchdog watching, and returns 0, the number left.
func (l *Loop) runDebug(d *debugState, n int) int {
	if l.debug.wd == nil {
		l.startWatchdog(d)
	}
	for n > 0 {
		n = l.runReadyDebug(d, n)
	}
	return 0
}

// runReadyDebug is runReady with each callback and step timed and
// published to the watchdog.
func (l *Loop) runReadyDebug(d *debugState, n int) (rest int) {
	rest = n
	finished := false
	defer func() {
		d.busy.Store(0)
		if finished {
			return
		}
		if r := recover(); r != nil {
			l.reportNow(ErrorContext{Message: "aio: panic in callback", Err: newPanicError(r)})
		}
	}()
	for rest > 0 {
		r, _ := l.ready.PopFront()
		rest--
		switch {
		case r.cb != nil:
			cb := r.cb
			if cb.state != cbScheduled {
				delete(d.cbSites, cb)
				l.pool.put(cb)
				continue
			}
			fn := cb.fn
			s := d.takeCallbackSite(cb)
			l.pool.put(cb)
			l.met.callbacks++ // as runReady counts (metrics.go)
			t0 := d.begin(nil, fn, s)
			fn()
			d.end(t0, nil, fn, s)
		case r.task != nil:
			c := r.task
			if !c.woken || c.state == taskDone {
				continue // stale, as step would find
			}
			t0 := d.begin(c, nil, nil)
			l.step(c)
			d.end(t0, c, nil, nil)
		case r.fn != nil:
			l.met.callbacks++
			t0 := d.begin(nil, r.fn, nil)
			r.fn()
			d.end(t0, nil, r.fn, nil)
		}
	}
	finished = true
	return 0
}

// begin publishes the callback (fn, with its site s) or the step of c that
// starts, and returns its start.
func (d *debugState) begin(c *Ctx, fn func(), s *site) int64 {
	d.curTask.Store(c)
	var g uint64
	if c != nil {
		if co := c.coro; co != nil {
			g = co.gid
		} else if k := len(d.l.cpool.idle); k > 0 {
			g = d.l.cpool.idle[k-1].gid // the one step will take (coroPool.get)
		}
		s = c.debugSite()
	} else {
		d.curFn.Store(funcPC(fn))
	}
	d.curG.Store(g)
	d.curSite.Store(s)
	d.seq.Add(1)
	t0 := debugNow()
	d.busy.Store(t0)
	return t0
}

// end reports the callback or step that began at t0 if it was slow.
func (d *debugState) end(t0 int64, c *Ctx, fn func(), s *site) {
	d.busy.Store(0)
	if c != nil {
		d.curTask.Store(nil) // the watchdog must not keep a task alive (failures.go)
	}
	held := time.Duration(debugNow() - t0)
	l := d.l
	if held < l.SlowCallbackDuration() {
		return
	}
	ec := ErrorContext{Duration: held}
	if c != nil {
		ec.Message = "aio: slow task step"
		ec.Task = c.impl
		ec.Err = fmt.Errorf("%w: a step of task %s held the loop for %v (slow-callback duration %v)",
			ErrSlowCallback, c.String(), held.Round(time.Millisecond), l.SlowCallbackDuration())
	} else {
		ec.Message = "aio: slow callback"
		ec.Callback = funcName(funcPC(fn))
		ec.Site = s.String()
		ec.Err = fmt.Errorf("%w: callback %s held the loop for %v (slow-callback duration %v)",
			ErrSlowCallback, ec.Callback, held.Round(time.Millisecond), l.SlowCallbackDuration())
	}
	l.report(ec)
}

// reportUnclosed reports the resources never closed. closeHere, before the
// close hooks (which may close some on the program's behalf).
func (l *Loop) reportUnclosed() {
	d := l.debug.on.Load()
	if d == nil {
		return
	}
	d.mu.Lock()
	ids := make([]uint64, 0, len(d.resources))
	for id := range d.resources {
		ids = append(ids, id)
	}
	rs := make([]*resource, 0, len(ids))
	sortUint64s(ids)
	for _, id := range ids {
		rs = append(rs, d.resources[id])
	}
	clear(d.resources)
	d.mu.Unlock()
	for _, r := range rs {
		what := r.kind
		if r.describe != nil {
			if s := r.describe(); s != "" {
				what += " " + s
			}
		}
		l.reportNow(ErrorContext{
			Message: "aio: " + r.kind + " never closed",
			Err:     fmt.Errorf("%w: %s, open when the loop closed", ErrNotClosed, what),
			Site:    r.site.String(),
		})
	}
}

// reportPending reports the futures never completed. closeHere, after the
// close hooks (which may complete some).
func (l *Loop) reportPending() {
	d := l.debug.on.Load()
	if d == nil {
		return
	}
	type pend struct {
		f *futureBase
		s *site
	}
	d.mu.Lock()
	var ps []pend
	for f, s := range d.futures {
		if !f.isDone() {
			ps = append(ps, pend{f, s})
		}
	}
	clear(d.futures)
	d.mu.Unlock()
	// In the order they were made, as far as sites tell; else any order.
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].s.String() < ps[j-1].s.String(); j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
	for _, p := range ps {
		l.reportNow(ErrorContext{
			Message: "aio: future never completed",
			Err:     fmt.Errorf("%w: a future was still pending when the loop closed", ErrNeverCompleted),
			Site:    p.s.String(),
		})
	}
}

func sortUint64s(s []uint64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// A site is where something was created: the program counters of the
// stack, resolved to the first frame outside the aio module when a report
// needs it.
type site struct {
	pcs  [siteDepth]uintptr
	n    int
	once sync.Once
	str  string
}

// siteDepth bounds the frames a site keeps: enough to get out of the aio
// packages from the deepest of their constructors.
const siteDepth = 16

// callbackDepth is the depth of a callback's site: the unwinding is most
// of the cost of a site, and callbacks are many; their scheduler is
// normally the first frame or two.
const callbackDepth = 6

// captureSite takes depth frames of the caller's stack: one allocation and
// a runtime.Callers; the symbolisation happens only in String.
func captureSite(depth int) *site {
	s := new(site)
	s.n = runtime.Callers(3, s.pcs[:depth]) // skip Callers, captureSite and its caller
	return s
}

// String returns "file:line" of the first frame outside the aio module (or
// in a test file), or of the outermost frame taken; "" for a nil site.
func (s *site) String() string {
	if s == nil {
		return ""
	}
	s.once.Do(func() {
		frames := runtime.CallersFrames(s.pcs[:s.n])
		first := ""
		for {
			f, more := frames.Next()
			if f.File != "" {
				here := f.File + ":" + strconv.Itoa(f.Line)
				if first == "" {
					first = here
				}
				if !internalFrame(f) {
					s.str = here
					return
				}
			}
			if !more {
				break
			}
		}
		s.str = first
	})
	return s.str
}

// aioPkg is the import path of this package; frames in it and in the
// packages under it are the module's own.
var aioPkg = funcPackage(runtime.FuncForPC(reflect.ValueOf(captureSite).Pointer()).Name())

func internalFrame(f runtime.Frame) bool {
	if strings.HasSuffix(f.File, "_test.go") {
		return false
	}
	p := funcPackage(f.Function)
	return p == aioPkg || strings.HasPrefix(p, aioPkg+"/") || p == "runtime" || p == "iter"
}

// funcPackage returns the import path in a function's full name
// ("example.com/a/b.(*T).M.func1" is in "example.com/a/b").
func funcPackage(name string) string {
	i := strings.LastIndexByte(name, '/') + 1
	if j := strings.IndexByte(name[i:], '.'); j >= 0 {
		return name[:i+j]
	}
	return name
}

// funcPC returns the code pointer of fn.
func funcPC(fn func()) uintptr {
	if fn == nil {
		return 0
	}
	return reflect.ValueOf(fn).Pointer()
}

// funcName names the function at code pointer pc.
func funcName(pc uintptr) string {
	if f := runtime.FuncForPC(pc); f != nil {
		return f.Name()
	}
	return "?"
}
