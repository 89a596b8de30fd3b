//go:build unix

package socket

import (
	"fmt"
	"net"
	"strconv"
	"syscall"

	"github.com/aiogo/aio/aio"
	"golang.org/x/sys/unix"
)

// direction indexes a watcher's two sides.
const (
	dirRead  = 0
	dirWrite = 1
)

// registries is each loop's fd watchers: made at the first wait on a loop,
// marked closed by the loop's close hook (aio.LoopValue).
var registries = aio.NewLoopValue(func(l *aio.Loop) (*registry, error) {
	return &registry{loop: l, watchers: make(map[int]*watcher)}, nil
}, func(_ *aio.Loop, r *registry) { r.closed = true })

// A registry is one loop's fd watchers, keyed by fd. Loop goroutine only.
type registry struct {
	loop     *aio.Loop
	watchers map[int]*watcher
	closed   bool // the loop has closed: its registrations are gone with it
}

// registryOf returns l's registry, making it on first use.
func registryOf(l *aio.Loop) (*registry, error) {
	r, err := registries.Get(l)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	return r, nil
}

// A watcher multiplexes one AddReader and one AddWriter registration of its
// loop over the tasks waiting for fd to be readable or writable.
//
// The registration of a side is made by the first wait and kept while tasks
// wait on it, or have been woken and not resumed yet (they will probably
// read or write, find EAGAIN and wait again: keeping it saves two epoll_ctl
// calls per wait). It is removed when the fd is reported ready and nobody
// waits or is about to look, when the last waiter of a plain fd (not a
// Socket's) is cancelled, and when the watcher is released.
type watcher struct {
	reg    *registry
	fd     int
	q      [2]aio.WaitQueue
	on     [2]bool
	sticky int // Sockets holding the watcher: keep registrations until release
	fns    [2]func()
	// stale marks a side on which a task has started to wait in this
	// iteration of the loop (having just found EAGAIN, as a rule): a
	// readiness report already queued for it comes from a poll made
	// before, and is ignored rather than waking the task for a read that
	// would find EAGAIN again. The fd stays registered (level-triggered),
	// so the next poll reports it again if it is ready: no wake is lost.
	// A callback queued with the wait clears the mark before the next
	// poll's reports run.
	stale    [2]bool
	clearFns [2]func()
}

// watcherFor returns the watcher of fd on c's loop.
func watcherFor(c *aio.Ctx, fd int) (*watcher, error) {
	r, err := registryOf(c.Loop())
	if err != nil {
		return nil, err
	}
	w := r.watchers[fd]
	if w == nil {
		w = &watcher{reg: r, fd: fd}
		w.fns[dirRead] = func() { w.ready(dirRead) }
		w.fns[dirWrite] = func() { w.ready(dirWrite) }
		w.clearFns[dirRead] = func() { w.stale[dirRead] = false }
		w.clearFns[dirWrite] = func() { w.stale[dirWrite] = false }
		w.q[dirRead].CheckTask(c) // binds the queues to c's loop
		w.q[dirWrite].CheckTask(c)
		w.q[dirRead].Describe(w.label("readable")) // for the task dump (aio.Loop.Dump)
		w.q[dirWrite].Describe(w.label("writable"))
		r.watchers[fd] = w
	}
	return w, nil
}

// wait parks the task until the fd is reported ready for dir (or the
// watcher is released: the caller looks at its own state again).
func (w *watcher) wait(c *aio.Ctx, dir int) error {
	if err := w.q[dir].CheckTask(c); err != nil {
		return err
	}
	if !w.on[dir] {
		var err error
		if dir == dirRead {
			err = w.reg.loop.AddReader(w.fd, w.fns[dir])
		} else {
			err = w.reg.loop.AddWriter(w.fd, w.fns[dir])
		}
		if err != nil {
			w.forgetIfIdle()
			return fmt.Errorf("socket: %w", err)
		}
		w.on[dir] = true
	} else if !w.stale[dir] {
		if _, err := w.reg.loop.CallSoon(w.clearFns[dir]); err == nil {
			w.stale[dir] = true
		}
	}
	err := w.q[dir].Park(c)
	if err != nil && w.sticky == 0 && w.q[dir].Len() == 0 && w.q[dir].Waking() == 0 {
		w.off(dir)
		w.forgetIfIdle()
	}
	return err
}

