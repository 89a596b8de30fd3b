// Package aio brings Python's asyncio model to Go: an event loop on one
// goroutine pinned to one OS thread, generic futures and tasks, timers, and
// readiness callbacks on file descriptors, with Go channels and contexts at
// every boundary.
//
// A task is an ordinary Go function that runs as a coroutine on the loop. It
// suspends when it calls Await (or Sleep, or Yield), at any depth of its
// call stack; the loop then runs other work, and resumes the task exactly
// where it left off once what it waits for is ready. All tasks and callbacks
// of a loop run on the loop's thread, one at a time, so they share data with
// no locks and no data races, in an order that is deterministic for a given
// sequence of events.
//
// The smallest complete program:
//
//	package main
//
//	import (
//		"fmt"
//		"time"
//
//		"github.com/aiogo/aio/aio"
//	)
//
//	func main() {
//		msg, err := aio.Run(func(c *aio.Ctx) (string, error) {
//			t, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) {
//				err := aio.Sleep(c, 10*time.Millisecond)
//				return "world", err
//			})
//			who, err := aio.Await(c, t)
//			return "hello, " + who, err
//		})
//		fmt.Println(msg, err)
//	}
//
// # Loops
//
// Run makes a loop, runs a main task to completion on the calling goroutine,
// shuts the loop down and closes it; it is asyncio.run. A Loop can also be
// driven by hand: NewLoop, then RunForever until Stop, or RunUntil a
// condition, then Shutdown and Close. A loop driven by hand runs on a
// goroutine of its own, locked to one OS thread from its first run to Close,
// whichever goroutines run and close it. Each iteration of the loop polls
// for I/O (without blocking if work is ready), takes in what other
// goroutines sent, moves due timers to the ready queue, and runs the
// callbacks that are ready at that point. A callback scheduled while they
// run waits for the next iteration, so busy code never starves I/O and
// timers.
//
// CallSoon, CallLater and CallAt schedule plain callbacks and return a
// Handle that can cancel them. Timers fire in the order of their deadlines,
// equal deadlines in the order they were scheduled, and never early.
//
// # Futures and tasks
//
// A Future[T] is a result that will be available later: a value, an error,
// or a cancellation. A Task[T] runs a body of type func(*Ctx) (T, error) and
// is itself awaitable. Spawn starts a task, on a loop or (given a task's Ctx)
// on that task's loop; the loop keeps it alive until it is done, so
// fire-and-forget tasks never vanish. Gather waits for several.
//
// Canceling a task (Task.Cancel, with an optional cause) makes the wait it
// is suspended in return a *CanceledError. That error matches
// context.Canceled under errors.Is and unwraps to its cause, so Go code that
// knows contexts recognises it. A body may handle a cancellation and go on,
// or return it. Cancelling and Uncancel keep the count of requests that
// timeouts and task groups need to tell their own cancellations apart.
//
// # Structured concurrency
//
// Most programs need no bare Spawn. WithGroup runs tasks side by side in a
// task group and returns when all of them are done: the first to fail
// cancels the others, and the group returns every failure, each naming its
// task, joined with errors.Join (asyncio's TaskGroup, trio's nursery,
// errgroup's shape with Group.Go). WithTimeout and WithDeadline bound the
// time a body may take and return ErrTimeout, which matches
// context.DeadlineExceeded and not context.Canceled. Both are cancel scopes
// (WithScope, trio's CancelScope): a region of a task that can be cancelled
// as a whole, given a deadline that can be moved, and shielded (Shielded,
// Scope.SetShield) from cancellations from outside. A scope absorbs its own
// cancellation and never one from outside it: that one goes on, also when
// both arrive together.
//
// WaitFor waits for one awaitable with a timeout, cancelling it on expiry
// and never losing a result that arrived meanwhile; Wait and AsCompleted
// wait for some of several; Shield keeps a task out of the cancellations
// aimed at its waiter; GatherOrCancel is Gather that cancels the rest on the
// first failure; a TaskSet holds tasks of one type and joins them in
// completion order. WithEagerStart runs a task's first step inside Spawn,
// and a loop's TaskHook (Loop.SetTaskHook) sees every task spawned.
//
// # Channels, Select and tickers
//
// Chan[T] is a channel for the tasks of one loop with Go's semantics
// (unbuffered or buffered, Send, Recv, Close, All), where Go would panic
// returning an error, and where a value is never lost to a cancellation.
// Select waits on several Chan sends and receives, awaitables, a timeout
// and a default at once, choosing uniformly among ready cases as Go's
// select does. A Ticker delivers ticks at a fixed period with a policy for
// the ticks a busy loop missed (tokio's interval). Locks, semaphores,
// conditions, barriers and queues are in the sibling packages aio/locks and
// aio/queue.
//
// A panic in a task body becomes the task's error, a *PanicError with the
// panic value and the stack at the panic. A panic in a callback goes to the
// loop's ErrorHandler (by default logged through log/slog) and the loop goes
// on. Errors of failed tasks that nobody retrieved are reported through the
// same handler once nobody can retrieve them.
//
// # Waiting for events of one's own
//
// Await and the combinators take any Awaitable[T]: futures, tasks, and types
// of the program's own. WaitQueue is the seam they are built on, the one the
// package's own primitives use (see the sibling package aio/locks): a task
// parks on a WaitQueue until the code that makes the event happen wakes one
// waiter or all, with cancellation delivered as in Await and no wake lost to
// a canceled waiter. An Awaitable of one's own is a type with a Poll method
// that reports the outcome or adds the given Waiter to its WaitQueue; the
// guide walks through one, a countdown latch.
//
// # Go channels
//
// A plain <-ch or ch <- v inside a task blocks the loop's thread and with
// it every task of the loop. GoRecv(c, ch) and GoSend(c, ch, v) wait in the
// task instead: a ready channel is served at once, without a goroutine;
// otherwise the task suspends while a helper goroutine waits on the channel
// and reports through the loop's door. Cancellation never loses a value: if
// the helper had already received (or sent) when the task was cancelled,
// the operation's outcome is returned and the cancellation comes at the
// task's next suspension point. GoRecvCase(ch, &v, &ok) receives from a Go
// channel in a Select; a value its helper received after another case won
// is kept for the next GoRecv or GoRecvCase of that channel on the loop,
// and, if nobody takes it, reported at the loop's close through the error
// handler as a *StrandedValueError. There is no send case for Go channels:
// a losing case could not promise to send nothing. A nil channel is refused
// by GoRecv and GoSend with ErrInvalidState and is never ready in a Select;
// a send on a closed channel returns ErrChanClosed. A parked GoRecv costs
// the wake of the loop's thread (tens of microseconds, as for any locked
// thread); a ready one about 60 ns.
//
// # Contexts, signals and the end of a loop
//
// Ctx.Context gives the code a task calls a context.Context that is done
// when a cancellation reaches the task's cancel scope, with the
// cancellation's cause (ErrTimeout for a deadline); it is made at the
// first call. A task spawned WithContext is cancelled when its parent
// context is done; RunContext does that for Run's main task; AwaitContext
// waits in a task for an outside context. Loop.AddSignalHandler runs a
// function on the loop for each delivery of a signal; Run catches SIGINT
// that way (WithoutInterrupt leaves it alone). Loop.OnClose registers what
// must be finished when the loop closes, after its tasks: the executor of
// package aio/executor shuts its pool down there, package aio/subprocess
// reaps its children, and the signal handlers are removed. A LoopValue is
// a package's value per loop (a pool, a table of watched fds), made at its
// first use on a loop and released by a close hook of that loop. Blocking
// work belongs in aio/executor, child processes in aio/subprocess.
//
// # The virtual clock
//
// For tests, a loop can run on a virtual clock (WithVirtualClock for Run,
// Loop.SetVirtualClock for a loop made by hand; package aio/aiotest wraps it
// for tests): trio's MockClock with autojump, tokio's paused time. The clock
// starts at 2000-01-01 00:00:00 UTC and stands still while anything is ready
// (a callback, a task step, an item in the door, a file descriptor ready
// when polled without waiting); when nothing is, it jumps to the next
// timer's deadline. A program that sleeps an hour finishes in microseconds,
// its timers, timeouts, tickers and WaitFor fire in the same order as on the
// real clock, and the loop times of its events are the same every run.
// Loop.AdvanceClock moves the clock forward from loop code, as a blocked
// loop would.
//
// Work outside the loop is invisible to the clock unless it says so:
// Loop.HoldClock takes a hold that keeps the clock from jumping until it is
// released, and the loop waits for real meanwhile. Package aio/executor
// holds the clock for every call in flight, so a blocking function that
// takes 50 ms of real time returns before a virtual timeout of a
// millisecond around it. A goroutine that completes a future without a hold
// may lose the race against a virtual timeout. Loop.SetClockHoldLimit lets the
// clock jump despite holds once the loop has waited that long in real time.
// With no timer and no hold, an idle loop waits for real, as on the real
// clock. The real clock stays the default, and costs the same as before.
//
// # Goroutines
//
// Loop state belongs to the loop goroutine; the rules below keep it so, and
// every method's documentation says which rule applies.
//
// Methods that schedule or complete work (CallSoon, CallLater, CallAt,
// Handle.Cancel, Spawn, Future.SetResult, SetError, Cancel, Task.Cancel,
// Loop.Stop) may be called from any goroutine. On the loop goroutine, or in
// one of its tasks, they act at once. From any other goroutine they send the
// work through the loop's door, a lock-free queue, and wake the loop if it
// is parked; they never block. Queries that other goroutines need (IsDone,
// Result, Done, Wait, IsRunning, IsClosed) may also be called from anywhere.
//
// Methods that need loop state to answer (AddReader, AddDoneCallback,
// Loop.Tasks, Task.Cancelling, Task.Uncancel, ReportError, the methods of
// WaitQueue, ...) must be called on the loop goroutine or in one of its
// tasks. The same misuse gets the same treatment everywhere: a method that
// returns an error returns one matching ErrNotOnLoop; a method without an
// error result panics with such an error. Those that panic are Loop.Tasks,
// Loop.ReportError, Task.Cancelling, Task.Uncancel, the remove function of
// AddDoneCallback, and WaitQueue's Add, WakeOne, WakeAll, Len and Check. The
// check compares the caller's goroutine identity with the loop's and costs
// about two nanoseconds, so it is always on. The zero Loop is refused the same
// way, with ErrNoLoop: errors from the methods that return one, a panic from
// Closed, Now and SetErrorHandler.
//
// Await, Sleep and Yield suspend the calling task; called from anywhere else
// (a callback, a plain goroutine, another task with a borrowed *Ctx) they
// return an error matching ErrNotInTask. A plain goroutine waits for a
// future or task with Wait or by selecting on Done.
//
// Wait refuses (ErrOnLoop) on the goroutine or in a task of any loop, not
// only its own: it would block that loop.
//
// A task body must not block its thread for long (a blocking syscall, a
// mutex held elsewhere, a channel receive): the whole loop stops meanwhile.
// It must not call runtime.LockOSThread or runtime.UnlockOSThread (the
// runtime forbids it in a coroutine). runtime.Goexit in a task body (t.FailNow
// in a test) ends the loop goroutine: the other tasks are unwound, the loop
// is closed and the error handler is told.
//
// # Guarantees
//
// Order. Calls ordered by happens-before run in that order, wherever each
// was made: CallSoon callbacks, the first steps of tasks, and the callbacks
// and wake-ups they cause; timers with equal deadlines likewise (with one
// exception, under a flood or a descheduled sender, documented on CallAt).
// The loop never waits for a goroutine descheduled in the middle of a call.
//
// Overload. There is no backpressure: calls from other goroutines never
// block and queue without bound, as in asyncio and tokio. Each iteration
// takes at most 4096 of them, so however much is queued, timers made on the
// loop stay on time (as far as the CPU allows) and a Stop takes effect at
// the next iteration. After a burst the loop gives back the memory it grew
// (ready queue, timer heap, record pool) once it has been idle a second.
//
// Shutdown and close. Shutdown cancels every task, including those spawned
// while it runs, waits for them no longer than its context allows, and says
// when it could not finish (ErrStopped, or the context's cause). Close
// unwinds what is left on the loop's own thread, from any goroutine, and
// leaves no goroutine behind; a body being unwound that calls Close or Wait
// gets an error, not a deadlock.
//
// Errors nobody can receive go to the error handler, each in a callback of
// its own: panics in callbacks (right after the callback), and the errors of
// failed tasks that nobody retrieved, reported once nobody can retrieve
// them (when the task is garbage collected unread, or at the latest at
// Shutdown or Close), never earlier.
//
// File descriptors. An fd closed while watched is detected, its callbacks
// dropped and reported once, when its number is watched again; a closed fd
// kept registered by a duplicate (epoll) is purged and reported instead of
// making the loop spin. Errors of AddReader and AddWriter name the method
// and fd and wrap the errno.
//
// # Debug mode
//
// Loop.SetDebug, Run's WithDebug, or AIODEBUG=1 in the environment (read by
// NewLoop, as asyncio reads PYTHONASYNCIODEBUG) turn on debug mode. The
// loop then keeps where each task, future and loop-scheduled callback was
// created (a cheap runtime.Callers, resolved to "file:line" of the first
// caller outside the aio module only when it is reported: CreationSite), and
// reports through the error handler, with ErrorContext's Site, Callback,
// TaskID, TaskName, Duration and Stack fields set:
//
//   - a callback or task step that held the loop for the slow-callback
//     duration (DefaultSlowCallbackDuration, 100 ms; SetSlowCallbackDuration)
//     or longer, once it returns (ErrSlowCallback);
//   - the same while it still runs, from a watchdog goroutine that sees the
//     loop make no progress, with the stacks of the task's coroutine (where
//     the blocking channel operation, lock or system call is) and of the
//     loop goroutine (ErrLoopBlocked), delivered on the watchdog's goroutine
//     since the loop is blocked;
//   - when the loop closes, the futures never completed (ErrNeverCompleted)
//     and the resources never closed (ErrNotClosed): transports, datagram
//     transports and servers (aio/transport), streams and stream servers
//     (aio/stream), sockets (aio/socket), subprocesses (aio/subprocess),
//     and whatever registers with Loop.TrackResource;
//   - the creation site of a failed task whose error nobody retrieved;
//   - a stuck loop, with the task dump (SetStuckReport, which debug mode
//     turns on with DefaultStuckThreshold).
//
// Off, it costs an atomic load of a nil pointer per loop iteration and per
// CallSoon, CallLater, Spawn and NewFuture. On, each callback is timed (two
// clock reads and a few atomic stores) and each site costs a
// runtime.Callers: meant for development and tests, as asyncio's is.
//
// DefaultErrorHandler logs each report with log/slog, the fields as
// attributes (task, task_id, task_name, callback, site, duration, stack,
// err), at level Warn for the slow and blocked reports and Error for the
// others; ErrorContext.String formats one for a test failure (aiotest.Run
// uses it).
//
// # The task dump
//
// Loop.Dump (on the loop) and Loop.DumpWait (from any goroutine, through
// the door) return a *Dump: every live task with its ID, name, state, where
// it was created (debug mode), how long it has waited (Loop.TrackWaits, debug
// mode), what it awaits (WaitInfo: a future, a task, a timer and its
// deadline, a socket and its addresses, a lock or a queue, an executor
// call, a Go channel, a group's or a Gather's tasks) and, with
// DumpOptions.Stacks, its own stack, as a tree: a task spawned into a group
// or a TaskSet is under the group's task, another under the task that
// awaits it, if any. Dump.String formats the tree; encoding/json the JSON.
// Loop.DumpOnSignal writes one on a signal the program opts into
// (DefaultDumpSignal, SIGUSR1; never SIGQUIT, which is Go's); package
// aio/inspect's Handler serves one over HTTP beside net/http/pprof. A WaitQueue names its waits
// with Describe and a WaitLabel, an Awaitable with a DescribeWait method
// (WaitDescriber). Loop.SetStuckReport reports, with the dump, a loop
// parked with live tasks and nothing but another goroutine to wake them
// (ErrStuck). None of it costs the waits more than a pointer store.
//
// # Metrics
//
// Loop.Metrics returns a snapshot of the loop's runtime metrics (tokio's
// RuntimeMetrics, Node's event-loop utilization and monitorEventLoopDelay),
// from any goroutine, without a lock: live tasks, tasks spawned, the ready
// queue's depth, pending timers, watched file descriptors, iterations,
// callbacks and task steps run, submissions through the door from other
// goroutines, the real time spent running and, of it, polling (BusyTime and
// Utilization derive from them), and the histogram of timer lags, how late
// each timer fired (LagHistogram: log-linear buckets, Quantile, Max, Mean).
// Counters count from the loop's creation; Metrics.Sub gives an interval's.
// On the loop they are exact; other goroutines see them as the loop last
// published them, when it parked, ended a run, or every 1024 callbacks.
// Package aio/inspect's PublishMetrics publishes a loop through expvar,
// under its name in the process-wide expvar "aio", which a loop leaves when
// it closes (outside the core, which so does not link net/http). The loop counts in plain fields and publishes with a few atomic
// stores now and then, never per callback; the only clock reads are around
// the poll, which is a system call: reading the metrics costs the hot path
// nothing measurable.
package aio
