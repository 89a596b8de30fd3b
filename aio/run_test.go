package aio_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
)

// Run runs its body as a task named main, which may sleep and await a child
// task, and returns what the body returns.
func TestRunReturnsMainResult(t *testing.T) {
	v, err := aio.Run(func(c *aio.Ctx) (string, error) {
		if c.Name() != "main" {
			return "", fmt.Errorf("main task named %q", c.Name())
		}
		if err := aio.Sleep(c, time.Millisecond); err != nil {
			return "", err
		}
		child, err := aio.Spawn(c.Loop(), func(c *aio.Ctx) (string, error) { return "child", nil })
		if err != nil {
			return "", err
		}
		s, err := aio.Await(c, child)
		return "main+" + s, err
	})
	if v != "main+child" || err != nil {
		t.Fatalf("Run = %q, %v", v, err)
	}
}

// Run returns the main task's value together with its error, and a panic in
// the main task as a *PanicError with the panic value and the stack at the
// panic.
func TestRunReturnsMainError(t *testing.T) {
	boom := errors.New("boom")
	v, err := aio.Run(func(c *aio.Ctx) (int, error) { return 3, boom })
	if v != 3 || err != boom {
		t.Fatalf("Run = %d, %v; want 3, boom", v, err)
	}
	_, err = aio.Run(func(c *aio.Ctx) (int, error) { panicky("main panic"); return 0, nil })
	var pe *aio.PanicError
	if !errors.As(err, &pe) || pe.Value != "main panic" || !strings.Contains(string(pe.Stack), "panicky") {
		t.Fatalf("Run with a panicking main = %v", err)
	}
}

// Run(nil) returns ErrNilFunc.
func TestRunNilBody(t *testing.T) {
	if _, err := aio.Run[int](nil); !errors.Is(err, aio.ErrNilFunc) {
		t.Fatalf("Run(nil) = %v, want ErrNilFunc", err)
	}
}

// Run can be called again and again on one goroutine, each call with a loop
// of its own.
func TestRunTwiceOnOneGoroutine(t *testing.T) {
	for i := range 3 {
		v, err := aio.Run(func(c *aio.Ctx) (int, error) { return i, aio.Yield(c) })
		if v != i || err != nil {
			t.Fatalf("Run #%d = %d, %v", i, v, err)
		}
	}
}

// When the main task returns, Run cancels the tasks still alive with cause
// ErrShutdown, lets them clean up (a cleanup may suspend), never runs the
// body of one that had not started, and closes the loop.
func TestRunCancelsLeftoverTasks(t *testing.T) {
	var log []string
	var childErr, cleanupErr error
	var loop *aio.Loop
	var children []*aio.Task[int]
	v, err := aio.Run(func(c *aio.Ctx) (int, error) {
		loop = c.Loop()
		for i := range 3 {
			child, err := aio.Spawn(c.Loop(), func(c *aio.Ctx) (int, error) {
				for {
					if err := aio.Sleep(c, time.Millisecond); err != nil {
						if i == 0 {
							childErr = err
							// Cleanup may suspend: the cancellation was delivered.
							cleanupErr = aio.Sleep(c, time.Millisecond)
							log = append(log, "cleaned up")
						}
						return 0, err
					}
				}
			})
			if err != nil {
				return 0, err
			}
			children = append(children, child)
		}
		aio.Sleep(c, 2*time.Millisecond)
		// A child that has not started yet when main returns: cancelled
		// before it starts, so its body never runs.
		notStarted, _ := aio.Spawn(c.Loop(), func(c *aio.Ctx) (int, error) {
			log = append(log, "not started ran")
			return 0, nil
		})
		children = append(children, notStarted)
		return 42, nil
	})
	if v != 42 || err != nil {
		t.Fatalf("Run = %d, %v", v, err)
	}
	if !loop.IsClosed() {
		t.Fatal("Run left its loop open")
	}
	if !errors.Is(childErr, context.Canceled) || aio.Cause(childErr) != aio.ErrShutdown {
		t.Fatalf("leftover task got %v, want a cancellation", childErr)
	}
	if cleanupErr != nil {
		t.Fatalf("Sleep during cleanup = %v", cleanupErr)
	}
	if strings.Join(log, ",") != "cleaned up" {
		t.Fatalf("log %v", log)
	}
	for _, child := range children {
		if !child.IsDone() || !child.Canceled() {
			t.Fatalf("%v: done=%v cancelled=%v", child, child.IsDone(), child.Canceled())
		}
	}
}

