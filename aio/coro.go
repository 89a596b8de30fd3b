package aio

import "iter"

// maxIdleCoros bounds the loop's pool of finished coroutines. Each holds a
// goroutine stack (8 KiB or more), so the pool is kept small.
const maxIdleCoros = 128

// A coro is a coroutine that runs task bodies, one after another: when a
// body returns, the coroutine parks in the loop's pool and the next task
// that starts reuses it. Creating a coroutine with iter.Pull and running it
// to its end costs 0.4-0.8 us; reusing one costs a switch (see
// docs/benchmarks.md).
//
// A coroutine is created on the loop goroutine, whose thread is locked, and
// the runtime resumes it only on that thread (runtime/coro.go): the reason a
// loop runs on one goroutine for its whole life (see thread.go).
type coro struct {
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool
	g     uintptr // curg of the coroutine's goroutine
	gid   uint64  // its goroutine id, in debug mode (watchdog.go)
	task  *Ctx    // the task it runs now; nil while pooled

	waitOn any   // what the task suspended on last, for the task dump (dump.go)
	since  int64 // loop time of the task's last suspension, with Loop.TrackWaits (dump.go)
}

func (l *Loop) newCoro() *coro {
	co := &coro{}
	co.next, co.stop = iter.Pull(func(yield func(struct{}) bool) {
		co.g = curg()
		if d := l.debug.on.Load(); d != nil {
			co.gid = goid() // debug mode: for the watchdog (watchdog.go)
			d.curG.Store(co.gid)
		}
		if co.gid == 0 && l.wantGid() {
			co.gid = goid() // for the stacks of the task dump (dump.go)
		}
		co.yield = yield
		l.thread.taskG.Store(co.g)
		for {
			co.task.impl.runBody()
			// Park until the loop hands over the next task, or stops us.
			if !yield(struct{}{}) {
				return
			}
		}
	})
	return co
}

// coroPool keeps finished coroutines for reuse. Loop goroutine only.
type coroPool struct {
	idle    []*coro
	noReuse bool // tests and benchmarks: end every coroutine, reuse none
}

func (p *coroPool) get(l *Loop) *coro {
	if n := len(p.idle); n > 0 {
		co := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		return co
	}
	return l.newCoro()
}

func (p *coroPool) put(l *Loop, co *coro) {
	if len(p.idle) < maxIdleCoros && !p.noReuse {
		p.idle = append(p.idle, co)
		return
	}
	l.endCoro(co)
}

// drain ends every pooled coroutine.
func (p *coroPool) drain(l *Loop) {
	for _, co := range p.idle {
		l.endCoro(co)
	}
	clear(p.idle)
	p.idle = p.idle[:0]
}

// endCoro stops a parked coroutine: its yield returns false and it returns.
func (l *Loop) endCoro(co *coro) {
	co.stop()
	l.forgetCoro(co)
}

// forgetCoro clears taskG if it names co, which has ended: the runtime may
// give its g to a new goroutine, which must not pass for the loop.
func (l *Loop) forgetCoro(co *coro) {
	if co.g != 0 && l.thread.taskG.Load() == co.g {
		l.thread.taskG.Store(0)
	}
}
