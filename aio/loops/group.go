package loops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aiogo/aio/aio"
)

// A Group is N event loops, each on a goroutine and OS thread of its own,
// started, stopped and closed together. The loops share nothing but their
// doors: a loop's tasks reach another loop only through the functions of
// this package (Call, CallFunc, Queue, MoveStream, MoveTransport, the
// servers) or the core's any-goroutine methods (CallSoon, Spawn,
// Future.SetResult), which all go through the target loop's door.
//
// The methods of a Group may be called from any goroutine, except those
// that wait (Each, Close, ServeStream, ServeProtocol): they refuse, with an
// error matching aio.ErrOnLoop, on a goroutine or in a task of any loop,
// which they would block.
type Group struct {
	cfg   config
	slots []*slot

	mu      sync.Mutex
	state   int // groupNew, groupStarted, groupClosing
	setups  map[uint64]func(i int, l *aio.Loop)
	nextID  uint64
	closeMu sync.Mutex // serialises Close
	closed  chan struct{}
	errs    []error // of the loops' shutdowns

	runners  sync.WaitGroup
	rr       atomic.Uint64
	failures atomic.Int64
}

const (
	groupNew = iota
	groupStarted
	groupClosing
)

// slot is one loop of the group: the loop in it changes when a failed loop
// is restarted.
type slot struct {
	idx      int
	loop     atomic.Pointer[aio.Loop]
	dead     atomic.Bool  // failed and not restarted, or closed
	panicked atomic.Value // error: a panic the error handler saw, with WithFailOnPanic
	load     atomic.Int64 // connections the group's servers placed here and still open
	restarts atomic.Int64
}

// A Failure describes a loop of a group that ended without being asked to:
// a runtime.Goexit in one of its task bodies or callbacks (t.FailNow in a
// test), a panic that reached its run, or, with WithFailOnPanic, a panic in
// one of its callbacks.
type Failure struct {
	Index     int       // the loop's index in the group
	Loop      *aio.Loop // the loop that failed, closed by now
	Err       error     // why; it matches aio.ErrClosed for a Goexit
	Restarted *aio.Loop // the loop that replaced it (WithRestart), or nil
}

// An Option configures a Group.
type Option func(*config)

type config struct {
	onFailure       func(Failure)
	restart         bool
	failOnPanic     bool
	shutdownTimeout time.Duration
	indexed         func(i int, l *aio.Loop, ec aio.ErrorContext)
	onStart         func(i int, l *aio.Loop)
}

// WithOnFailure sets the function told of each loop that fails (see
// Failure). It runs on a goroutine of the group, not on a loop, after the
// failed loop is closed and, with WithRestart, after its replacement is
// running. The default logs the failure through log/slog.
func WithOnFailure(fn func(Failure)) Option { return func(c *config) { c.onFailure = fn } }

// WithRestart makes a group replace a loop that fails by a new loop, at the
// same index, set up as the group's loops are at Start (WithLoopStart, and
// the listeners of the group's servers). Without it a failed loop stays
// closed and the others go on.
func WithRestart() Option { return func(c *config) { c.restart = true } }

// WithFailOnPanic makes a panic in a callback of a loop (which aio reports
// through the loop's error handler, and the loop runs on) fail that loop: it
// is stopped, shut down and closed, and restarted with WithRestart, as for
// a runtime.Goexit. A panic in a task body stays the task's error.
func WithFailOnPanic() Option { return func(c *config) { c.failOnPanic = true } }

// WithShutdownTimeout bounds the shutdown of each loop at Close and after
// a failure (aio.Loop.Shutdown's context): the tasks still running then are
// unwound by the loop's Close. The default is 5 seconds.
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) { c.shutdownTimeout = d }
}

// WithErrorHandler sets the error handler of every loop of the group (see
// aio.Loop.SetErrorHandler), with the loop's index.
func WithErrorHandler(h func(i int, l *aio.Loop, ec aio.ErrorContext)) Option {
	return func(c *config) { c.indexed = h }
}

