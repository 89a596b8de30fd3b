//go:build linux

package subprocess

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aiogo/aio/aio"
	"golang.org/x/sys/unix"
)

// pidfdMode is the run-time choice of the exit watch: 0 not probed yet, 1
// pidfd, 2 the fallback. Tests force it with export_test.go.
var pidfdMode atomic.Int32

var probeOnce sync.Once

// pidfdSupported reports whether children are watched with a pidfd: Linux
// 5.3 or later, where pidfd_open exists and a pidfd is pollable.
func pidfdSupported() bool {
	probeOnce.Do(func() {
		if pidfdMode.Load() != 0 {
			return
		}
		fd, err := unix.PidfdOpen(os.Getpid(), 0)
		if err != nil {
			pidfdMode.CompareAndSwap(0, 2)
			return
		}
		unix.Close(fd)
		pidfdMode.CompareAndSwap(0, 1)
	})
	return pidfdMode.Load() == 1
}

// closeReapTimeout bounds the wait, when the loop closes, for a killed
// child to exit.
const closeReapTimeout = 5 * time.Second

// A Process is a started child (asyncio's Process). Its pipes are the
// Stdin, Stdout and Stderr fields for the streams started as Pipe, nil for
// the others. Its methods, but Pid, Signal, Terminate and Kill, must be
// called from a task of the loop it was started on.
type Process struct {
	// Stdin is the writing end of the child's standard input, or nil.
	Stdin *Writer
	// Stdout and Stderr are the reading ends of the child's outputs, or
	// nil.
	Stdout, Stderr *Reader

	loop  *aio.Loop
	pid   int
	pidfd int // -1 in the fallback
	name  string
	done  *aio.Future[struct{}]

	mu      sync.Mutex // guards reaped and the status, for Signal and the fallback
	reaped  bool
	status  *ExitStatus
	waitErr error

	exitedCh     chan struct{} // fallback: closed when the child has exited (not yet reaped)
	registered   bool          // in its loop's registry (see register)
	untrack      func()        // ends the loop's debug-mode tracking (aio.Loop.TrackResource), while registered
	pidfdWatched bool
}

func newProcess(l *aio.Loop, pid, pidfd int, name string) *Process {
	return &Process{loop: l, pid: pid, pidfd: pidfd, name: name, done: aio.NewFuture[struct{}](l)}
}

// Pid returns the child's process id. Any goroutine.
func (p *Process) Pid() int { return p.pid }

// String names the process, for messages.
func (p *Process) String() string { return fmt.Sprintf("process %d (%s)", p.pid, p.name) }

// watch starts the watch of the child's exit, and registers the close hook.
// Loop goroutine.
func (p *Process) watch() {
	if p.pidfd >= 0 {
		if err := p.loop.AddReader(p.pidfd, p.onExit); err == nil {
			p.pidfdWatched = true
		} else {
			// Not pollable after all: watch it from a goroutine.
			unix.Close(p.pidfd)
			p.pidfd = -1
		}
	}
	if p.pidfd < 0 {
		p.exitedCh = make(chan struct{})
		go p.waitExit()
	}
	p.register()
}

// waitExit is the fallback: a goroutine that waits for the child's exit
// without reaping it (waitid WNOWAIT), so that its pid stays the child's
// (a zombie) until the loop reaps it, and Signal never hits another
// process.
func (p *Process) waitExit() {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		break
	}
	close(p.exitedCh)
	if _, err := p.loop.CallSoon(p.onExit); err != nil {
		// The loop is closed: nobody waits; reap it here (its close
		// hook may have timed out waiting for this exit).
		p.reap()
	}
}

// reap reaps the child if it has exited and is not reaped yet, recording
// its status; it reports whether the child is reaped now. Any goroutine.
func (p *Process) reap() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return true
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		wpid, err := syscall.Wait4(p.pid, &ws, syscall.WNOHANG, &ru)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			// ECHILD: somebody else reaped it (a wait4(-1) elsewhere).
			p.reaped = true
			p.waitErr = fmt.Errorf("subprocess: wait for %v: %w", p, os.NewSyscallError("wait4", err))
			return true
		}
		if wpid == 0 {
			return false
		}
		break
	}
	p.reaped = true
	p.status = &ExitStatus{Pid: p.pid, ws: ws, Rusage: ru}
	return true
}

// onExit runs on the loop when the child has exited (its pidfd is readable,
// or the fallback's goroutine saw its exit): it reaps it and completes the
// future Wait awaits.
func (p *Process) onExit() {
	if !p.reap() {
		return // a spurious wake-up: level-triggered, it comes again
	}
	p.finish()
}

