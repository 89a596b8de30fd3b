package aio_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aiogo/aio/aio"
)

// fetch pretends to fetch url: it takes d, and fails for a url that ends
// in "/missing".
func fetch(c *aio.Ctx, url string, d time.Duration) (string, error) {
	if err := aio.Sleep(c, d); err != nil {
		return "", err
	}
	if len(url) > 8 && url[len(url)-8:] == "/missing" {
		return "", fmt.Errorf("fetch %s: not found", url)
	}
	return "<" + url + ">", nil
}

// A task group runs tasks side by side and waits for all of them. Go takes
// a body with no result; Spawn into the group returns the *Task, whose
// result is there once the group has ended.
func ExampleWithGroup() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		var pages []*aio.Task[string]
		err := aio.WithGroup(c, func(g *aio.Group) error {
			for _, url := range []string{"a.example/1", "a.example/2"} {
				t, err := aio.Spawn(g, func(c *aio.Ctx) (string, error) {
					return fetch(c, url, 10*time.Millisecond)
				})
				if err != nil {
					return err
				}
				pages = append(pages, t)
			}
			return g.Go(func(c *aio.Ctx) error {
				fmt.Println("logging while the pages load")
				return nil
			})
		})
		if err != nil {
			return struct{}{}, err
		}
		for _, t := range pages {
			page, _ := t.Result()
			fmt.Println(page)
		}
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// logging while the pages load
	// <a.example/1>
	// <a.example/2>
	// err: <nil>
}

// The first task of a group to fail cancels the others; the group returns
// the failures, each a *TaskError that names its task, joined.
func ExampleWithGroup_failure() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		err := aio.WithGroup(c, func(g *aio.Group) error {
			g.Go(func(c *aio.Ctx) error {
				_, err := fetch(c, "a.example/slow", time.Hour)
				fmt.Println("slow fetch:", err)
				return err
			})
			_, err := aio.Spawn(g, func(c *aio.Ctx) (string, error) {
				return fetch(c, "a.example/missing", 10*time.Millisecond)
			}, aio.WithName("missing"))
			return err
		})
		var te *aio.TaskError
		if errors.As(err, &te) {
			fmt.Println("failed:", te.Task.Name())
		}
		fmt.Println("group:", err != nil)
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// slow fetch: aio: canceled: aio: task group cancelled
	// failed: missing
	// group: true
	// err: <nil>
}

// WithTimeout bounds the time its body may take. On expiry it returns
// ErrTimeout, which matches context.DeadlineExceeded and not
// context.Canceled.
func ExampleWithTimeout() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		err := aio.WithTimeout(c, 10*time.Millisecond, func(c *aio.Ctx) error {
			_, err := fetch(c, "a.example/slow", time.Hour)
			return err
		})
		fmt.Println(err)
		fmt.Println(errors.Is(err, aio.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled))

		// A body that is done in time returns its own outcome.
		err = aio.WithTimeout(c, time.Hour, func(c *aio.Ctx) error {
			page, err := fetch(c, "a.example/fast", time.Millisecond)
			fmt.Println(page)
			return err
		})
		fmt.Println(err)
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// aio: timeout
	// true true false
	// <a.example/fast>
	// <nil>
	// err: <nil>
}

// WithScope is a cancel scope: cancelling it (here through a deadline set
// on it, trio's move_on_after) stops the work inside it, and the scope
// absorbs its own cancellation: WithScope returns nil, and the scope says
// what happened.
func ExampleWithScope() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		var s *aio.Scope
		err := aio.WithScope(c, func(scope *aio.Scope) error {
			s = scope
			s.SetTimeout(50 * time.Millisecond)
			for i := 1; i <= 2; i++ {
				if err := aio.Sleep(c, time.Millisecond); err != nil {
					return err
				}
				fmt.Println("step", i)
			}
			return aio.Sleep(c, time.Hour) // cut short by the deadline
		})
		fmt.Println(err, s.Canceled(), s.Expired())
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// step 1
	// step 2
	// <nil> true true
	// err: <nil>
}

// Shielded keeps cancellations from outside out of its body until the body
// returns: cleanup that must finish does not get cut short. The next
// suspension point after it gets the cancellation.
func ExampleShielded() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		t, _ := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
			err := aio.Sleep(c, time.Hour)
			fmt.Println("work:", err)
			aio.Shielded(c, func(c *aio.Ctx) error {
				err := aio.Sleep(c, 10*time.Millisecond) // not interrupted
				fmt.Println("cleanup done:", err)
				return nil
			})
			err = aio.Yield(c) // the cancellation that waited
			fmt.Println("after the cleanup:", err)
			return struct{}{}, err
		})
		aio.Yield(c)
		t.Cancel(nil)
		aio.Yield(c)
		t.Cancel(nil) // arrives during the cleanup: it waits
		_, err := aio.Await(c, t)
		fmt.Println("task:", err)
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// work: aio: canceled
	// cleanup done: <nil>
	// after the cleanup: aio: canceled
	// task: aio: canceled
	// err: <nil>
}

// WaitFor waits for a task with a timeout; on expiry it cancels the task,
// waits for it to finish, and returns ErrTimeout.
func ExampleWaitFor() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		slow, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) {
			return fetch(c, "a.example/slow", time.Hour)
		})
		_, err := aio.WaitFor[string](c, slow, 10*time.Millisecond)
		fmt.Println(err, slow.Canceled())

		fast, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) {
			return fetch(c, "a.example/fast", time.Millisecond)
		})
		page, err := aio.WaitFor[string](c, fast, time.Hour)
		fmt.Println(page, err)
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// aio: timeout true
	// <a.example/fast> <nil>
	// err: <nil>
}