// WithLoopStart sets a function run for each loop before it first runs,
// at Start and when a failed loop is restarted: it may Spawn tasks on l
// and schedule callbacks (they run once l runs). It runs on a goroutine of
// the group.
func WithLoopStart(fn func(i int, l *aio.Loop)) Option { return func(c *config) { c.onStart = fn } }

// New returns a group of n loops, made and idle: Start runs them. n < 1 is
// refused with ErrNoLoops. NewPerCore makes one loop per GOMAXPROCS.
func New(n int, opts ...Option) (*Group, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: New(%d)", ErrNoLoops, n)
	}
	g := &Group{closed: make(chan struct{}), setups: map[uint64]func(int, *aio.Loop){}}
	g.cfg.shutdownTimeout = 5 * time.Second
	for _, o := range opts {
		o(&g.cfg)
	}
	for i := range n {
		s := &slot{idx: i}
		l, err := g.newLoop(s)
		if err != nil {
			for _, s := range g.slots {
				s.loop.Load().Close()
			}
			return nil, err
		}
		s.loop.Store(l)
		g.slots = append(g.slots, s)
	}
	return g, nil
}

// NewPerCore returns a group of runtime.GOMAXPROCS(0) loops.
func NewPerCore(opts ...Option) (*Group, error) { return New(runtime.GOMAXPROCS(0), opts...) }

// newLoop makes a loop for s, with the group's error handler.
func (g *Group) newLoop(s *slot) (*aio.Loop, error) {
	l, err := aio.NewLoop()
	if err != nil {
		return nil, err
	}
	h := g.cfg.indexed
	fail := g.cfg.failOnPanic
	if h != nil || fail {
		i := s.idx
		l.SetErrorHandler(func(l *aio.Loop, ec aio.ErrorContext) {
			var pe *aio.PanicError
			if fail && ec.Task == nil && errors.As(ec.Err, &pe) {
				s.panicked.CompareAndSwap(nil, error(fmt.Errorf("loops: loop %d: %s: %w", i, ec.Message, ec.Err)))
				l.Stop()
			}
			if h != nil {
				h(i, l, ec)
			} else {
				aio.DefaultErrorHandler(l, ec)
			}
		})
	}
	return l, nil
}

// Len returns the number of loops.
func (g *Group) Len() int { return len(g.slots) }

// Loop returns the loop at index i (0 <= i < Len): the one running there
// now, which changes when a failed loop is restarted.
func (g *Group) Loop(i int) *aio.Loop { return g.slots[i].loop.Load() }

// Loops returns the loops of the group, in index order.
func (g *Group) Loops() []*aio.Loop {
	ls := make([]*aio.Loop, len(g.slots))
	for i, s := range g.slots {
		ls[i] = s.loop.Load()
	}
	return ls
}

// Index returns the index of l in the group, or -1 if l is not one of its
// loops (or is a failed loop that has been replaced).
func (g *Group) Index(l *aio.Loop) int {
	for i, s := range g.slots {
		if s.loop.Load() == l {
			return i
		}
	}
	return -1
}

// Failures returns the number of loop failures so far.
func (g *Group) Failures() int { return int(g.failures.Load()) }

// Done returns a channel closed when Close has finished.
func (g *Group) Done() <-chan struct{} { return g.closed }

// Start runs every loop of the group, each on a goroutine of its own (and
// the loop's own locked thread, see aio.Loop.RunForever). It returns an
// error matching ErrGroupClosed after Close, and aio.ErrRunning if the
// group is started already.
func (g *Group) Start() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.state {
	case groupStarted:
		return fmt.Errorf("%w: Group.Start: started already", aio.ErrRunning)
	case groupClosing:
		return fmt.Errorf("%w: Group.Start", ErrGroupClosed)
	}
	g.state = groupStarted
	for _, s := range g.slots {
		g.prepare(s, s.loop.Load())
		g.runners.Add(1)
		go g.run(s)
	}
	return nil
}

