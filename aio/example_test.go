package aio_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aiogo/aio/aio"
)

// The smallest complete program: Run makes a loop, runs the main task on the
// calling goroutine until it returns, and closes the loop.
func ExampleRun() {
	msg, err := aio.Run(func(c *aio.Ctx) (string, error) {
		if err := aio.Sleep(c, 10*time.Millisecond); err != nil {
			return "", err
		}
		return "hello from the loop", nil
	})
	fmt.Println(msg, err)
	// Output:
	// hello from the loop <nil>
}

// Spawn starts tasks that run concurrently with the one that spawned them.
// The loop keeps every task alive until it is done, so a task nobody holds a
// reference to still runs to its end.
func ExampleSpawn() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		l := c.Loop()

		// Fire and forget: nobody keeps the *Task, and it still runs.
		aio.Spawn(l, func(c *aio.Ctx) (struct{}, error) {
			fmt.Println("background: started")
			return struct{}{}, nil
		})

		// A named task whose result we want.
		t, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
			fmt.Println(c.Name() + ": started")
			return 6 * 7, nil
		}, aio.WithName("answer"))
		if err != nil {
			return struct{}{}, err
		}

		// Spawn only queues the tasks: they start when this task suspends.
		fmt.Println("main: spawned", t.Name())
		n, err := aio.Await(c, t)
		fmt.Println("main: got", n)
		return struct{}{}, err
	})
	fmt.Println("err:", err)
	// Output:
	// main: spawned answer
	// background: started
	// answer: started
	// main: got 42
	// err: <nil>
}

// fetchPage is an ordinary function that suspends the task calling it: Await,
// Sleep and Yield work at any depth of a task's call stack.
func fetchPage(c *aio.Ctx, url string) (string, error) {
	page := aio.NewFuture[string](c.Loop())
	c.Loop().CallLater(10*time.Millisecond, func() {
		page.SetResult("<contents of " + url + ">")
	})
	return aio.Await(c, page)
}

// Await suspends the calling task until a future or task is done and returns
// its result and error. While the task is suspended the loop runs other work.
func ExampleAwait() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		// Await a plain future, through a helper function.
		page, err := fetchPage(c, "example.com")
		if err != nil {
			return struct{}{}, err
		}
		fmt.Println(page)

		// Await a task: its result and its error come back.
		t, _ := aio.Spawn(c.Loop(), func(c *aio.Ctx) (int, error) {
			return 0, errors.New("out of luck")
		})
		_, err = aio.Await(c, t)
		fmt.Println("task error:", err)
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// <contents of example.com>
	// task error: out of luck
	// err: <nil>
}

// slowReader is an io.Reader whose Read suspends the calling task until the
// next chunk "arrives", as a network connection would.
type slowReader struct {
	c      *aio.Ctx
	chunks []string
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	if err := aio.Sleep(r.c, time.Millisecond); err != nil {
		return 0, err
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	if r.chunks[0] == "" {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

// Because a task can suspend at any depth of its call stack, ordinary Go
// code such as bufio.Scanner runs unchanged inside a task: each time it calls
// Read, the task suspends and the loop runs other work.
func Example_ordinaryCode() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		r := &slowReader{c: c, chunks: []string{"hel", "lo\nwor", "ld\n"}}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			fmt.Println(sc.Text())
		}
		return struct{}{}, sc.Err()
	})
	// Output:
	// hello
	// world
}

// Cancel stops a task: the Await, Sleep or Yield it is suspended in returns a
// *CanceledError, which matches context.Canceled and carries the cause given
// to Cancel.
func ExampleTask_Cancel() {
	errUserQuit := errors.New("user quit")

	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		t, _ := aio.Spawn(c.Loop(), func(c *aio.Ctx) (string, error) {
			if err := aio.Sleep(c, time.Hour); err != nil {
				fmt.Println("worker:", err)
				return "", err // returning the cancellation ends the task cancelled
			}
			return "done", nil
		})
		aio.Yield(c) // let the worker start and go to sleep

		t.Cancel(errUserQuit)
		_, err := aio.Await(c, t)

		fmt.Println("cancelled:", t.Canceled())
		fmt.Println("is context.Canceled:", errors.Is(err, context.Canceled))
		fmt.Println("is errUserQuit:", errors.Is(err, errUserQuit))
		fmt.Println("cause:", aio.Cause(err))
		return struct{}{}, nil
	})
	// Output:
	// worker: aio: canceled: user quit
	// cancelled: true
	// is context.Canceled: true
	// is errUserQuit: true
	// cause: user quit
}