// Run returns the main task's error to its caller, which retrieves it: it is
// not also reported as never retrieved.
func TestRunDoesNotReportMainError(t *testing.T) {
	var mu sync.Mutex
	var reports []aio.ErrorContext
	boom := errors.New("boom")
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		c.Loop().SetErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) {
			mu.Lock()
			reports = append(reports, ec)
			mu.Unlock()
		})
		return 0, boom
	})
	if err != boom {
		t.Fatalf("Run = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 0 {
		t.Fatalf("the main task's error, returned by Run, was also reported: %+v", reports)
	}
}

// Run reports once through the error handler, naming the task, the error of
// a failed task that nobody awaited; not that of an awaited one, nor the
// cancellation of a task it cancelled itself.
func TestRunReportsUnretrievedErrors(t *testing.T) {
	var mu sync.Mutex
	var reports []aio.ErrorContext
	boom := errors.New("boom")
	var failed *aio.Task[int]
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		c.Loop().SetErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) {
			mu.Lock()
			reports = append(reports, ec)
			mu.Unlock()
		})
		failed, _ = aio.Spawn(c.Loop(), func(c *aio.Ctx) (int, error) { return 0, boom }, aio.WithName("failing"))
		awaited, _ := aio.Spawn(c.Loop(), func(c *aio.Ctx) (int, error) { return 0, boom })
		aio.Spawn(c.Loop(), func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Hour) }) // cancelled by Run
		aio.Await(c, awaited)
		return 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 1 || reports[0].Task == nil || reports[0].Task.ID() != failed.ID() ||
		reports[0].Err != boom || reports[0].Message != "aio: task error was never retrieved" {
		t.Fatalf("reports %+v, want one for the failing task", reports)
	}
}

// A SIGINT during Run cancels the main task with cause ErrInterrupted, which
// Run returns; the other tasks are not interrupted, and are cancelled by
// Run's shutdown with ErrShutdown.
func TestRunSIGINTCancelsMain(t *testing.T) {
	var sleepErr error
	var childDone bool
	v, err := aio.Run(func(c *aio.Ctx) (int, error) {
		child, _ := aio.Spawn(c.Loop(), func(c *aio.Ctx) (int, error) {
			// The child is not interrupted: it is cancelled by Run only
			// after main ends.
			err := aio.Sleep(c, time.Hour)
			childDone = errors.Is(err, context.Canceled) && aio.Cause(err) == aio.ErrShutdown
			return 0, err
		})
		_ = child
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			return 0, err
		}
		// One SIGINT only: a second would end the test process.
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if sleepErr = aio.Sleep(c, 10*time.Millisecond); sleepErr != nil {
				return 7, sleepErr
			}
		}
		return 0, errors.New("SIGINT did not cancel the main task")
	})
	if v != 7 || !errors.Is(err, context.Canceled) || aio.Cause(err) != aio.ErrInterrupted || !errors.Is(err, aio.ErrInterrupted) {
		t.Fatalf("Run = %d, %v; want the main task cancelled with ErrInterrupted", v, err)
	}
	if aio.Cause(sleepErr) != aio.ErrInterrupted {
		t.Fatalf("Sleep in main returned %v", sleepErr)
	}
	if !childDone {
		t.Fatal("the child was not cancelled by Run's cleanup with ErrShutdown")
	}
}

// runtime.Goexit in Run's main task ends the calling goroutine: Run does not
// return, the loop is closed, and the error handler is told with an error
// matching ErrClosed that names Goexit.
func TestRunGoexitInMain(t *testing.T) {
	var mu sync.Mutex
	var reports []aio.ErrorContext
	var loop *aio.Loop
	returned := make(chan bool, 1)
	go func() {
		ok := false
		defer func() { returned <- ok }()
		aio.Run(func(c *aio.Ctx) (int, error) {
			loop = c.Loop()
			c.Loop().SetErrorHandler(func(_ *aio.Loop, ec aio.ErrorContext) {
				mu.Lock()
				reports = append(reports, ec)
				mu.Unlock()
			})
			aio.Yield(c)
			runtime.Goexit()
			return 0, nil
		})
		ok = true
	}()
	if <-returned {
		t.Fatal("Run returned after its main task called runtime.Goexit")
	}
	if !loop.IsClosed() {
		t.Fatal("the loop is not closed")
	}
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, r := range reports {
		if errors.Is(r.Err, aio.ErrClosed) && strings.Contains(r.Err.Error(), "Goexit") {
			found = true
		}
	}
	if !found {
		t.Fatalf("reports %+v: the error handler was not told", reports)
	}
}

