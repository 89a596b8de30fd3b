// Package poll is the readiness poller under the aio event loop: a thin,
// level-triggered layer over epoll (Linux) or kqueue (macOS and the BSDs),
// plus a cross-goroutine wake-up.
//
// # Model
//
// A Poller belongs to one event loop. The loop goroutine (pinned to its
// thread with runtime.LockOSThread) registers interest in file descriptors
// with Add, Modify and Remove, and blocks only inside Wait. Any other
// goroutine that hands work to the loop publishes that work first and then
// calls Wake, which makes the loop's current or next Wait return.
//
// Readiness is level-triggered, like Python's selectors module and
// asyncio's add_reader/add_writer: an fd with interest in Read is reported
// by every Wait for as long as it is readable, not just once per edge. The
// caller therefore never needs to drain an fd completely, but it must drop
// interest (Modify or Remove) in a direction it no longer wants to hear
// about, or Wait will keep returning at once.
//
// # Goroutines
//
// Add, Modify, Remove, Wait and Close may only be called by the goroutine
// that owns the Poller (the loop goroutine), never concurrently with each
// other. Wake and WakeSyscalls may be called by any goroutine at any time,
// including concurrently with Wait and Close.
//
// # File descriptors
//
// The Poller does not own registered fds. A caller must Remove an fd before
// closing it, exactly as with selectors.BaseSelector.unregister: the kernel
// forgets a closed fd on its own only in some cases (always on kqueue; on
// epoll only once every duplicate of it is closed), and the Poller's own
// record of the fd would go stale, so that a new fd reusing the number
// could not be added. All fds the Poller creates itself are close-on-exec.
package poll

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Readiness poller (platform-independent part).
//
// This file keeps the fd table, the wake flag and the open/closed state. A
// particular implementation (epoll in poll_epoll.go; kqueue in poll_kqueue.go
// with the wake mechanism in poll_kqueue_event.go or poll_kqueue_pipe.go;
// poll_stub.go elsewhere) must define type pollerSys, the constant ctlOp
// (the syscall named in Add, Modify and Remove errors), and:
//
//	func (s *pollerSys) init() error
//	    Create the kernel poller and the wake mechanism, all close-on-exec,
//	    and register the wake mechanism with the kernel poller. On failure,
//	    release everything already created.
//
//	func (s *pollerSys) checkFD(fd int, ev Events) error
//	    Report an error if fd can never be registered: out of range, one of
//	    the Poller's own fds, or (only when ev == 0, because then no kernel
//	    call will validate it) not an open fd.
//
//	func (s *pollerSys) ctl(fd int32, id uint32, old, new Events) (Events, error)
//	    Change the interest the kernel holds for fd from old to new, under
//	    registration id (epoll carries it in every event of fd; see
//	    Poller.wait). With old == new != 0, make the kernel call anyway, so
//	    that a registration the kernel dropped is found: epoll then fails
//	    with ENOENT. Zero
//	    means "not registered with the kernel at all": an fd with an empty
//	    interest set is kept only in the Poller's table, so that epoll's
//	    always-on EPOLLHUP/EPOLLERR cannot make Wait spin for an fd nobody
//	    listens to. Return the interest the kernel actually holds afterwards:
//	    new on success, and on failure old or, if a multi-step change could
//	    not be rolled back, whatever is left.
//
//	func (p *Poller) wait(events []Event, timeout time.Duration) (int, error)
//	    Block in the kernel as Wait documents (len(events) > 0 and the Poller
//	    is open), mapping the kernel's error with p.waitErr so that EINTR
//	    becomes (0, nil). Report only registered fds, masked by their
//	    interest, each fd at most once. On seeing the wake event, drain the
//	    wake mechanism and only then call p.wakeConsumed. An event of a
//	    registration the Poller no longer holds (see StaleError) is not
//	    reported: purge the kernel of it and return a *StaleError with the
//	    events that are reported.
//
//	func (s *pollerSys) wakeup() error
//	    Make a blocked or future kernel wait return. Called by any goroutine
//	    with Poller.wakeMu held, once per wake-up in flight (Poller.wakeSig).
//
//	func (s *pollerSys) close() error
//	    Close every fd init created. Called once, with Poller.wakeMu held.
//
// epoll and kqueue share checkFD and Poller.waitErr in poll_unix.go.