// A task may handle a cancellation and go on: the error is a value like any
// other.
func ExampleTask_Cancel_handled() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		t, _ := aio.Spawn(c.Loop(), func(c *aio.Ctx) (string, error) {
			if err := aio.Sleep(c, time.Hour); errors.Is(err, context.Canceled) {
				fmt.Println("worker: cancelled, cleaning up")
				// The request is consumed: this Sleep is not interrupted.
				aio.Sleep(c, time.Millisecond)
				return "partial result", nil
			}
			return "full result", nil
		})
		aio.Yield(c)
		t.Cancel(nil)
		v, err := aio.Await(c, t)
		fmt.Println(v, err, t.Canceled())
		return struct{}{}, nil
	})
	// Output:
	// worker: cancelled, cleaning up
	// partial result <nil> false
}

// Gather waits for several tasks and returns their results in order, whatever
// the order in which they finish.
func ExampleGather() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		square := func(n int) func(*aio.Ctx) (int, error) {
			return func(c *aio.Ctx) (int, error) {
				// The larger n, the sooner done.
				err := aio.Sleep(c, time.Duration(40-10*n)*time.Millisecond)
				return n * n, err
			}
		}
		var tasks []aio.Awaitable[int]
		for n := 1; n <= 3; n++ {
			t, _ := aio.Spawn(c.Loop(), square(n))
			tasks = append(tasks, t)
		}
		squares, err := aio.Gather(c, tasks...)
		fmt.Println(squares, err)
		return struct{}{}, nil
	})
	// Output:
	// [1 4 9] <nil>
}

// GatherAll waits until every task is done and returns each one's result and
// error, so that one failure does not hide the others.
func ExampleGatherAll() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		div := func(a, b int) func(*aio.Ctx) (int, error) {
			return func(c *aio.Ctx) (int, error) {
				if b == 0 {
					return 0, fmt.Errorf("%d/%d: division by zero", a, b)
				}
				return a / b, nil
			}
		}
		t1, _ := aio.Spawn(c.Loop(), div(10, 2))
		t2, _ := aio.Spawn(c.Loop(), div(1, 0))
		t3, _ := aio.Spawn(c.Loop(), div(9, 3))

		results, errs, err := aio.GatherAll(c, t1, t2, t3)
		if err != nil {
			return struct{}{}, err // the calling task was cancelled
		}
		for i := range results {
			fmt.Println(results[i], errs[i])
		}
		return struct{}{}, nil
	})
	// Output:
	// 5 <nil>
	// 0 1/0: division by zero
	// 3 <nil>
}

// Sleep suspends the calling task; the loop runs others meanwhile, so sleeping
// tasks wake in the order of their deadlines.
func ExampleSleep() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		var tasks []aio.Awaitable[struct{}]
		for _, ms := range []int{30, 10, 20} {
			t, _ := aio.Spawn(c.Loop(), func(c *aio.Ctx) (struct{}, error) {
				err := aio.Sleep(c, time.Duration(ms)*time.Millisecond)
				fmt.Println("slept", ms, "ms")
				return struct{}{}, err
			})
			tasks = append(tasks, t)
		}
		_, err := aio.Gather(c, tasks...)
		return struct{}{}, err
	})
	// Output:
	// slept 10 ms
	// slept 20 ms
	// slept 30 ms
}