// ready is the loop's readiness callback for dir.
func (w *watcher) ready(dir int) {
	q := &w.q[dir]
	if w.stale[dir] {
		return
	}
	if q.Len() == 0 {
		if q.Waking() == 0 {
			w.off(dir)
			w.forgetIfIdle()
		}
		return
	}
	q.WakeAll()
	if w.sticky == 0 {
		w.off(dir)
	}
}

// off removes dir's registration, if any.
func (w *watcher) off(dir int) {
	if !w.on[dir] {
		return
	}
	w.on[dir] = false
	if w.reg.closed {
		return
	}
	if dir == dirRead {
		w.reg.loop.RemoveReader(w.fd)
	} else {
		w.reg.loop.RemoveWriter(w.fd)
	}
}

// forgetIfIdle drops the watcher from its registry when nothing uses it.
func (w *watcher) forgetIfIdle() {
	if w.sticky > 0 || w.on[dirRead] || w.on[dirWrite] {
		return
	}
	for d := range w.q {
		if w.q[d].Len() > 0 || w.q[d].Waking() > 0 {
			return
		}
	}
	if w.reg.watchers[w.fd] == w {
		delete(w.reg.watchers, w.fd)
	}
}

// release removes both registrations and the watcher, and wakes every task
// waiting on it: the fd is about to be closed. Waiters must look at their
// own state (a closed flag) when they resume.
func (w *watcher) release() {
	w.off(dirRead)
	w.off(dirWrite)
	w.sticky = 0
	if w.reg.closed {
		return // nobody waits: the loop's tasks have ended
	}
	if w.reg.watchers[w.fd] == w {
		delete(w.reg.watchers, w.fd)
	}
	w.q[dirRead].WakeAll()
	w.q[dirWrite].WakeAll()
}

// WaitReadable suspends the calling task until fd is readable (asyncio's
// add_reader as an awaitable: the loop's poller reports it), and returns
// nil then. On a loop with a virtual clock the wait holds the clock (see
// aio.Loop.HoldClock): time does not jump while a task waits for an fd. Readiness is level-triggered and only a hint: the task should
// read until EAGAIN, and wait again after EAGAIN.
//
// Several tasks may wait on the same fd: they share one AddReader
// registration, made by the first wait and removed when nobody waits any
// more; all are woken when the fd becomes readable. A task cancelled while
// it waits returns the cancellation (a *aio.CanceledError) and the
// registration stays consistent (removed if it was the last waiter).
//
// fd must not be watched with Loop.AddReader directly at the same time (the
// loop keeps one reader callback per fd), and must not be closed while a
// task waits on it. WaitReadable must be called from a task of the loop;
// it returns the loop's errors for an fd it cannot watch (EBADF, and EPERM
// for a regular file), wrapped.
func WaitReadable(c *aio.Ctx, fd int) error {
	return waitFD(c, fd, dirRead)
}

// WaitWritable is WaitReadable for writability (asyncio's add_writer).
func WaitWritable(c *aio.Ctx, fd int) error {
	return waitFD(c, fd, dirWrite)
}

func waitFD(c *aio.Ctx, fd int, dir int) error {
	var probe aio.WaitQueue // checks c before the registry is touched
	if err := probe.CheckTask(c); err != nil {
		return err
	}
	if fd < 0 {
		return fmt.Errorf("socket: fd %d: %w", fd, syscall.EBADF)
	}
	w, err := watcherFor(c, fd)
	if err != nil {
		return err
	}
	release := c.Loop().HoldClock() // see Socket.wait
	defer release()
	return w.wait(c, dir)
}

// noHold is the release of a wait that takes no clock hold.
func noHold() {}

// label names the waits on one side of w for the task dump: the fd and, for
// a socket, its addresses, read when a dump is made.
func (w *watcher) label(side string) *aio.WaitLabel {
	return &aio.WaitLabel{Kind: "socket", What: "fd " + strconv.Itoa(w.fd) + " " + side, Detail: func() string {
		stype, err := unix.GetsockoptInt(w.fd, unix.SOL_SOCKET, unix.SO_TYPE)
		if err != nil {
			return "" // not a socket
		}
		var local, remote net.Addr
		if sa, err := unix.Getsockname(w.fd); err == nil {
			local = toAddr(sa, stype)
		}
		if sa, err := unix.Getpeername(w.fd); err == nil {
			remote = toAddr(sa, stype)
		}
		switch {
		case local != nil && remote != nil:
			return local.String() + " -> " + remote.String()
		case local != nil:
			return local.String()
		}
		return ""
	}}
}