// Events is a set of I/O directions: the interest registered for an fd, or
// the readiness reported for it.
type Events uint8

const (
	Read  Events = 1 << iota // interest in / readiness for reading
	Write                    // interest in / readiness for writing
)

// allEvents is every valid bit of an Events.
const allEvents = Read | Write

// String returns "0", "R", "W" or "RW", for test failures and debugging.
func (ev Events) String() string {
	switch ev {
	case 0:
		return "0"
	case Read:
		return "R"
	case Write:
		return "W"
	case Read | Write:
		return "RW"
	}
	return fmt.Sprintf("Events(%#x)", uint8(ev))
}

// Event reports the readiness of one fd, as filled in by Wait.
//
// Events is never empty and is always a subset of the fd's interest at the
// time of the Wait. Error and hang-up conditions (EPOLLERR, EPOLLHUP and
// EPOLLRDHUP on epoll; EV_EOF and EV_ERROR on kqueue) are not reported
// separately: they show up as readiness of the registered directions they
// concern, so that the caller's next read or write system call returns the
// error or end-of-file. Specifically, EPOLLERR and EPOLLHUP make every
// registered direction ready; EPOLLRDHUP (peer shut down writing) makes
// Read ready only, since writing may still succeed; on kqueue each filter
// reports its own direction, with or without EV_EOF/EV_ERROR.
//
// An fd appears at most once in the events filled by one Wait. On kqueue,
// where reading and writing are separate filters that the kernel reports
// separately, Wait merges the two into one Event.
type Event struct {
	FD     int32
	Events Events
}

// Poller waits for readiness of registered fds. Create one per event loop
// with New; the zero value is not usable (its methods report the Poller as
// closed). See the package documentation for which goroutine may call what.
type Poller struct {
	// Owned by the loop goroutine.
	sys    pollerSys // OS-specific kernel poller and wake mechanism
	fds    []fdState // registrations, indexed by fd
	gen    uint32    //lint:ignore U1000 number of the current wait, for merging per-fd events (kqueue)
	nextID uint32    // registration id of the latest Add

	// interrupts counts the Waits that a signal cut short (EINTR), so that
	// tests can tell them from early returns.
	interrupts uint64

	// Shared with goroutines calling Wake.
	state        atomic.Uint32 // stateNew, stateOpen or stateClosed
	wakeSig      atomic.Uint32 // 1 from a wake syscall until Wait consumes it; see Wake
	wakeSyscalls atomic.Uint64 // number of wake syscalls made, for tests and benchmarks
	wakeMu       sync.Mutex    // serializes the wake syscall with Close
}

// Poller states. The zero value is stateNew so that a Poller not made by New
// is treated like a closed one instead of polling fd 0.
const (
	stateNew uint32 = iota
	stateOpen
	stateClosed
)

// fdState is the Poller's record of one fd, kept by the loop goroutine.
type fdState struct {
	registered bool
	interest   Events // meaningful only if registered

	// id names this registration, so that an event of an earlier
	// registration of the same fd number, which the kernel may keep after
	// the fd was closed (see StaleError), is told from this one's. Never 0.
	id uint32

	// Scratch for merging two kqueue filters' events into one Event: the
	// wait (Poller.gen) in which fd was last reported, and its index in
	// that wait's events slice. Unused on epoll.
	gen  uint32 //lint:ignore U1000 the kqueue poller's (poll_kqueue.go)
	slot int32  //lint:ignore U1000 the kqueue poller's (poll_kqueue.go)
}

