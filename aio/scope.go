package aio

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Cancel scopes, timeouts and deadlines: trio's CancelScope on asyncio's
// machine (cancel.go).
//
// A Scope is a region of one task's body, entered and left by WithScope (or
// WithTimeout, WithDeadline, which are scopes with a deadline). Cancelling a
// scope (Scope.Cancel, or its deadline passing) is a cancellation request
// aimed at the scope: it is counted in the task's cancel requests (as a
// timeout in asyncio calls task.cancel), delivered once, at the first
// suspension point inside the scope that no shield keeps it from, as a
// *CanceledError that knows its scope, and withdrawn when the scope ends.
// When that error comes back out of the body, the scope absorbs it (a
// WithScope returns nil, a WithTimeout returns ErrTimeout) unless a request
// from outside the scope is pending too: then the outside one wins and
// propagates as the cancellation it is (CPython's gh-86296 class of bug: a
// timeout that swallowed a cancellation). A shielded scope keeps requests
// aimed outside it from being delivered inside it until it ends.
//
// Each Scope is itself a waker (wait.go): its deadline is a timer whose
// waker it is.

// ErrTimeout is the error a timeout returns when its deadline passed first
// (WithTimeout, WithDeadline, WaitFor). It matches context.DeadlineExceeded
// under errors.Is, and not context.Canceled: code that stops on a
// cancellation does not mistake a timeout for one.
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string        { return "aio: timeout" }
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// Timeout reports true, as net.Error's does.
func (timeoutError) Timeout() bool { return true }

// errDeadline is the cause of the cancellation a scope's deadline makes. It
// is not ErrTimeout: inside the scope the cancellation is a cancellation,
// and only the scope that set the deadline turns it into a timeout, so that
// a nested timeout does not take an enclosing one's expiry for its own.
var errDeadline = errors.New("aio: deadline passed")

// ErrScopeEnded is returned (wrapped) when a Scope is used after it ended,
// or from another task than its own, and when a deadline is moved after it
// passed.
var ErrScopeEnded = errors.New("aio: cancel scope has ended")

// A Scope is a cancel scope: a region of a task's body, made by WithScope,
// WithTimeout or WithDeadline, whose work can be cancelled as a whole, given
// a deadline that can be moved, and shielded from cancellations from
// outside. Its methods may be called from the loop goroutine and its tasks,
// not only the scope's own task; Cancel also from other goroutines.
type Scope struct {
	c         *Ctx
	parent    *Scope
	shield    bool
	requested bool           // cancelled: a request counted in c.cancelRequests
	delivered bool           // ... delivered at a suspension point in the scope
	err       *CanceledError // the cancellation delivered
	outer     *CanceledError // the first cancellation aimed outside it that was delivered inside it
	timer     *callback      // the deadline's timer, nil if none
	deadline  int64
	expired   bool
	ended     bool
	exposed   bool // the program holds a pointer to it (Ctx.Scope, WithScope)

	ctx       context.Context         // made by the first Ctx.Context inside it (context.go)
	ctxCancel context.CancelCauseFunc // ... and its cancel
}

// scopePool keeps the scopes that ended without the program ever seeing
// them and without a cancellation (which a *CanceledError would remember
// them by): a WithTimeout that neither fires nor calls Ctx.Scope, the usual
// case, allocates nothing. Loop goroutine only.
type scopePool struct {
	free []*Scope
}

// maxPooledScopes bounds the pool: scopes are held one task at a time, a
// few deep.
const maxPooledScopes = 64

func (p *scopePool) get() *Scope {
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		s.ended = false
		return s
	}
	return new(Scope)
}

func (p *scopePool) put(s *Scope) {
	if s.exposed || s.requested || len(p.free) == maxPooledScopes {
		return
	}
	*s = Scope{ended: true} // for the leaveOnPanic deferred in its opener
	p.free = append(p.free, s)
}

// WithScope runs body in a new cancel scope s of the calling task and
// returns body's error, except that the scope's own cancellation (s.Cancel,
// or the passing of a deadline set with s.SetDeadline) coming out of body
// is absorbed: WithScope then returns nil, and s.Canceled (and s.Expired for
// a deadline) say what happened (trio's CancelScope, move_on_after). A
// cancellation from outside the scope is never absorbed: it propagates, also
// when it arrives together with the scope's own.
//
// WithScope returns an error matching ErrNotInTask if c is not the running
// task's Ctx, ErrNilFunc for a nil body, and the task's pending cancellation
// (delivered at once, as at any suspension point) if it has one.
func WithScope(c *Ctx, body func(s *Scope) error) error {
	s, err := enterScope(c, "WithScope", body == nil)
	if err != nil {
		return err
	}
	s.exposed = true
	defer s.leaveOnPanic()
	return s.exit(body(s), false)
}

