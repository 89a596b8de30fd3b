// Crawler-sim simulates a web crawler on one loop: it fetches a site level by
// level, one task per page, with a Sleep standing in for the network. It
// shows the everyday shape of aio code:
//
//   - Spawn many tasks and collect their results with GatherAll, so that one
//     broken page does not hide the others;
//   - a timeout built from Sleep and Cancel: a watchdog task sleeps, then
//     cancels the crawl with context.DeadlineExceeded as the cause;
//   - a task that handles its own cancellation: the crawler cancels the
//     fetches it started, waits for them, and returns what it has so far.
//
// It crawls the same site twice, with a generous and with a tight timeout.
package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aiogo/aio/aio"
)

// A page of the simulated site.
type page struct {
	latency time.Duration // how long the "server" takes to answer
	links   []string
	broken  bool // answers 404
}

// site is a binary tree of 31 pages: /0 links to /1 and /2, /1 to /3 and /4,
// and so on, with latencies from 5 to 29 ms. Page /9 is broken.
var site = func() map[string]page {
	const n = 31
	s := make(map[string]page, n)
	for i := range n {
		p := page{latency: time.Duration(5+i*7%25) * time.Millisecond}
		for _, child := range []int{2*i + 1, 2*i + 2} {
			if child < n {
				p.links = append(p.links, fmt.Sprintf("/%d", child))
			}
		}
		p.broken = i == 9
		s[fmt.Sprintf("/%d", i)] = p
	}
	return s
}()

// fetch simulates an HTTP GET: it suspends the calling task for the page's
// latency and returns its links. While it sleeps, the loop runs the other
// fetches.
func fetch(c *aio.Ctx, url string) ([]string, error) {
	p, ok := site[url]
	if err := aio.Sleep(c, p.latency); err != nil {
		return nil, err // cancelled
	}
	if !ok || p.broken {
		return nil, fmt.Errorf("GET %s: 404 not found", url)
	}
	return p.links, nil
}

// crawl fetches every page reachable from root, one level at a time, and
// returns the number of pages fetched. If the calling task is cancelled, it
// cancels the fetches in flight, waits for them to end, and returns the
// count so far with the cancellation error.
func crawl(c *aio.Ctx, root string) (int, error) {
	fetched := 0
	frontier := []string{root}
	for level := 0; len(frontier) > 0; level++ {
		// Gather takes awaitables; keep the tasks too, to cancel them.
		tasks := make([]*aio.Task[[]string], len(frontier))
		aws := make([]aio.Awaitable[[]string], len(frontier))
		for i, url := range frontier {
			t, err := aio.Spawn(c, func(c *aio.Ctx) ([]string, error) {
				return fetch(c, url)
			}, aio.WithName(url))
			if err != nil {
				return fetched, err
			}
			tasks[i], aws[i] = t, t
		}

		links, errs, err := aio.GatherAll(c, aws...)
		if err != nil {
			// We were cancelled. GatherAll leaves the fetches running:
			// cancel them with the same cause, and wait until they are done
			// (the cancellation was delivered, so this GatherAll waits).
			for _, t := range tasks {
				t.Cancel(aio.Cause(err))
			}
			aio.GatherAll(c, aws...)
			return fetched, err
		}

		var next []string
		ok := 0
		for i := range frontier {
			if errs[i] != nil {
				fmt.Printf("  level %d: %v\n", level, errs[i])
				continue
			}
			ok++
			next = append(next, links[i]...)
		}
		fetched += ok
		fmt.Printf("  level %d: fetched %d of %d pages\n", level, ok, len(frontier))
		frontier = next
	}
	return fetched, nil
}

// crawlWithTimeout runs crawl in its own task and cancels it after timeout.
func crawlWithTimeout(c *aio.Ctx, root string, timeout time.Duration) (int, error) {
	crawler, err := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
		return crawl(c, root)
	}, aio.WithName("crawler"))
	if err != nil {
		return 0, err
	}
	watchdog, err := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
		if err := aio.Sleep(c, timeout); err != nil {
			return struct{}{}, err // the crawl finished first
		}
		crawler.Cancel(context.DeadlineExceeded)
		return struct{}{}, nil
	}, aio.WithName("watchdog"))
	if err != nil {
		return 0, err
	}
	n, err := aio.Await(c, crawler)
	watchdog.Cancel(nil) // no-op if it already fired
	return n, err
}

func main() {
	for _, timeout := range []time.Duration{time.Second, 60 * time.Millisecond} {
		fmt.Printf("crawling with a %v timeout\n", timeout)
		n, err := aio.Run(func(c *aio.Ctx) (int, error) {
			return crawlWithTimeout(c, "/0", timeout)
		})
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			fmt.Printf("timed out after %d pages (%v)\n\n", n, err)
		case err != nil:
			fmt.Printf("failed after %d pages: %v\n\n", n, err)
		default:
			fmt.Printf("done: %d pages\n\n", n)
		}
	}
}