// prepare runs the start functions for l, the loop of s. g.mu is held.
func (g *Group) prepare(s *slot, l *aio.Loop) {
	if g.cfg.onStart != nil {
		g.cfg.onStart(s.idx, l)
	}
	for _, fn := range g.setups {
		fn(s.idx, l)
	}
}

// addSetup registers fn to run on every loop restarted from now on, and
// returns its removal.
func (g *Group) addSetup(fn func(i int, l *aio.Loop)) func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nextID++
	id := g.nextID
	g.setups[id] = fn
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.setups, id)
	}
}

// started reports an error unless the group runs.
func (g *Group) started(method string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.state {
	case groupNew:
		return fmt.Errorf("%w: %s", ErrNotStarted, method)
	case groupClosing:
		return fmt.Errorf("%w: %s", ErrGroupClosed, method)
	}
	return nil
}

// closing reports whether Close has begun.
func (g *Group) closing() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state == groupClosing
}

// run is the goroutine of slot s: it runs the loop there until the group
// closes, and handles its failures.
func (g *Group) run(s *slot) {
	defer g.runners.Done()
	for {
		l := s.loop.Load()
		err := runLoop(l)
		if err == nil {
			if perr, _ := s.panicked.Load().(error); perr != nil {
				err = perr
			} else if g.closing() {
				g.finish(s, l)
				return
			} else {
				continue // a Stop from the program's own code: run on
			}
		}
		g.fail(s, l, err)
		if !g.cfg.restart {
			s.dead.Store(true)
			g.report(Failure{Index: s.idx, Loop: l, Err: err})
			return
		}
		if !g.restart(s, l, err) {
			return
		}
	}
}

// runLoop runs l until a Stop, and turns a panic that reaches the run into
// an error.
func runLoop(l *aio.Loop) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("loops: panic reached the loop's run: %w", &aio.PanicError{Value: r})
		}
	}()
	return l.RunForever()
}

// finish shuts down and closes l, at the group's Close.
func (g *Group) finish(s *slot, l *aio.Loop) {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.shutdownTimeout)
	defer cancel()
	err := l.Shutdown(ctx)
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	s.dead.Store(true)
	if err != nil && !errors.Is(err, aio.ErrClosed) {
		g.mu.Lock()
		g.errs = append(g.errs, fmt.Errorf("loops: loop %d: %w", s.idx, err))
		g.mu.Unlock()
	}
}

// fail closes a failed loop.
func (g *Group) fail(s *slot, l *aio.Loop, err error) {
	g.failures.Add(1)
	if !l.IsClosed() {
		ctx, cancel := context.WithTimeout(context.Background(), g.cfg.shutdownTimeout)
		l.Shutdown(ctx)
		cancel()
		l.Close()
	}
}

// restart replaces the failed loop of s and reports the failure. It
// returns false if the group is closing (the slot stays dead).
func (g *Group) restart(s *slot, old *aio.Loop, cause error) bool {
	f := Failure{Index: s.idx, Loop: old, Err: cause}
	defer func() { g.report(f) }()
	nl, err := g.newLoop(s)
	if err != nil {
		f.Err = errors.Join(cause, fmt.Errorf("loops: restarting loop %d: %w", s.idx, err))
		s.dead.Store(true)
		return false
	}
	s.panicked = atomic.Value{}
	g.mu.Lock()
	if g.state == groupClosing {
		g.mu.Unlock()
		nl.Close()
		s.dead.Store(true)
		return false
	}
	s.loop.Store(nl)
	s.load.Store(0)
	s.restarts.Add(1)
	g.prepare(s, nl)
	g.mu.Unlock()
	f.Restarted = nl
	return true
}

func (g *Group) report(f Failure) {
	if g.cfg.onFailure != nil {
		g.cfg.onFailure(f)
		return
	}
	slog.Error("loops: loop failed", "index", f.Index, "err", f.Err, "restarted", f.Restarted != nil)
}