// finish releases the exit watch and the close hook and completes done.
// Loop goroutine, or the close hook.
func (p *Process) finish() {
	if p.pidfd >= 0 {
		if p.pidfdWatched {
			p.loop.RemoveReader(p.pidfd)
			p.pidfdWatched = false
		}
		p.mu.Lock()
		unix.Close(p.pidfd)
		p.pidfd = -1
		p.mu.Unlock()
	}
	p.maybeUnhook()
	if !p.done.IsDone() {
		p.done.SetResult(struct{}{})
	}
}

// The close hooks: one per loop that has children, which closes the pipes
// and kills and reaps the children left when the loop closes. A Process is
// in its loop's registry from its Start until it is reaped and its pipes
// are closed; the registry (an aio.LoopValue, with its hook) is made with
// the first child and deleted with the last, so that a loop that had
// children keeps nothing of them, and the hook takes its place among the
// loop's close hooks with the next child, as OnClose orders them. Loop
// goroutine only.
var regs *aio.LoopValue[registry]

func init() {
	// In init: closeLoop refers to regs (through maybeUnhook).
	regs = aio.NewLoopValue(func(*aio.Loop) (*registry, error) {
		return &registry{procs: map[*Process]struct{}{}}, nil
	}, closeLoop)
}

type registry struct {
	procs map[*Process]struct{}
}

// register puts p in its loop's registry, and the loop's close hook in
// place with the first child.
func (p *Process) register() {
	r, err := regs.Get(p.loop)
	if err != nil {
		return // closing: the caller's task is the last; nothing to do
	}
	r.procs[p] = struct{}{}
	p.registered = true
	p.untrack = p.loop.TrackResource("subprocess", p.String)
}

// maybeUnhook takes p out of the registry once the close hook has nothing
// left to do for it: the child is reaped and every pipe is closed. Until
// then it stays, so that the pipes of a dropped handle are closed when the
// loop closes. The loop's hook goes with its last child.
func (p *Process) maybeUnhook() {
	if !p.registered || p.pidfd >= 0 {
		return
	}
	p.mu.Lock()
	reaped := p.reaped
	p.mu.Unlock()
	if !reaped {
		return
	}
	if p.Stdin != nil && p.Stdin.fd >= 0 || p.Stdout != nil && p.Stdout.fd >= 0 || p.Stderr != nil && p.Stderr.fd >= 0 {
		return
	}
	p.registered = false
	p.untrack()
	r, ok := regs.Lookup(p.loop)
	if !ok {
		return // the close hook has taken the registry
	}
	delete(r.procs, p)
	if len(r.procs) == 0 {
		regs.Delete(p.loop)
	}
}

// closeLoop is the close hook of a loop with children: it closes their
// pipes, kills those still running with SIGKILL, and reaps them, waiting
// for them all up to closeReapTimeout. Past that (a child stuck in the
// kernel), a goroutine reaps each one left when it exits.
func closeLoop(l *aio.Loop, r *registry) {
	var running []*Process
	for p := range r.procs {
		p.registered = false
		for _, rd := range []*Reader{p.Stdout, p.Stderr} {
			if rd != nil {
				rd.release(l)
			}
		}
		if p.Stdin != nil {
			p.Stdin.release(l)
		}
		if p.reap() {
			p.finish()
			continue
		}
		p.Kill()
		running = append(running, p)
	}
	deadline := time.Now().Add(closeReapTimeout)
	for _, p := range running {
		p.awaitExit(deadline)
		if p.reap() {
			p.pidfdWatched = false // the loop is closed: its poller forgets the fd
			p.finish()
			continue
		}
		p.reapLater()
	}
}