// Yield lets every other ready task and callback run once, then resumes the
// caller: a long computation calls it now and then to share the loop.
func ExampleYield() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		worker := func(name string) func(*aio.Ctx) (struct{}, error) {
			return func(c *aio.Ctx) (struct{}, error) {
				for i := 1; i <= 3; i++ {
					fmt.Println(name, i)
					if err := aio.Yield(c); err != nil {
						return struct{}{}, err
					}
				}
				return struct{}{}, nil
			}
		}
		a, _ := aio.Spawn(c.Loop(), worker("a"))
		b, _ := aio.Spawn(c.Loop(), worker("b"))
		_, err := aio.Gather(c, a, b)
		return struct{}{}, err
	})
	// Output:
	// a 1
	// b 1
	// a 2
	// b 2
	// a 3
	// b 3
}

// A loop can be driven by hand: NewLoop, schedule callbacks, run it until
// Stop or until a condition holds, then Close it.
func ExampleNewLoop() {
	l, err := aio.NewLoop()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	l.CallLater(20*time.Millisecond, func() {
		fmt.Println("timer: stopping the loop")
		l.Stop()
	})
	l.CallSoon(func() { fmt.Println("soon: first iteration") })

	// RunForever returns after Stop.
	if err := l.RunForever(); err != nil {
		fmt.Println(err)
	}

	// RunUntil returns once its condition holds; the condition is checked on
	// the loop goroutine, so it may read loop state without locks.
	ticks := 0
	var tick func()
	tick = func() {
		ticks++
		l.CallLater(time.Millisecond, tick)
	}
	l.CallSoon(tick)
	if err := l.RunUntil(func() bool { return ticks == 3 }); err != nil {
		fmt.Println(err)
	}
	fmt.Println("ticks:", ticks)

	// After Close, scheduling fails.
	l.Close()
	_, err = l.CallSoon(func() {})
	fmt.Println(errors.Is(err, aio.ErrClosed))
	// Output:
	// soon: first iteration
	// timer: stopping the loop
	// ticks: 3
	// true
}

// Timers fire in the order of their deadlines, not in the order they were
// scheduled, and timers with equal deadlines fire in the order they were
// scheduled.
func ExampleLoop_CallLater() {
	l, _ := aio.NewLoop()
	defer l.Close()

	for _, ms := range []int{30, 10, 20} {
		l.CallLater(time.Duration(ms)*time.Millisecond, func() {
			fmt.Println("fired after", ms, "ms")
		})
	}
	at := l.Now().Add(40 * time.Millisecond)
	for _, name := range []string{"first", "second"} {
		l.CallAt(at, func() { fmt.Println("at 40 ms:", name) })
	}
	l.CallLater(50*time.Millisecond, func() { l.Stop() })
	l.RunForever()
	// Output:
	// fired after 10 ms
	// fired after 20 ms
	// fired after 30 ms
	// at 40 ms: first
	// at 40 ms: second
}

// CallSoon may be called from any goroutine: the callback runs on the loop
// goroutine, so the state it touches needs no lock.
func ExampleLoop_CallSoon() {
	l, _ := aio.NewLoop()
	defer l.Close()

	const producers = 10
	received, sum := 0, 0 // owned by the loop goroutine: no lock needed

	var wg sync.WaitGroup
	for i := 1; i <= producers; i++ {
		wg.Go(func() {
			// Each plain goroutine hands a callback to the loop.
			l.CallSoon(func() {
				received++
				sum += i
			})
		})
	}
	// The calling goroutine becomes the loop goroutine for the run.
	l.RunUntil(func() bool { return received == producers })
	wg.Wait()
	fmt.Println(received, "callbacks, sum", sum)
	// Output:
	// 10 callbacks, sum 55
}

// A Handle cancels a scheduled callback if it has not run yet.
func ExampleHandle_Cancel() {
	l, _ := aio.NewLoop()
	defer l.Close()

	timeout, _ := l.CallLater(50*time.Millisecond, func() { fmt.Println("timed out") })
	l.CallLater(10*time.Millisecond, func() {
		fmt.Println("work done; cancelling the timeout")
		timeout.Cancel()
	})
	// Stop after the timeout's deadline: it does not fire.
	l.CallAt(timeout.When().Add(10*time.Millisecond), func() { l.Stop() })
	l.RunForever()
	// Output:
	// work done; cancelling the timeout
}