var (
	// errClosed is returned by every method of a closed Poller (or one not
	// made by New). It wraps os.ErrClosed.
	errClosed = fmt.Errorf("poll: use of closed Poller: %w", os.ErrClosed)

	// errNoEvents is returned by Wait when given no room for events: it
	// could then never report readiness of a level-triggered fd, and would
	// return at once forever.
	errNoEvents = errors.New("poll: Wait called with an empty events slice")
)

// New creates a Poller: a kernel poller (epoll or kqueue) and its wake
// mechanism (eventfd, EVFILT_USER or a pipe), all close-on-exec. On systems
// without an implementation it returns an error wrapping
// errors.ErrUnsupported. The caller must Close the Poller to release them.
func New() (*Poller, error) {
	p := new(Poller)
	if err := p.sys.init(); err != nil {
		return nil, err
	}
	p.state.Store(stateOpen)
	return p, nil
}

// Add registers fd with interest ev (Read, Write, both, or 0 to register
// without interest for now). It returns an error wrapping syscall.EEXIST if
// fd is already registered, EBADF if it is not an open fd, EINVAL for the
// Poller's own fds or bits other than Read|Write in ev, and the kernel's
// error otherwise, all as *os.SyscallError. Kernels differ on fds that are
// always ready, such as regular files: epoll refuses them (EPERM), kqueue
// accepts them. Loop goroutine only.
func (p *Poller) Add(fd int, ev Events) error {
	if p.state.Load() != stateOpen {
		return errClosed
	}
	if ev&^allEvents != 0 {
		return os.NewSyscallError(ctlOp, syscall.EINVAL)
	}
	if err := p.sys.checkFD(fd, ev); err != nil {
		return err
	}
	if p.lookup(fd) != nil {
		return os.NewSyscallError(ctlOp, syscall.EEXIST)
	}
	p.nextID++
	if p.nextID == 0 {
		p.nextID = 1
	}
	cur, err := p.sys.ctl(int32(fd), p.nextID, 0, ev)
	if err != nil && cur == 0 {
		return err
	}
	// On success cur == ev. If a failed kqueue Add could not be rolled back
	// completely, keep what the kernel holds on record so that Remove can
	// clean it up.
	st := p.grow(fd)
	*st = fdState{registered: true, interest: cur, id: p.nextID}
	return err
}

// Modify replaces the interest set of the registered fd with ev; ev == 0
// keeps fd registered with no interest, so Wait reports nothing for it, not
// even hang-ups. It returns an error wrapping syscall.ENOENT if fd is not
// registered. If the kernel rejects the change the old interest stays in
// effect, except on kqueue in the unlikely case that a half-applied change
// cannot be undone; Remove is always safe afterwards. Loop goroutine only.
//
// Modify makes the kernel call even when ev is the current interest, so
// that it also checks the registration: if fd was closed without Remove,
// the kernel has dropped it (and the number may now name another file), and
// on epoll Modify then fails with an error wrapping syscall.ENOENT (or
// EBADF if the number is free). The caller should then Remove fd, which
// succeeds in the Poller's table whatever the kernel says, and Add it again
// if it wants the file that now has the number.
func (p *Poller) Modify(fd int, ev Events) error {
	if p.state.Load() != stateOpen {
		return errClosed
	}
	if ev&^allEvents != 0 {
		return os.NewSyscallError(ctlOp, syscall.EINVAL)
	}
	st := p.lookup(fd)
	if st == nil {
		return os.NewSyscallError(ctlOp, syscall.ENOENT)
	}
	if st.interest == ev && ev == 0 {
		return nil // nothing in the kernel to check
	}
	cur, err := p.sys.ctl(int32(fd), st.id, st.interest, ev)
	st.interest = cur
	return err
}