// Every task body of Run's loop runs on one thread, the one its callbacks
// run on, across sleeps, yields and runtime.Gosched.
func TestRunBodiesOnLoopThread(t *testing.T) {
	needThreadID(t)
	var mu sync.Mutex
	tids := map[int]int{}
	noteThread := func() {
		mu.Lock()
		tids[gettid()]++
		mu.Unlock()
	}
	var loopTid int
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		noteThread()
		done := aio.NewFuture[int](c.Loop())
		c.Loop().CallSoon(func() { loopTid = gettid(); done.SetResult(0) })
		if _, err := aio.Await(c, done); err != nil {
			return 0, err
		}
		var aws []aio.Awaitable[int]
		for i := range 8 {
			task, _ := aio.Spawn(c.Loop(), func(c *aio.Ctx) (int, error) {
				noteThread()
				aio.Sleep(c, time.Duration(i)*100*time.Microsecond)
				noteThread()
				runtime.Gosched()
				aio.Yield(c)
				noteThread()
				return i, nil
			})
			aws = append(aws, task)
		}
		_, err := aio.Gather(c, aws...)
		noteThread()
		return 0, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tids) != 1 || tids[loopTid] == 0 {
		t.Fatalf("bodies ran on threads %v; the loop on %d", tids, loopTid)
	}
}

// RunUntilComplete returns the outcome of a task or a future of the loop; it
// refuses nil awaitables and another loop's future with ErrInvalidState,
// without panicking; it returns ErrStopped when a Stop ends the run first
// (the loop runs again after it), and ErrClosed on a closed loop.
func TestRunUntilComplete(t *testing.T) {
	l := newLoop(t)
	task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { aio.Sleep(c, time.Millisecond); return 5, nil })
	if v, err := aio.RunUntilComplete[int](l, task); v != 5 || err != nil {
		t.Fatalf("RunUntilComplete = %d, %v", v, err)
	}
	f := aio.NewFuture[string](l)
	l.CallLater(time.Millisecond, func() { f.SetError(context.DeadlineExceeded) })
	if _, err := aio.RunUntilComplete[string](l, f); err != context.DeadlineExceeded {
		t.Fatalf("RunUntilComplete of a failing future = %v", err)
	}
	other := newLoop(t)
	cases := []struct {
		name string
		a    aio.Awaitable[int]
	}{
		{"nil", nil},
		{"nil *Future", (*aio.Future[int])(nil)},
		{"nil *Task", (*aio.Task[int])(nil)},
		{"another loop's future", aio.NewFuture[int](other)},
	}
	for _, tc := range cases {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("RunUntilComplete of %s panicked: %v", tc.name, r)
				}
			}()
			if _, err := aio.RunUntilComplete(l, tc.a); !errors.Is(err, aio.ErrInvalidState) {
				t.Errorf("RunUntilComplete of %s = %v, want ErrInvalidState", tc.name, err)
			}
		}()
	}
	// A Stop before the future is done: ErrStopped, nothing lost.
	g := aio.NewFuture[int](l)
	l.CallSoon(func() { l.Stop() })
	if _, err := aio.RunUntilComplete[int](l, g); !errors.Is(err, aio.ErrStopped) {
		t.Fatalf("RunUntilComplete stopped early = %v, want ErrStopped", err)
	}
	l.CallSoon(func() { g.SetResult(1) })
	if v, err := aio.RunUntilComplete[int](l, g); v != 1 || err != nil {
		t.Fatalf("RunUntilComplete after the Stop = %d, %v", v, err)
	}
	closed, _ := aio.NewLoop()
	h := aio.NewFuture[int](closed)
	closed.Close()
	if _, err := aio.RunUntilComplete[int](closed, h); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("RunUntilComplete on a closed loop = %v", err)
	}
}

