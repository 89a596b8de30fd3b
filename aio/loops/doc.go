// Package loops runs several aio event loops in one process, one per core,
// and connects them: a server that listens from every loop, hand-offs of
// work, values and connections between loops, and fault isolation (Node's
// cluster, tokio's runtime per core, uvloop behind SO_REUSEPORT, in one
// process).
//
// Loops share nothing but their doors. Each loop of a Group runs on its
// own goroutine and OS thread, with its own tasks, timers, descriptors and
// memory; code on one loop never touches another loop's state. Everything
// that crosses goes through the target loop's door (the lock-free queue of
// aio.Loop.CallSoon, Spawn from another goroutine and Future.SetResult),
// and the answer through the caller's: a cross-loop operation suspends the
// calling task, never its thread, and takes no lock that a loop could wait
// for.
//
// # A group
//
// New(n) makes n loops (NewPerCore: one per GOMAXPROCS; fewer than one is
// ErrNoLoops), Start runs them, Close stops, shuts down and closes every
// loop and waits for them. Loop(i), Loops and Len name them; Each runs a
// function in a task on every loop and waits; Pick chooses a loop in round
// robin, PickLeast the least loaded one (live tasks, queued callbacks and
// watched descriptors, from aio.Loop.Metrics: a few atomic loads per loop,
// no call into the loop).
//
// # Hand-offs
//
//	Call(c, target, fn)      run fn in a task of target, await it in c
//	CallFunc(c, target, fn)  run fn in a callback of target, await it in c
//	NewQueue(home, max)      a FIFO queue homed on one loop, for tasks of every loop
//	MoveStream(c, s, l, h)   move an idle stream's connection to loop l
//	MoveTransport(c, t, l, p) move an idle transport's connection to loop l
//
// Call is a future of loop B awaited in a task of loop A: fn's task is
// spawned on B through B's door, and its outcome completes a future of A
// through A's door. Cancellation crosses both ways: cancelling the caller
// cancels the remote task (and Call waits for it to end), a remote loop
// that closes or shuts down makes Call return an error matching
// aio.ErrClosed, and a remote cancellation never looks like the caller's
// own (ErrRemoteCanceled, which does not match context.Canceled). A result
// is never lost to a cancellation: if the remote side had completed when
// the caller's cancellation reached it, the caller gets the value with an
// error matching both its cancellation and ErrCompleted.
//
// Awaiting a future of another loop directly (aio.Await) stays refused
// with aio.ErrInvalidState: the cross-loop form is Call.
//
// A Queue's operations from its home loop's tasks are plain local ones;
// from another loop each goes through the home loop's door (one callback
// when it need not wait, a task of the home loop when it must) and back.
// A cancelled Get takes nothing (a value on its way back goes back to the
// head of the queue); a cancelled Put either put nothing or says
// ErrCompleted.
//
// A connection moves as the kernel's socket: a duplicate of its descriptor
// goes to the target, which makes a new Stream (in a new task running the
// given handler) or Transport (with the given protocol) on it, and the old
// one is closed on its loop, which neither shuts the socket down nor resets
// it. Bytes the kernel holds move with it; bytes in the Stream's or
// Transport's buffers would not, so only idle connections move (ErrNotIdle
// otherwise).
//
// # Servers on every loop
//
// ServeStream and ServeProtocol serve one address from every loop of a
// group, with a stream handler or a protocol factory as stream.Serve and
// transport.Serve do on one loop. Two modes (Server.Mode):
//
//   - ReusePort, the default on Linux for TCP: every loop listens on the
//     address with SO_REUSEPORT and accepts its own connections, which the
//     kernel spreads by a hash of the peer's address and port. Nothing
//     crosses between loops, and a loop that fails takes only its own
//     listener and connections with it; the spread is statistical (a few
//     busy peers may land on one loop).
//   - Acceptor, elsewhere, for Unix sockets, and with WithAcceptor: the
//     group's first loop accepts every connection and hands each to the
//     loops in turn, its own included, through their doors. The spread is
//     an exact round robin, at the cost of one door crossing per
//     connection and of an acceptor that every connection waits on.
//
// Outside Linux the acceptor is the default because SO_REUSEPORT does not
// spread connections there (macOS, OpenBSD, NetBSD give them to one
// listener; FreeBSD needs SO_REUSEPORT_LB). Server.Close stops accepting on
// every loop, CloseClients ends the connections, Wait waits for both on
// every loop, Served counts the connections of each loop.
//
// # Fault isolation
//
// A runtime.Goexit in a task body or callback of a loop (t.FailNow in a
// test) ends that loop's goroutine: aio closes the loop, and the group
// reports a Failure (WithOnFailure; by default through log/slog) while the
// other loops go on. WithRestart replaces the failed loop at its index by
// a new one, set up again (WithLoopStart, and the servers' listeners on
// the same address); the connections it had are lost. A panic in a task is
// the task's error and a panic in a callback is reported and the loop goes
// on, as on any aio loop; WithFailOnPanic makes a panic in a callback fail
// the loop instead.
//
// # Goroutines
//
// The Group's methods and the Server's may be called from any goroutine;
// those that wait (Group.Close, Each, ServeStream, ServeProtocol,
// Server.Wait) refuse, with an error matching aio.ErrOnLoop, on a loop,
// which they would block. Call, CallFunc, the Queue's Put and Get and the
// moves are for tasks (the calling task waits).
package loops