// awaitExit waits, blocking, until p's child has exited or deadline.
func (p *Process) awaitExit(deadline time.Time) {
	if p.pidfd < 0 {
		select {
		case <-p.exitedCh:
		case <-time.After(time.Until(deadline)):
		}
		return
	}
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms <= 0 {
			return
		}
		fds := []unix.PollFd{{Fd: int32(p.pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if n > 0 || err != nil {
			return
		}
	}
}

// reapLater leaves the reaping of a child that outlived the close's wait to
// a goroutine (in the fallback, waitExit's goroutine does it).
func (p *Process) reapLater() {
	if p.pidfd < 0 {
		return
	}
	p.pidfdWatched = false
	p.mu.Lock()
	fd := p.pidfd
	p.pidfd = -1 // Signal falls back to kill(2): the pid is ours till reaped
	p.mu.Unlock()
	go func() {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err != unix.EINTR {
				break
			}
		}
		p.reap()
		unix.Close(fd)
	}()
}

// Wait waits for the child to exit and returns its status (asyncio's
// Process.wait). The error is nil for an exit with code 0, an *ExitError
// (which carries the same status) for another code or a signal, the task's
// cancellation (the child runs on; Wait again later), or an error of the
// system's wait. Wait does not close the pipes: read what the child wrote
// first (or use Communicate), since a child blocked writing to a full pipe
// never exits.
//
// The child is reaped when it exits whether or not anyone calls Wait, so
// the status is there for any number of Waits, and no zombie is left.
func (p *Process) Wait(c *aio.Ctx) (*ExitStatus, error) {
	if _, err := aio.Await(c, p.done); err != nil {
		return nil, err
	}
	p.mu.Lock()
	st, err := p.status, p.waitErr
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if !st.Success() {
		return st, &ExitError{ExitStatus: st}
	}
	return st, nil
}

// Exited reports whether the child has exited and been reaped, and its
// status then (nil before). Any goroutine.
func (p *Process) Exited() (*ExitStatus, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status, p.reaped
}

// Signal sends sig to the child. Once the child is reaped it returns an
// error matching os.ErrProcessDone and sends nothing, so that a signal
// never reaches another process that took over the pid (with a pidfd the
// kernel sees to that; in the fallback the child is reaped only by the
// loop, under the same lock). Any goroutine.
func (p *Process) Signal(sig os.Signal) error {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("subprocess: Signal(%v): %w", sig, errors.ErrUnsupported)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.reaped {
		return fmt.Errorf("subprocess: signal %v to %v: %w", sig, p, os.ErrProcessDone)
	}
	var err error
	if p.pidfd >= 0 {
		err = unix.PidfdSendSignal(p.pidfd, s, nil, 0)
	} else {
		err = syscall.Kill(p.pid, s)
	}
	if err == syscall.ESRCH {
		// Exited, not reaped yet: as good as done.
		return fmt.Errorf("subprocess: signal %v to %v: %w", sig, p, os.ErrProcessDone)
	}
	if err != nil {
		return fmt.Errorf("subprocess: signal %v to %v: %w", sig, p, err)
	}
	return nil
}

// Terminate sends SIGTERM (asyncio's Process.terminate).
func (p *Process) Terminate() error { return p.Signal(syscall.SIGTERM) }

// Kill sends SIGKILL (asyncio's Process.kill).
func (p *Process) Kill() error { return p.Signal(syscall.SIGKILL) }

// An ExitStatus is how a child ended.
type ExitStatus struct {
	// Pid is the child's process id.
	Pid int
	// Rusage is the child's resource usage, from wait4.
	Rusage syscall.Rusage
	ws     syscall.WaitStatus
}

// Exited reports whether the child exited (rather than being killed by a
// signal).
func (s *ExitStatus) Exited() bool { return s.ws.Exited() }

// ExitCode returns the child's exit code, or -1 if a signal killed it (as
// os.ProcessState.ExitCode).
func (s *ExitStatus) ExitCode() int {
	if !s.ws.Exited() {
		return -1
	}
	return s.ws.ExitStatus()
}

// Signaled reports whether a signal killed the child, and which.
func (s *ExitStatus) Signaled() (syscall.Signal, bool) {
	if s.ws.Signaled() {
		return s.ws.Signal(), true
	}
	return 0, false
}

// ReturnCode is asyncio's returncode: the exit code, or minus the number of
// the signal that killed the child.
func (s *ExitStatus) ReturnCode() int {
	if sig, ok := s.Signaled(); ok {
		return -int(sig)
	}
	return s.ExitCode()
}

// CoreDumped reports whether the child dumped core.
func (s *ExitStatus) CoreDumped() bool { return s.ws.CoreDump() }

// Success reports whether the child exited with code 0.
func (s *ExitStatus) Success() bool { return s.ws.Exited() && s.ws.ExitStatus() == 0 }

// Sys returns the raw wait status.
func (s *ExitStatus) Sys() syscall.WaitStatus { return s.ws }

// String describes the status as os/exec does: "exit status 3", "signal:
// killed".
func (s *ExitStatus) String() string {
	if sig, ok := s.Signaled(); ok {
		str := "signal: " + sig.String()
		if s.ws.CoreDump() {
			str += " (core dumped)"
		}
		return str
	}
	return fmt.Sprintf("exit status %d", s.ExitCode())
}

// An ExitError is Wait's error for a child that did not succeed: an exit
// code other than 0 or a signal (os/exec's ExitError).
type ExitError struct {
	*ExitStatus
}

// Error is the exit status, as os/exec's ExitError prints it.
func (e *ExitError) Error() string { return e.ExitStatus.String() }