// WithTimeout runs body in a cancel scope with a deadline d from now on the
// loop's clock. If the deadline passes first, body's suspension point gets
// the scope's cancellation (a *CanceledError, which does not match
// ErrTimeout: an enclosing timeout's expiry is not this one's), and
// when it comes back out of body WithTimeout returns ErrTimeout, which
// matches context.DeadlineExceeded and not context.Canceled (asyncio's
// timeout, trio's fail_after). Otherwise it returns body's error; a result
// body produced is never lost to the deadline. A zero or negative d expires
// at once: body's first suspension point gets the cancellation.
//
// Inside body, c.Scope() is the timeout's scope: it can move the deadline
// (SetDeadline, SetTimeout) and tell whether it expired. Errors as for
// WithScope.
func WithTimeout(c *Ctx, d time.Duration, body func(*Ctx) error) error {
	s, err := enterScope(c, "WithTimeout", body == nil)
	if err != nil {
		return err
	}
	defer s.leaveOnPanic()
	s.setDeadline(c.loop().timers.after(d), d <= 0)
	return s.exit(body(c), true)
}

// WithDeadline is WithTimeout with a deadline t on the loop's clock (see
// Loop.Now). A time in the past expires at once.
func WithDeadline(c *Ctx, t time.Time, body func(*Ctx) error) error {
	s, err := enterScope(c, "WithDeadline", body == nil)
	if err != nil {
		return err
	}
	defer s.leaveOnPanic()
	l := c.loop()
	when := l.timers.at(t)
	s.setDeadline(when, when <= l.timers.now())
	return s.exit(body(c), true)
}

// Scope returns the innermost cancel scope the task's body is in, or nil.
// Loop goroutine and its tasks only.
func (c *Ctx) Scope() *Scope {
	if c.x == nil || c.x.scope == nil {
		return nil
	}
	c.x.scope.exposed = true
	return c.x.scope
}

// enterScope opens a scope of c's task, innermost.
func enterScope(c *Ctx, fn string, nilBody bool) (*Scope, error) {
	if err := c.check(fn); err != nil {
		return nil, err
	}
	if nilBody {
		return nil, ErrNilFunc
	}
	// Entering a scope is not a suspension point: a pending cancellation
	// waits for the next one (so cleanup code can enter a shielded scope).
	x := c.extra()
	s := c.loop().scopes.get()
	s.c, s.parent = c, x.scope
	x.scope = s
	return s, nil
}

// exit ends s with body's error err and returns what the scope returns.
func (s *Scope) exit(err error, timeout bool) error {
	l := s.c.loop()
	err = s.end(err, timeout)
	l.scopes.put(s)
	return err
}

func (s *Scope) end(err error, timeout bool) error {
	c := s.c
	s.ended = true
	if s.timer != nil {
		c.loop().timers.remove(s.timer)
		c.loop().pool.put(s.timer)
		s.timer = nil
	}
	if c.x.scope != s {
		// A scope ends only through the function that opened it, which
		// returns after the body's inner scopes have ended.
		panic("aio: cancel scopes ended out of order")
	}
	c.x.scope = s.parent
	if s.ctxCancel != nil {
		s.ctxCancel(errScopeEnded)
		s.ctx, s.ctxCancel = nil, nil
	}
	if s.requested && c.cancelRequests > 0 {
		c.cancelRequests-- // our request is withdrawn, delivered or not
	}
	if ce := asCanceled(err); ce == nil || ce.scope != s {
		return err // not ours: the body's error, success, or another's cancellation
	}
	// Our own cancellation came out of the body. A request from outside
	// wins: one pending now, or one delivered inside the body that the body
	// lost (handled, or returned our cancellation in its place). It goes on
	// as the cancellation it is (asyncio counts requests for the same end).
	if out := c.takeCancel(); out != nil {
		return out
	}
	if s.outer != nil {
		return s.outer
	}
	if timeout && s.expired {
		return ErrTimeout
	}
	return nil
}

// leaveOnPanic ends s if its body did not return (a panic or a
// runtime.Goexit goes through), so that the task's scopes stay in order for
// whoever recovers.
func (s *Scope) leaveOnPanic() {
	if !s.ended {
		s.exit(nil, false)
	}
}

// Cancel cancels the scope with cause (context.Canceled if nil): the first
// suspension point inside it (the one the task is suspended in, if it is in
// the scope) returns a *CanceledError whose cause is cause, and when that
// error comes back out of the scope's body the scope absorbs it. Cancelling
// a cancelled or ended scope does nothing. Cancel may be called from any
// goroutine; from another goroutine it travels through the loop's door.
func (s *Scope) Cancel(cause error) {
	l := s.c.loop()
	if !l.onLoop() {
		l.post(func() { s.cancel(cause) })
		return
	}
	s.cancel(cause)
}