// Close stops every loop, shuts each down (cancelling its tasks and waiting
// for them, no longer than WithShutdownTimeout), closes it, and waits for
// all of it. It returns the loops' shutdown errors joined. Closing again
// returns nil; a group never started is closed at once. Called on a loop's
// goroutine or in a task of any loop it returns an error matching
// aio.ErrOnLoop, since it would wait for itself.
func (g *Group) Close() error {
	if aio.RunningLoop() != nil {
		return fmt.Errorf("%w: Group.Close from a loop (it would wait for itself)", aio.ErrOnLoop)
	}
	g.closeMu.Lock()
	defer g.closeMu.Unlock()
	g.mu.Lock()
	prev := g.state
	if prev == groupClosing {
		g.mu.Unlock()
		<-g.closed
		return nil
	}
	g.state = groupClosing
	g.mu.Unlock()
	if prev == groupNew {
		for _, s := range g.slots {
			s.loop.Load().Close()
			s.dead.Store(true)
		}
		close(g.closed)
		return nil
	}
	for _, s := range g.slots {
		s.loop.Load().Stop() // a closed loop (failed, being replaced) returns ErrClosed
	}
	g.runners.Wait()
	close(g.closed)
	g.mu.Lock()
	defer g.mu.Unlock()
	return errors.Join(g.errs...)
}

// Each runs fn in a task on each loop of the group, at once, and waits for
// all of them; it returns their errors joined, each naming its loop. fn gets
// the loop's index. A loop that fails meanwhile makes its part fail with an
// error matching aio.ErrClosed. Each must be called from a plain goroutine
// (aio.ErrOnLoop on a loop) of a started group (ErrNotStarted). A task
// that wants the same runs Call on each loop and gathers the results.
func (g *Group) Each(fn func(i int, c *aio.Ctx) error) error {
	if fn == nil {
		return aio.ErrNilFunc
	}
	if aio.RunningLoop() != nil {
		return fmt.Errorf("%w: Group.Each from a loop (it would block it)", aio.ErrOnLoop)
	}
	if err := g.started("Group.Each"); err != nil {
		return err
	}
	tasks := make([]*aio.Task[struct{}], len(g.slots))
	errs := make([]error, len(g.slots))
	for i, s := range g.slots {
		t, err := aio.Spawn(s.loop.Load(), func(c *aio.Ctx) (struct{}, error) { return struct{}{}, fn(i, c) })
		if err != nil {
			errs[i] = fmt.Errorf("loops: loop %d: %w", i, err)
			continue
		}
		tasks[i] = t
	}
	for i, t := range tasks {
		if t == nil {
			continue
		}
		if _, err := t.Wait(context.Background()); err != nil {
			errs[i] = fmt.Errorf("loops: loop %d: %w", i, err)
		}
	}
	return errors.Join(errs...)
}

// Pick returns a loop of the group in round robin, passing over loops that
// failed and were not restarted. It returns nil only if every loop is
// closed. Any goroutine.
func (g *Group) Pick() *aio.Loop {
	n := uint64(len(g.slots))
	for range n {
		s := g.slots[(g.rr.Add(1)-1)%n]
		if l := s.loop.Load(); !l.IsClosed() {
			return l
		}
	}
	return nil
}

// PickLeast returns the least loaded loop of the group: the one with the
// fewest live tasks and queued callbacks as it last published them (see
// load.go), ties broken in round robin, passing over closed loops. It
// returns nil only if every loop is closed. Any goroutine; it costs a look
// at each loop's published counters, a few atomic loads each.
func (g *Group) PickLeast() *aio.Loop {
	n := uint64(len(g.slots))
	start := g.rr.Add(1) - 1
	var best *aio.Loop
	bestLoad := int64(-1)
	for k := range n {
		s := g.slots[(start+k)%n]
		l := s.loop.Load()
		if l.IsClosed() {
			continue
		}
		if ld := loadOf(s, l); bestLoad < 0 || ld < bestLoad {
			best, bestLoad = l, ld
		}
	}
	return best
}