// Remove unregisters fd. It returns an error wrapping syscall.ENOENT if fd
// is not registered. fd counts as unregistered afterwards even if the kernel
// reports an error (typically EBADF because fd was already closed, which on
// kqueue has removed it from the kernel anyway). Loop goroutine only.
func (p *Poller) Remove(fd int) error {
	if p.state.Load() != stateOpen {
		return errClosed
	}
	st := p.lookup(fd)
	if st == nil {
		return os.NewSyscallError(ctlOp, syscall.ENOENT)
	}
	_, err := p.sys.ctl(int32(fd), st.id, st.interest, 0)
	*st = fdState{}
	return err
}

// StaleError is returned by Wait when the kernel reported readiness for a
// registration that the Poller no longer holds. On epoll a registration
// belongs to the open file, not to the fd number: closing an fd removes it
// only once every duplicate of the fd (dup, fork, SCM_RIGHTS) is closed too,
// and then nothing can remove it, since epoll_ctl names it by an fd number
// that is gone or now names another file. Such a registration is reported
// for ever (level-triggered) and would make every Wait return at once. Wait
// does not report its events; it rebuilds the kernel poller from the
// Poller's table, which leaves the stale registration behind, and returns
// the events it does report together with this error, which names the fds.
type StaleError struct {
	FDs []int
}

// Error names the stale fds and what was done about them.
func (e *StaleError) Error() string {
	return fmt.Sprintf("poll: the kernel reported fds %v for registrations that were removed or whose fd was closed while registered (a duplicate of the fd keeps them alive); the kernel poller was rebuilt without them", e.FDs)
}

// registered returns the registered fds and their interest and ids, for
// rebuilding the kernel poller.
func (p *Poller) registered(yield func(fd int, st *fdState) bool) {
	for fd := range p.fds {
		if st := &p.fds[fd]; st.registered {
			if !yield(fd, st) {
				return
			}
		}
	}
}

// Wait blocks until at least one registered fd is ready for a direction it
// has interest in, Wake is called, or timeout passes, and fills events[:n]
// with the ready fds. A timeout < 0 blocks indefinitely and 0 polls without
// blocking. A positive timeout is rounded up to the kernel's resolution
// (milliseconds for epoll_wait) so that Wait never returns early because of
// rounding, and capped at about 11 days; since the timeout is also cut short
// by signals, callers must keep their own deadline and call Wait again.
//
// Wake-ups are consumed inside Wait and are not reported as events: a Wake
// makes Wait return, possibly with n == 0. If the wait is interrupted by a
// signal (EINTR), Wait returns (0, nil) and the caller just iterates again.
// If more fds are ready than fit in events, the rest are reported by later
// calls (the kernels rotate level-triggered fds, so none starves).
//
// len(events) must be at least 1. Wait returns an error wrapping
// os.ErrClosed after Close. Loop goroutine only.
func (p *Poller) Wait(events []Event, timeout time.Duration) (int, error) {
	if p.state.Load() != stateOpen {
		return 0, errClosed
	}
	if len(events) == 0 {
		return 0, errNoEvents
	}
	return p.wait(events, timeout)
}

// Wake makes the loop's Wait return: the one currently blocked, or else the
// next one, which then returns at once. Any goroutine may call it, any
// number of times. It returns an error wrapping os.ErrClosed after Close.
//
// Wake-ups are coalesced as in the runtime's netpollBreak: the first Wake
// sets p.wakeSig and makes the single wake syscall (an eventfd write,
// EVFILT_USER trigger or pipe write); every further Wake finds the flag set
// and returns without a syscall, until a Wait drains the wake mechanism and
// then clears the flag. A burst of Wake calls between two Waits thus costs
// at most one syscall.
//
// No wake-up is lost: a Wake that finds the flag set is ordered before the
// Wait's clearing of it, which comes before that Wait returns. So whatever
// the caller published before calling Wake is visible to the loop when it
// looks after Wait returns. The flip side is that one Wait return may
// answer many Wakes, and that any Wait consumes a pending wake-up, even
// Wait(0): the loop must drain all its pending work after every Wait.
func (p *Poller) Wake() error {
	if p.state.Load() != stateOpen {
		return errClosed
	}
	// Load before CompareAndSwap so that a burst of coalesced Wakes only
	// reads the shared cache line.
	if p.wakeSig.Load() != 0 || !p.wakeSig.CompareAndSwap(0, 1) {
		return nil // a wake-up is already in flight
	}
	p.wakeMu.Lock()
	defer p.wakeMu.Unlock()
	if p.state.Load() != stateOpen {
		return errClosed // Close ran between the checks; the fds are gone
	}
	p.wakeSyscalls.Add(1)
	if err := p.sys.wakeup(); err != nil {
		// Nothing will consume a wake-up, so let the next Wake try again
		// rather than coalescing into this failed one forever.
		p.wakeSig.Store(0)
		return err
	}
	return nil
}