// Shutdown cancels every task and runs the loop until all have finished
// their cleanup, a slow one included; it reports once the error of a task
// that failed unretrieved and leaves no live task; Close follows, and a
// Shutdown of the closed loop returns ErrClosed.
func TestShutdownByHand(t *testing.T) {
	l := newLoop(t)
	rep := record(l)
	boom := errors.New("boom")
	var cleaned []int
	var tasks []*aio.Task[int]
	for i := range 4 {
		task, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			err := aio.Sleep(c, time.Hour)
			if i == 1 {
				// Ignore the first cancellation and clean up slowly.
				aio.Sleep(c, time.Millisecond)
				aio.Yield(c)
			}
			cleaned = append(cleaned, i)
			if i == 2 {
				return 0, boom // fails while cancelled: an unretrieved error
			}
			return 0, err
		})
		tasks = append(tasks, task)
	}
	iterate(t, l, nil)
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if len(cleaned) != 4 {
		t.Fatalf("cleaned up %v, want all 4", cleaned)
	}
	for i, task := range tasks {
		if !task.IsDone() {
			t.Fatalf("task %d is not done after Shutdown", i)
		}
	}
	var live int
	iterate(t, l, func() { live = len(l.Tasks()) })
	if live != 0 {
		t.Fatalf("%d live tasks after Shutdown", live)
	}
	r := rep.all()
	if len(r) != 1 || r[0].Err != boom || r[0].Task.ID() != tasks[2].ID() {
		t.Fatalf("reports %+v", r)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close after Shutdown: %v", err)
	}
	if err := l.Shutdown(context.Background()); !errors.Is(err, aio.ErrClosed) {
		t.Fatalf("Shutdown of a closed loop = %v, want ErrClosed", err)
	}
}

// Shutdown called from a task of the loop is refused with ErrRunning and
// cancels nothing.
func TestShutdownOnLoopIsRefused(t *testing.T) {
	l := newLoop(t)
	f := aio.NewFuture[int](l)
	bystander, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return aio.Await(c, f) })
	var err error
	caller := runTask(t, l, func(c *aio.Ctx) (int, error) {
		err = l.Shutdown(context.Background())
		return 0, aio.Yield(c)
	})
	if !errors.Is(err, aio.ErrRunning) {
		t.Fatalf("Shutdown from a task = %v, want ErrRunning", err)
	}
	for range 3 {
		iterate(t, l, nil)
	}
	if caller.Err() != nil || bystander.IsDone() {
		t.Fatalf("a refused Shutdown cancelled tasks: caller %v, bystander done=%v err=%v",
			caller.Err(), bystander.IsDone(), bystander.Err())
	}
	iterate(t, l, func() { f.SetResult(1) })
	l.RunUntil(bystander.IsDone)
}

// RunForever, RunUntil, Close, Shutdown and RunUntilComplete called from a
// task of the loop return ErrRunning, and the loop stays open.
func TestLoopMethodsFromTaskRefused(t *testing.T) {
	l := newLoop(t)
	var errs []error
	task := runTask(t, l, func(c *aio.Ctx) (int, error) {
		errs = append(errs, l.RunForever())
		errs = append(errs, l.RunUntil(func() bool { return true }))
		errs = append(errs, l.Close())
		errs = append(errs, l.Shutdown(context.Background()))
		_, err := aio.RunUntilComplete[int](l, aio.NewFuture[int](l))
		errs = append(errs, err)
		return 0, aio.Yield(c)
	})
	if task.Err() != nil {
		t.Fatalf("task: %v", task.Err())
	}
	for i, err := range errs {
		if !errors.Is(err, aio.ErrRunning) {
			t.Errorf("loop method %d from a task = %v, want ErrRunning", i, err)
		}
	}
	if l.IsClosed() {
		t.Fatal("Close from a task closed the loop")
	}
}

// childScenarioEnv marks the re-executed test binary of a scenario that may bring
// the whole process down.
const childScenarioEnv = "AIO_TEST_CHILD_SCENARIO"

