// Package executor runs blocking Go functions off the loop and lets tasks
// await them: asyncio's loop.run_in_executor and asyncio.to_thread.
//
// A task must never block its loop's thread: a blocking call (a file
// read, a syscall, a C library, a database driver without a context-aware
// API) stalls every task of the loop. Run hands such a call, a
// func(context.Context) (T, error), to an executor and suspends the task
// until the call returns; Go does the same but returns an *aio.Future, for
// aio.Gather and aio.Select:
//
//	data, err := executor.Run(c, func(ctx context.Context) ([]byte, error) {
//		return os.ReadFile(name)
//	})
//
// # Executors
//
// An Executor is anything with Submit(func()) error: the package's *Pool,
// an ants.Pool, or through ExecutorFunc an errgroup-style pool. Submit is
// called on the loop's thread, so an executor should queue or fail rather
// than block. Each loop has a default executor, a *Pool made at the first
// call; SetDefault replaces it for a loop, WithExecutor for one call.
//
// The default pool of a loop runs at most DefaultPoolSize() functions at
// once: min(32, GOMAXPROCS+4), Python's choice for ThreadPoolExecutor.
// Blocking calls mostly wait rather than compute, so more of them than
// there are processors can be under way; the cap keeps CPU-heavy calls from
// piling up threads. SetPoolSize changes it. The pool starts its workers
// when work arrives and retires them after a few seconds idle. A worker
// that runs out of work spins for up to 20 microseconds before it parks
// (one per pool, yielding its P, none with GOMAXPROCS=1): a busy loop's
// next call then starts at once, where waking a parked worker from the
// loop's thread costs about 100 microseconds (Go steals a goroutine that a
// running thread readied only after a short sleep).
//
// Workers are goroutines and need a processor (a P) to run. A loop whose
// tasks never wait holds its P all the time; with GOMAXPROCS=1 that is the
// only one, and a worker then runs only when Go's scheduler preempts the
// loop's thread, about every 10 ms. Give such a program GOMAXPROCS of 2
// or more, or let the loop wait (any Sleep or I/O does).
//
// # A full executor
//
// When every worker is busy, a call waits its turn in the pool's FIFO
// queue: Submit never blocks, so the loop goes on running its other tasks
// while the calling task is suspended. With FailFast the call fails at
// once with an error matching ErrFull instead. (The queue is the pool's,
// not a wait queue on the loop: the loop needs no message when a worker
// frees, and a call cancelled while it waits is skipped when its turn
// comes, without running.)
//
// # Cancellation and the late result
//
// Go cannot stop a goroutine, so a function is cancelled through its
// context. When the awaiting task is cancelled, Run returns the task's
// *aio.CanceledError at once, without waiting for the function; the
// function's ctx is cancelled with that error as its cause (ctx.Err() is
// context.Canceled); a function still queued never runs; and what a running
// one returns later is dropped. Cancelling the future of Go does the same.
// The dropped results are counted in StatsOf(l).Late. A function should
// watch ctx.Done() wherever it can wait long.
//
// A panic in a function is recovered on its worker and becomes the call's
// error: a *aio.PanicError with the panic value and the worker's stack,
// which names the function.
//
// # Shutdown
//
// When a loop closes (after its tasks have ended: aio.Run closes its loop
// after the graceful shutdown of its tasks), a close hook cancels the
// contexts of the loop's calls, with cause aio.ErrClosed, and shuts the
// loop's default pool down: it waits for the pool's running and queued
// functions, bounded by the loop's shutdown timeout (aio.DefaultShutdownTimeout
// unless SetShutdownTimeout says otherwise), as asyncio 3.12's
// shutdown_default_executor(timeout) does. So aio.Run returns only after
// the functions have returned, or the timeout has passed. Each function
// that did not finish in time is reported through the loop's error handler
// as an *UnfinishedError; functions still queued are discarded, and
// reported so. An executor set with SetDefault or WithExecutor belongs to
// the program, which shuts it down itself; Pool.Shutdown does it for a
// *Pool.
//
// # The virtual clock
//
// On a loop with the virtual clock (aio.WithVirtualClock, for tests), every
// call of Run and Go holds the clock (aio.Loop.HoldClock) from its
// submission until its outcome is in the loop's door, or until the call is
// abandoned (its task or future cancelled) or discarded: the clock does not
// jump while a function is queued or running, so a call that takes 50 ms of
// real time returns before a virtual timeout of a millisecond around it, as
// it would on the real clock. An abandoned function that goes on running
// holds nothing: nobody waits for it. On the real clock the hold costs
// nothing.
//
// # Goroutines
//
// Run and Go are called in a task of the loop. Pool's methods, SetDefault,
// Default, SetPoolSize, SetShutdownTimeout and StatsOf may be called from
// any goroutine.
package executor