// WakeSyscalls returns how many wake syscalls Wake has made over the
// Poller's life, for tests and benchmarks to check coalescing. Any
// goroutine may call it.
func (p *Poller) WakeSyscalls() uint64 {
	return p.wakeSyscalls.Load()
}

// Close releases the kernel poller and the wake mechanism. Registered fds
// are not closed. After Close every method returns an error wrapping
// os.ErrClosed, including a second Close. Close must be called by the loop
// goroutine, not while it is blocked in Wait; it is safe against concurrent
// Wake calls.
func (p *Poller) Close() error {
	if !p.state.CompareAndSwap(stateOpen, stateClosed) {
		return errClosed
	}
	p.wakeMu.Lock()
	defer p.wakeMu.Unlock()
	p.fds = nil
	return p.sys.close()
}

// wakeConsumed records that wait has drained the wake mechanism, so that
// the next Wake makes a syscall again. It must come after the drain: the
// other order would let a Wake signal between the two, have its signal
// drained, and leave the flag set with nothing pending, losing every later
// Wake. It runs in any Wait, blocking or not; with a single waiter there is
// no other poller that a non-blocking poll could steal the wake-up from.
func (p *Poller) wakeConsumed() {
	p.wakeSig.Store(0)
}

// lookup returns fd's registration, or nil if fd is not registered.
func (p *Poller) lookup(fd int) *fdState {
	if fd < 0 || fd >= len(p.fds) || !p.fds[fd].registered {
		return nil
	}
	return &p.fds[fd]
}

// grow returns fd's table entry, extending the table if needed. The table
// is dense, like the runtime's and libuv's: only fds the kernel has accepted
// (or checkFD has seen open) reach here, and the kernel bounds open fds by
// RLIMIT_NOFILE.
func (p *Poller) grow(fd int) *fdState {
	if fd >= len(p.fds) {
		n := max(fd+1, 2*len(p.fds), 64)
		fds := make([]fdState, n)
		copy(fds, p.fds)
		p.fds = fds
	}
	return &p.fds[fd]
}

// Caps on the timeout given to the kernel. Like the runtime, wait at most
// about 11.6 days at a time: epoll_wait takes an int of milliseconds, and
// Darwin's kevent returns EINVAL for very long timeouts.
const (
	maxWaitMillis = 1e9
	maxWaitNanos  = 1e6 * int64(time.Second)
)

// timeoutMillis converts a Wait timeout to epoll_wait's: -1 for forever, 0
// for a poll, and otherwise whole milliseconds rounded up (so 0.3ms waits 1ms
// rather than spinning) and capped at maxWaitMillis.
func timeoutMillis(d time.Duration) int {
	switch {
	case d < 0:
		return -1
	case d == 0:
		return 0
	}
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	return int(min(ms, maxWaitMillis))
}

// timeoutNanos converts a Wait timeout to kevent's: -1 for forever (a nil
// timespec), and otherwise nanoseconds capped at maxWaitNanos.
func timeoutNanos(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return min(int64(d), maxWaitNanos)
}

// OwnFDs returns the descriptors the Poller made for itself (the kernel
// poller and the wake mechanism's), for tests and diagnostics. Loop
// goroutine only.
func (p *Poller) OwnFDs() []int { return p.sys.ownFDs() }