// A Future is a result that is not there yet. Here a timer callback
// completes it, and a task awaits it.
func ExampleFuture() {
	v, err := aio.Run(func(c *aio.Ctx) (string, error) {
		l := c.Loop()
		f := aio.NewFuture[string](l)
		l.CallLater(10*time.Millisecond, func() {
			f.SetResult("set by a callback")
		})
		fmt.Println("done before Await:", f.IsDone())
		return aio.Await(c, f)
	})
	fmt.Println(v, err)
	// Output:
	// done before Await: false
	// set by a callback <nil>
}

// SetResult may be called from any goroutine. This is how a task hands
// blocking work to a plain goroutine without stalling the loop.
func ExampleFuture_SetResult() {
	v, err := aio.Run(func(c *aio.Ctx) (int, error) {
		f := aio.NewFuture[int](c.Loop())
		go func() {
			// Blocking work belongs here, off the loop.
			time.Sleep(10 * time.Millisecond)
			f.SetResult(42)
		}()
		return aio.Await(c, f)
	})
	fmt.Println(v, err)
	// Output:
	// 42 <nil>
}

// A plain goroutine can submit a task to a running loop and wait for its
// result with Wait (or by selecting on Done).
func ExampleFuture_Wait() {
	l, _ := aio.NewLoop()

	// The loop runs on its own goroutine until stopped, then shuts down.
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		l.RunForever()
		l.Shutdown(context.Background())
		l.Close()
	}()

	t, err := aio.Spawn(l, func(c *aio.Ctx) (string, error) {
		if err := aio.Sleep(c, 10*time.Millisecond); err != nil {
			return "", err
		}
		return "computed on the loop", nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := t.Wait(ctx)
	fmt.Println(v, err)

	l.Stop()
	<-loopDone
	// Output:
	// computed on the loop <nil>
}

// RunUntilComplete runs a loop until one task (or future) is done, and
// returns its result; the loop can be run again afterwards.
func ExampleRunUntilComplete() {
	l, _ := aio.NewLoop()
	defer l.Close()

	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		if err := aio.Sleep(c, 10*time.Millisecond); err != nil {
			return 0, err
		}
		return 7, nil
	})
	v, err := aio.RunUntilComplete(l, t)
	fmt.Println(v, err)

	// Shutdown cancels what is left and reports unretrieved errors.
	if err := l.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 7 <nil>
}

// The error handler receives the errors nobody else can receive, such as a
// panic in a callback. The loop goes on after it.
func ExampleLoop_SetErrorHandler() {
	l, _ := aio.NewLoop()
	defer l.Close()

	l.SetErrorHandler(func(l *aio.Loop, ec aio.ErrorContext) {
		var pe *aio.PanicError
		if errors.As(ec.Err, &pe) {
			fmt.Printf("%s: %v\n", ec.Message, pe.Value)
			return
		}
		fmt.Printf("%s: %v\n", ec.Message, ec.Err)
	})
	l.CallSoon(func() { panic("boom") })
	l.CallSoon(func() { fmt.Println("the next callback still runs") })
	l.CallLater(time.Millisecond, func() { l.Stop() })
	l.RunForever()
	// Output:
	// aio: panic in callback: boom
	// the next callback still runs
}

// A task that fails when nobody awaits it is not lost: its error reaches the
// error handler at the latest when the loop shuts down.
func ExampleLoop_SetErrorHandler_unretrieved() {
	aio.Run(func(c *aio.Ctx) (struct{}, error) {
		c.Loop().SetErrorHandler(func(l *aio.Loop, ec aio.ErrorContext) {
			fmt.Printf("%s: %s: %v\n", ec.Message, ec.Task.Name(), ec.Err)
		})
		aio.Spawn(c.Loop(), func(c *aio.Ctx) (struct{}, error) {
			return struct{}{}, errors.New("disk full")
		}, aio.WithName("saver"))
		aio.Yield(c) // the task runs and fails; nobody awaits it
		fmt.Println("main: returning")
		return struct{}{}, nil
	})
	// Output:
	// main: returning
	// aio: task error was never retrieved: saver: disk full
}
