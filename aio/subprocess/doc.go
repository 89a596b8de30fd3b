// Package subprocess starts child processes whose standard streams are
// non-blocking pipes driven by the aio loop's poller: asyncio's
// create_subprocess_exec and create_subprocess_shell for aio. It is built
// on Linux only, for now (it uses pidfd_open and waitid); on other systems
// the package is empty.
//
// # API
//
// A Cmd describes the program, as os/exec's Cmd does: Command(name,
// args...) looks name up in PATH (exec.LookPath) and Shell(script) runs
// /bin/sh -c script. Its fields are Path, Args, Env (nil: the parent's
// environment), Dir, the three streams Stdin, Stdout and Stderr (each a
// Redirect: Inherit, the zero value, as in asyncio; Pipe; DevNull; or
// File(f) for an *os.File of the caller's), ExtraFiles (fd 3 and on) and
// SysProcAttr. Cmd.Start, called from a task, starts the child and returns
// its Process:
//
//   - Process.Stdin is a *Writer for a Stdin Pipe: Write(c, p) writes all of
//     p, parking the task while the pipe is full; Close sends the end of
//     input.
//   - Process.Stdout and Process.Stderr are *Readers for Pipe outputs:
//     Read(c, p), ReadLine(c) (the line with its '\n'), ReadAll(c), and
//     io.EOF at the end of the stream.
//   - Wait(c) waits for the exit and returns an *ExitStatus: ExitCode,
//     Signaled, ReturnCode (asyncio's returncode, -signal for a killed
//     child), Rusage. Its error is an *ExitError, like os/exec's, for a code
//     other than 0 or a signal.
//   - Communicate(c, input) writes input to stdin and closes it while it
//     drains stdout and stderr, in tasks of the loop, then Waits: no
//     deadlock whatever the sizes. Cmd.Output is the short form without
//     input.
//   - Signal(sig), Terminate() (SIGTERM) and Kill() (SIGKILL), from any
//     goroutine; after the child is reaped they return an error matching
//     os.ErrProcessDone and signal nobody.
//
// The names of asyncio map as: create_subprocess_exec → Command(...).Start,
// create_subprocess_shell → Shell(...).Start, PIPE/DEVNULL → Pipe/DevNull,
// stdin=None → Inherit, proc.stdout.read()/readline()/read(n) →
// ReadAll/ReadLine/Read, stdin.write + drain → Write (one call: it returns
// when all is written), stdin.close() → Writer.Close, wait, communicate,
// send_signal, terminate, kill, returncode → Wait, Communicate, Signal,
// Terminate, Kill, ExitStatus.ReturnCode. Differences: Write blocks the
// task (not the loop) until written, there is no unbounded write buffer;
// Wait returns an error for a failed child as os/exec does; there is no
// line-length limit in ReadLine (asyncio's 64 KiB limit): a child that
// writes no newline makes ReadLine buffer its whole output.
//
// # Waiting for the exit: pidfd, or a fallback chosen at run time
//
// On Linux 5.3 and later (pidfd_open works, probed once) the child is
// started with clone(CLONE_PIDFD) (syscall.SysProcAttr.PidFD) and its
// pidfd is watched with Loop.AddReader: it becomes readable when the child
// exits, and the callback reaps it with wait4(pid, WNOHANG) on the loop.
// Elsewhere (an older kernel, a ForkExec that refuses the flag, a pidfd
// the poller cannot watch) a goroutine per child waits in waitid(WEXITED|
// WNOWAIT), which does not reap, and tells the loop through its door
// (Loop.CallSoon); the loop reaps. Either way a child is reaped only under
// the Process's lock, so Signal never reaches a process that took over a
// recycled pid.
//
// # Reaping and the loop's close
//
// The loop reaps a child as soon as it exits, whether or not anyone calls
// Wait: a Process whose handle is dropped leaves no zombie while its loop
// runs (its unread pipes stay open until the loop closes). When the loop
// closes (an aio.Loop.OnClose hook, after every task has ended), every pipe
// still open is closed, and every child still running is killed with
// SIGKILL and reaped, as asyncio's transports kill their child on close.
// The children are all killed first, and the close then waits up to 5
// seconds in all for them to exit; a child stuck past that (in the kernel)
// is reaped by a goroutine when it exits. A child counts for the close
// from its Start until it is reaped and its pipes are closed; the loop's
// hook goes with its last child.
//
// # Broken pipes
//
// A Write to a child that closed its stdin, or exited, fails with an error
// matching syscall.EPIPE: Go's runtime ignores SIGPIPE for writes to
// descriptors other than 1 and 2, so the parent is not killed. Communicate
// ignores EPIPE, as asyncio does. A child that never reads its stdin makes
// Write wait, parked, as long as the task lets it.
//
// # Cancellation
//
// Every wait (Read, ReadLine, ReadAll, Write, Wait, Communicate) parks the
// task, never the loop, and ends with the task's cancellation (a timeout of
// aio.WithTimeout around it). A cancelled read loses no bytes: what was
// taken from the pipe and not returned stays in the Reader for the next
// call. A cancelled Write returns the count written before it. A cancelled
// Wait leaves the child running (Kill it if it must end).
//
// # Goroutines
//
// Start, the Readers' and Writer's methods, Wait and Communicate must be
// called from a task of the loop (the Ctx is the running task's); they
// return aio's misuse errors otherwise. Pid, Exited, Signal, Terminate and
// Kill may be called from any goroutine.
package subprocess
