package aio

import (
	"context"
	"errors"
	"fmt"
)

// Contexts both ways. A task's Ctx gives a context.Context that is done
// when the task (or the cancel scope the body is in) is cancelled, so that
// executor functions and ordinary Go libraries see the cancellation; a task
// waits for an outside context with AwaitContext; a task spawned
// WithContext is cancelled when its parent context is done. Nothing is made
// for a task that never asks: the contexts are made at the first call of
// Ctx.Context, and the parent is watched with context.AfterFunc, which
// starts no goroutine until it fires.

// errTaskEnded is the cause of a task's context once the task has ended.
var errTaskEnded = errors.New("aio: the task has ended")

// errScopeEnded is the cause of a scope's context once the scope has ended.
var errScopeEnded = errors.New("aio: the cancel scope has ended")

// WithContext ties the new task to ctx: when ctx is done the task is
// cancelled with context.Cause(ctx) as the cause (at once if ctx is done
// already when the task starts), and the task's Ctx.Context derives from
// ctx, so its values reach the task's callees. The watch costs no
// goroutine (context.AfterFunc) and ends with the task.
func WithContext(ctx context.Context) TaskOption {
	return func(c *taskConfig) { c.parent = ctx }
}

// Context returns a context.Context for the code the task calls: it is done
// when a cancellation reaches the innermost cancel scope the task's body is
// in (Task.Cancel, the scope's or an enclosing scope's Cancel or deadline,
// a group cancelling its children), with context.Canceled as its Err and
// the cancellation's cause as its context.Cause (ErrTimeout for a passed
// deadline, which matches context.DeadlineExceeded under errors.Is). A
// shielded scope's context is not done by cancellations from outside it.
// The context carries the values of the parent given with WithContext, and
// is done too when that parent is.
//
// Ask for it where it is used: the context of a scope is done, with a cause
// saying so, once the scope has ended, and the task's once the task has
// ended, as a request's context is once its handler returns. A cancellation
// withdrawn with Task.Uncancel leaves the task's context done; the next call
// returns a new one. A context made before Scope.SetShield changed the
// shield keeps the shield it was made with.
//
// The contexts are made at the first call and cost nothing before. Context
// must be called in the task of c (it panics with an error matching
// ErrNotInTask elsewhere); the context itself may go to any goroutine.
func (c *Ctx) Context() context.Context {
	if err := c.check("Ctx.Context"); err != nil {
		if errors.Is(err, ErrClosed) {
			ctx, cancel := context.WithCancelCause(context.Background())
			cancel(ErrClosed)
			return ctx
		}
		panic(err)
	}
	return c.scopeContext(c.extra().scope)
}

// scopeContext returns the context of scope s of c (nil: the task's own),
// making it and those of the enclosing scopes on first use.
func (c *Ctx) scopeContext(s *Scope) context.Context {
	if s == nil {
		return c.taskContext()
	}
	if s.ctx == nil {
		parent := c.scopeContext(s.parent)
		if s.shield {
			parent = context.WithoutCancel(parent)
		}
		s.ctx, s.ctxCancel = context.WithCancelCause(parent)
		if s.requested {
			s.ctxCancel(s.ctxCause())
		}
	}
	return s.ctx
}

// taskContext returns the task's own context, made on first use, or anew
// if the one made before is done by a cancellation since withdrawn.
func (c *Ctx) taskContext() context.Context {
	x := c.extra()
	if x.ctx != nil && (x.ctx.Err() == nil || c.cancelRequests > 0 || c.mustCancel) {
		return x.ctx
	}
	parent := x.parent
	if parent == nil {
		parent = context.Background()
	}
	x.ctx, x.ctxCancel = context.WithCancelCause(parent)
	if c.cancelRequests > 0 && x.cancelErr != nil {
		x.ctxCancel(x.cancelErr.Cause)
	}
	return x.ctx
}

// ctxCause is the cause a scope's context is cancelled with.
func (s *Scope) ctxCause() error {
	if s.expired {
		return ErrTimeout
	}
	return s.err.Cause
}

// watchParent starts the watch of the task's parent context, if it was
// spawned WithContext. Loop goroutine, when the task is registered.
func (c *Ctx) watchParent() {
	x := c.x
	if x == nil || x.parent == nil {
		return
	}
	parent, impl := x.parent, c.impl
	x.stopParent = context.AfterFunc(parent, func() { impl.Cancel(context.Cause(parent)) })
}

// endContexts releases what the task's contexts hold: the parent's watch
// and the context made for the task. Loop goroutine, when the task ends.
func (c *Ctx) endContexts() {
	x := c.x
	if x == nil {
		return
	}
	if x.stopParent != nil {
		x.stopParent()
		x.stopParent = nil
	}
	if x.ctxCancel != nil {
		x.ctxCancel(errTaskEnded)
		x.ctxCancel = nil
	}
}

// AwaitContext suspends the calling task until ctx is done, and returns
// context.Cause(ctx) (at once, without suspending, if ctx is done already).
// If the task is cancelled first, it returns the task's cancellation (a
// *CanceledError) and stops watching ctx. To tell the two apart, look at
// ctx.Err(): it is nil if ctx is not done. The watch costs no goroutine
// until ctx is done (context.AfterFunc). It returns an error matching
// ErrNilContext for a nil ctx, and the errors of Await for misuse.
func AwaitContext(c *Ctx, ctx context.Context) error {
	if err := c.check("AwaitContext"); err != nil {
		return err
	}
	if ctx == nil {
		return fmt.Errorf("%w: AwaitContext", ErrNilContext)
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	f := NewFuture[struct{}](c.loop())
	stop := context.AfterFunc(ctx, func() { f.SetResult(struct{}{}) })
	if _, err := Await(c, f); err != nil {
		if !stop() {
			f.Cancel(nil) // the watch fired: its completion, on its way, is dropped
		}
		return err
	}
	return context.Cause(ctx)
}
