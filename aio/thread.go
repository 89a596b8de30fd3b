package aio

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// The thread binding.
//
// The runtime resumes a coroutine only on the thread that created it when
// that thread was locked, with the same lock count ("coro: OS thread
// locking must match locking at coroutine creation" is a fatal error, not a
// panic). A loop's task coroutines are made on its locked goroutine, so
// every run, every resumption and the final unwinding of the loop must
// happen on that one goroutine and thread. And a goroutine that exits while
// locked takes its thread with it: coroutines bound to it can never run
// again, and their goroutines leak.
//
// So a loop run by hand does not run on the goroutine that calls RunForever
// or RunUntil: it runs on a goroutine of its own, the owner, started at the
// first run and locked to its thread until Close, which it also performs.
// The caller hands each run to the owner and waits for it. Whatever
// goroutines run and close the loop, and whenever they exit, its coroutines
// are resumed and unwound where they were made. The loop that Run makes is
// the exception: Run runs, shuts down and closes it on its own goroutine
// (so that a program can keep the loop on its main thread), and nothing else
// may run or close it meanwhile.

// binding is the loop's thread-binding component: which goroutine runs the
// loop (the owner, or Run's), which task coroutine it resumes, and which
// coroutine its Close is unwinding. loopG, taskG and unwindG are read by
// other goroutines (onLoop, onAnyLoop), so atomic.
type binding struct {
	loopG   atomic.Uintptr // curg of the goroutine running the loop; 0 when not running
	taskG   atomic.Uintptr // curg of the task coroutine resumed last (see Loop.step); 0 if none
	unwindG atomic.Uintptr // curg of the coroutine Close is unwinding; 0 otherwise

	// inline is the curg of Run's goroutine for the loop Run makes (it runs
	// there, and nothing else may run or close it while Run runs), 0 for a
	// loop run by hand. Written before the loop is shared.
	inline uintptr
	owner  *owner     // a loop run by hand: its goroutine, from the first run
	close  sync.Mutex // serialises Close
}

// owner is the goroutine of a loop run by hand.
type owner struct {
	reqs chan ownerReq
	gone chan struct{} // closed when the goroutine has exited
}

// ownerReq is one piece of work for the owner: a run, or the close.
type ownerReq struct {
	done  func() bool // the run's condition (nil: until Stop)
	end   func()      // called on the loop when the run ends normally
	close bool        // close the loop and exit
	reply chan ownerReply
}

type ownerReply struct {
	err      error
	panicked bool
	value    any // the panic of RunUntil's condition
}

// ownerGoroutine returns the loop's owner, starting it on first use. Only a
// run calls it, after enter moved the loop to running, so no two calls race.
func (l *Loop) ownerGoroutine() *owner {
	if l.thread.owner == nil {
		o := &owner{reqs: make(chan ownerReq), gone: make(chan struct{})}
		l.thread.owner = o
		go l.serve(o)
	}
	return l.thread.owner
}

// do hands req to the owner and waits for it. A panic of RunUntil's
// condition goes on in the caller.
func (o *owner) do(req ownerReq) error {
	req.reply = make(chan ownerReply, 1)
	select {
	case o.reqs <- req:
	case <-o.gone:
		return errOwnerGone
	}
	var rep ownerReply
	select {
	case rep = <-req.reply:
	case <-o.gone:
		select {
		case rep = <-req.reply:
		default:
			return errOwnerGone
		}
	}
	if rep.panicked {
		panic(rep.value)
	}
	return rep.err
}

func (o *owner) run(done func() bool, end func()) error {
	return o.do(ownerReq{done: done, end: end})
}

// serve is the owner goroutine: it runs the loop when asked, until the
// close. A runtime.Goexit in a task body or callback ends it: the run's
// deferred handler has closed the loop by then (abandon), and the deferred
// reply tells the caller.
func (l *Loop) serve(o *owner) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(o.gone)
	var cur *ownerReq
	defer func() {
		if cur != nil { // runtime.Goexit during cur
			cur.reply <- ownerReply{err: l.runErr}
		}
	}()
	for req := range o.reqs {
		cur = &req
		rep := l.serveOne(req)
		cur = nil
		req.reply <- rep
		if req.close {
			return
		}
	}
}

func (l *Loop) serveOne(req ownerReq) (rep ownerReply) {
	defer func() {
		if r := recover(); r != nil {
			rep = ownerReply{panicked: true, value: r}
		}
	}()
	if req.close {
		l.closeHere()
		return ownerReply{}
	}
	return ownerReply{err: l.runHere(req.done, req.end)}
}

// running is the set of loops whose goroutines are running loop code (a run,
// or Close unwinding tasks), so that a run can refuse to start inside a
// callback or task of any of them, and a blocking Wait can refuse to block
// one. Readers load an immutable slice; runs starting and ending copy it.
var running loopSet

type loopSet struct {
	mu    sync.Mutex
	loops atomic.Pointer[[]*Loop]
}

func (s *loopSet) add(l *Loop) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next []*Loop
	if p := s.loops.Load(); p != nil {
		next = append(next, *p...)
	}
	next = append(next, l)
	s.loops.Store(&next)
}

func (s *loopSet) remove(l *Loop) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.loops.Load()
	if p == nil {
		return
	}
	next := make([]*Loop, 0, len(*p))
	for _, x := range *p {
		if x != l {
			next = append(next, x)
		}
	}
	s.loops.Store(&next)
}

// RunningLoop returns the loop whose code the caller is running: the loop
// whose goroutine it is, or whose task or callback is calling; nil for a
// plain goroutine. It is asyncio's get_running_loop, for code that needs the
// loop and was not given it. Any goroutine; it costs a look at each running
// loop.
func RunningLoop() *Loop {
	g := curg()
	p := running.loops.Load()
	if p == nil {
		return nil
	}
	for _, l := range *p {
		if l.thread.loopG.Load() == g || l.thread.taskG.Load() == g {
			return l
		}
	}
	return nil
}

// onAnyLoop reports whether goroutine g runs loop code of some loop: its
// run, the task coroutine it is resuming, or the coroutine its Close is
// unwinding.
func onAnyLoop(g uintptr) bool {
	p := running.loops.Load()
	if p == nil {
		return false
	}
	for _, l := range *p {
		if l.thread.loopG.Load() == g || l.thread.taskG.Load() == g || l.thread.unwindG.Load() == g {
			return true
		}
	}
	return false
}

// unwinding reports whether goroutine g is a task body that the Close of
// some loop is unwinding.
func unwinding(g uintptr) bool {
	p := running.loops.Load()
	if p == nil {
		return false
	}
	for _, l := range *p {
		if l.thread.unwindG.Load() == g {
			return true
		}
	}
	return false
}

// errOwnerGone is what a run or a Close handed to an owner that has exited
// returns: a task body or callback called runtime.Goexit, and the loop
// closed itself.
var errOwnerGone = fmt.Errorf("%w: the loop's goroutine has exited (runtime.Goexit in a task or callback)", ErrClosed)