// lockScenarios bind goroutines and OS threads to several loops at once.
// Each must be refused with an error or work; none may end the process. The
// failure mode is a fatal runtime error that no recover can catch ("coro: OS
// thread locking must match locking at coroutine creation": a task
// coroutine resumed while its thread holds more LockOSThread locks than when
// it was created), so each runs in a child process.
var lockScenarios = map[string]func(){
	// A task body runs another loop by hand, returns from that run with a
	// task of the inner loop still suspended, then suspends itself.
	"loop run inside a task": func() {
		_, err := aio.Run(func(c *aio.Ctx) (int, error) {
			inner, err := aio.NewLoop()
			if err != nil {
				return 0, err
			}
			started := false
			aio.Spawn(inner, func(c *aio.Ctx) (int, error) { started = true; return 0, aio.Sleep(c, time.Hour) })
			fmt.Println("inner RunUntil:", inner.RunUntil(func() bool { return started }))
			if err := aio.Yield(c); err != nil { // back to the outer loop
				return 0, err
			}
			fmt.Println("inner Close:", inner.Close())
			return 0, nil
		})
		fmt.Println("outer Run:", err)
	},
	// A callback of a loop runs another loop by hand, leaving a task of it
	// suspended; then the outer loop resumes one of its own tasks.
	"loop run inside a callback": func() {
		outer, _ := aio.NewLoop()
		inner, _ := aio.NewLoop()
		task, _ := aio.Spawn(outer, func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Millisecond) })
		outer.CallSoon(func() {
			started := false
			aio.Spawn(inner, func(c *aio.Ctx) (int, error) { started = true; return 0, aio.Sleep(c, time.Hour) })
			fmt.Println("inner RunUntil:", inner.RunUntil(func() bool { return started }))
		})
		fmt.Println("outer:", outer.RunUntil(task.IsDone))
		fmt.Println("close inner:", inner.Close())
		fmt.Println("close outer:", outer.Close())
	},
	// One goroutine runs two loops by hand in turn, each left with a
	// suspended task between its runs.
	"two loops on one goroutine": func() {
		a, _ := aio.NewLoop()
		b, _ := aio.NewLoop()
		fa := aio.NewFuture[int](a)
		ta, _ := aio.Spawn(a, func(c *aio.Ctx) (int, error) { return aio.Await(c, fa) })
		a.Stop()
		fmt.Println("a:", a.RunForever())
		tb, _ := aio.Spawn(b, func(c *aio.Ctx) (int, error) { return 0, aio.Sleep(c, time.Hour) })
		b.Stop()
		fmt.Println("b:", b.RunForever())
		fa.SetResult(3)
		fmt.Println("a again:", a.RunUntil(ta.IsDone))
		fmt.Println(ta.Result())
		fmt.Println("close b:", b.Close(), tb.IsDone())
		fmt.Println("close a:", a.Close())
	},
}

// Loops run by hand inside a task or a callback of another loop, and two
// loops run in turn on one goroutine, each left with suspended tasks, are
// refused with an error or work: none ends the process. Each scenario runs
// in a child process.
func TestLoopThreadLockScenariosDoNotCrash(t *testing.T) {
	if name := os.Getenv(childScenarioEnv); name != "" {
		if f := lockScenarios[name]; f != nil {
			f()
		}
		return
	}
	for name := range lockScenarios {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLoopThreadLockScenariosDoNotCrash$", "-test.count=1")
			// GORACE: a race-enabled child otherwise sleeps a second at exit.
			cmd.Env = append(os.Environ(), childScenarioEnv+"="+name, "GORACE=atexit_sleep_ms=0")
			out, err := cmd.CombinedOutput()
			if err != nil {
				s := string(out)
				if len(s) > 1500 {
					s = s[:1500]
				}
				t.Fatalf("the process died (%v):\n%s", err, s)
			}
		})
	}
}

// The first SIGINT cancels Run's main task; a second one has SIGINT's
// default effect and ends the process at once, even if the main task
// ignores its cancellation. Run in a child copy of the test binary, since
// the second signal kills it.
func TestRunSecondSIGINTEndsProcess(t *testing.T) {
	const env = "AIO_TEST_SIGINT_CHILD"
	if os.Getenv(env) != "" {
		aio.Run(func(c *aio.Ctx) (int, error) {
			fmt.Println("ready")
			for { // a main task that ignores cancellation
				if err := aio.Sleep(c, 5*time.Millisecond); err != nil {
					fmt.Println("cancelled:", aio.Cause(err) == aio.ErrInterrupted)
				}
			}
		})
		os.Exit(0) // not reached
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRunSecondSIGINTEndsProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		buf := make([]byte, 4096)
		var acc string
		for {
			n, err := out.Read(buf)
			acc += string(buf[:n])
			for {
				i := strings.IndexByte(acc, '\n')
				if i < 0 {
					break
				}
				lines <- acc[:i]
				acc = acc[i+1:]
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	expect := func(want string) {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("the child exited without printing %q", want)
				}
				if line == want {
					return
				}
			case <-timeout:
				cmd.Process.Kill()
				t.Fatalf("the child did not print %q within 10s", want)
			}
		}
	}
	expect("ready")
	cmd.Process.Signal(os.Interrupt)
	expect("cancelled: true") // the first SIGINT cancelled main, with its cause
	cmd.Process.Signal(os.Interrupt)
	for range lines {
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the child exited with %v after the second SIGINT, want death by SIGINT", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("the child ended with %v, want death by SIGINT", ee)
	}
}