func (s *Scope) cancel(cause error) {
	if s.ended || s.requested {
		return
	}
	c := s.c
	s.requested = true
	s.err = canceled(cause)
	s.err.scope = s
	c.cancelRequests++
	if s.ctxCancel != nil {
		s.ctxCancel(s.ctxCause())
	}
	c.interrupt(s)
}

// wake is the scope's side of the waker contract: its deadline has passed.
func (s *Scope) wake(l *Loop) {
	l.pool.put(s.timer)
	s.timer = nil
	s.expired = true
	s.cancel(errDeadline)
}

// Canceled reports whether the scope has been cancelled (by Cancel or by its
// deadline). Loop goroutine and its tasks only.
func (s *Scope) Canceled() bool {
	s.c.mustBeOnLoop("Scope.Canceled")
	return s.requested
}

// Expired reports whether the scope's deadline passed while it was open. It
// stays true after the scope ended, also when the body handled the
// cancellation and returned normally. Loop goroutine and its tasks only.
func (s *Scope) Expired() bool {
	s.c.mustBeOnLoop("Scope.Expired")
	return s.expired
}

// Deadline returns the scope's deadline on the loop's clock, and false if it
// has none. Loop goroutine and its tasks only.
func (s *Scope) Deadline() (time.Time, bool) {
	s.c.mustBeOnLoop("Scope.Deadline")
	if s.timer == nil && !s.expired {
		return time.Time{}, false
	}
	return s.c.loop().timers.timeAt(s.deadline), true
}

// SetDeadline gives the scope the deadline t on the loop's clock, replacing
// the one it had (asyncio's Timeout.reschedule). A time in the past expires
// the scope at once. It returns an error matching ErrScopeEnded if the
// scope has ended or its deadline has already passed. Loop goroutine and its
// tasks only.
func (s *Scope) SetDeadline(t time.Time) error {
	s.c.mustBeOnLoop("Scope.SetDeadline")
	if err := s.movable(); err != nil {
		return err
	}
	l := s.c.loop()
	when := l.timers.at(t)
	s.setDeadline(when, when <= l.timers.now())
	return nil
}

// SetTimeout is SetDeadline with a deadline d from now.
func (s *Scope) SetTimeout(d time.Duration) error {
	s.c.mustBeOnLoop("Scope.SetTimeout")
	if err := s.movable(); err != nil {
		return err
	}
	s.setDeadline(s.c.loop().timers.after(d), d <= 0)
	return nil
}

func (s *Scope) movable() error {
	switch {
	case s.ended:
		return fmt.Errorf("%w: deadline of a scope that has ended", ErrScopeEnded)
	case s.expired:
		return fmt.Errorf("%w: the scope's deadline has passed already", ErrScopeEnded)
	}
	return nil
}

// setDeadline (re)arms the scope's timer at when, or expires it now.
func (s *Scope) setDeadline(when int64, now bool) {
	l := s.c.loop()
	s.deadline = when
	if s.timer != nil {
		l.timers.remove(s.timer)
	} else {
		s.timer = l.pool.get(l, nil)
	}
	if now {
		l.pool.put(s.timer)
		s.timer = nil
		s.expired = true
		s.cancel(errDeadline)
		return
	}
	l.timers.add(s.timer, when, s)
}

// SetShield sets whether the scope is shielded: while it is, cancellations
// aimed outside it (at the task, or at enclosing scopes) are not delivered
// inside it; they wait, and the first suspension point after the scope ends
// (or after the shield is lowered) delivers them. The scope's own
// cancellation, and its deadline, still apply inside it. Loop goroutine and
// its tasks only.
func (s *Scope) SetShield(shield bool) {
	s.c.mustBeOnLoop("Scope.SetShield")
	s.shield = shield
	if c := s.c; !shield && !s.ended && c.state == taskSuspended && c.cancelPending() {
		// What waited outside the shield is deliverable now, where the
		// task is parked (the scope was lowered by another task).
		c.interrupt(nil)
	}
}

// Shielded reports whether the scope is shielded. Loop goroutine and its
// tasks only.
func (s *Scope) Shielded() bool {
	s.c.mustBeOnLoop("Scope.Shielded")
	return s.shield
}

// Shielded runs body in a shielded cancel scope (see Scope.SetShield): the
// cancellations of the task from outside wait until body returns. Errors as
// for WithScope.
func Shielded(c *Ctx, body func(*Ctx) error) error {
	s, err := enterScope(c, "Shielded", body == nil)
	if err != nil {
		return err
	}
	defer s.leaveOnPanic()
	s.shield = true
	return s.exit(body(c), false)
}