// AsCompleted yields outcomes in the order they complete. Leaving the loop
// early leaves the rest running, with nothing of the iterator's left on
// them.
func ExampleAsCompleted() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		var tasks []*aio.Task[string]
		for _, ms := range []int{30, 10, 20} {
			t, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) {
				return fetch(c, fmt.Sprintf("a.example/%d", ms), time.Duration(ms)*time.Millisecond)
			})
			tasks = append(tasks, t)
		}
		for page, err := range aio.AsCompleted(c, tasks...) {
			fmt.Println(page, err)
		}
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// <a.example/10> <nil>
	// <a.example/20> <nil>
	// <a.example/30> <nil>
	// err: <nil>
}

// Wait waits for some of several awaitables, as its mode says, and returns
// the done and the pending ones; it cancels nothing.
func ExampleWait() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		var tasks []*aio.Task[string]
		for _, ms := range []int{30, 10} {
			t, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) {
				return fetch(c, fmt.Sprintf("a.example/%d", ms), time.Duration(ms)*time.Millisecond)
			})
			tasks = append(tasks, t)
		}
		done, pending, err := aio.Wait(c, tasks, aio.FirstCompleted, -1)
		if err != nil {
			return struct{}{}, err
		}
		first, _ := done[0].Result()
		fmt.Println(first, len(pending))
		rest, err := aio.Await(c, pending[0])
		fmt.Println(rest, err)
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// <a.example/10> 1
	// <a.example/30> <nil>
	// err: <nil>
}

// Shield protects a task from the cancellations aimed at whoever awaits it:
// the waiter gives up, the task goes on, and its result is still there.
func ExampleShield() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		save, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) {
			return fetch(c, "a.example/save", 20*time.Millisecond)
		})
		_, err := aio.WaitFor(c, aio.Shield[string](save), 10*time.Millisecond)
		fmt.Println(err)
		page, err := aio.Await(c, save)
		fmt.Println(page, err)
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// aio: timeout
	// <a.example/save> <nil>
	// err: <nil>
}

// GatherOrCancel is Gather that cancels the rest on the first failure.
func ExampleGatherOrCancel() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		slow, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) { return fetch(c, "a.example/slow", time.Hour) })
		bad, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) { return fetch(c, "a.example/missing", time.Millisecond) })
		_, err := aio.GatherOrCancel(c, slow, bad)
		fmt.Println(err)
		fmt.Println("slow cancelled:", slow.Canceled())
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// fetch a.example/missing: not found
	// slow cancelled: true
	// err: <nil>
}

// A TaskSet holds tasks of one result type: JoinNext takes them in the
// order they finish; Close cancels and waits for what is left.
func ExampleTaskSet() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		set, err := aio.NewTaskSet[int](c)
		if err != nil {
			return struct{}{}, err
		}
		for _, ms := range []int{30, 10, 20, 1000} {
			set.Spawn(func(c *aio.Ctx) (int, error) {
				return ms, aio.Sleep(c, time.Duration(ms)*time.Millisecond)
			})
		}
		for range 3 {
			t, err := set.JoinNext(c)
			if err != nil {
				return struct{}{}, err
			}
			ms, _ := t.Result()
			fmt.Println("done after", ms, "ms; left:", set.Len())
		}
		return struct{}{}, set.Close(c) // cancels the 1000 ms task
	})
	fmt.Println("err:", err)
	// Output:
	// done after 10 ms; left: 3
	// done after 20 ms; left: 2
	// done after 30 ms; left: 1
	// err: <nil>
}

// An eager task runs inside Spawn until it first suspends: one that has its
// answer at hand is done before Spawn returns.
func ExampleWithEagerStart() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		cache := map[string]string{"a.example/1": "<cached>"}
		get := func(url string) func(*aio.Ctx) (string, error) {
			return func(c *aio.Ctx) (string, error) {
				if page, ok := cache[url]; ok {
					return page, nil
				}
				return fetch(c, url, time.Millisecond)
			}
		}
		hit, _ := aio.Spawn(c, get("a.example/1"), aio.WithEagerStart())
		miss, _ := aio.Spawn(c, get("a.example/2"), aio.WithEagerStart())
		fmt.Println(hit.IsDone(), miss.IsDone())
		page, err := aio.Await(c, miss)
		fmt.Println(page, err)
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// true false
	// <a.example/2> <nil>
	// err: <nil>
}

// A task hook sees every task spawned on the loop and can wrap its body:
// here, to log when each task starts and ends.
func ExampleLoop_SetTaskHook() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		c.Loop().SetTaskHook(func(t aio.AnyTask, body func(*aio.Ctx) error) func(*aio.Ctx) error {
			return func(c *aio.Ctx) error {
				fmt.Println("start", t.Name())
				err := body(c)
				fmt.Println("end", t.Name(), err)
				return err
			}
		})
		t, _ := aio.Spawn(c, func(c *aio.Ctx) (string, error) {
			return fetch(c, "a.example/1", time.Millisecond)
		}, aio.WithName("fetcher"))
		page, err := aio.Await(c, t)
		fmt.Println(page, err)
		return struct{}{}, nil
	})
	fmt.Println("err:", err)
	// Output:
	// start fetcher
	// end fetcher <nil>
	// <a.example/1> <nil>
	// err: <nil>
}
