// Crawler-sim simulates a web crawler on one loop: it fetches a site level by
// level, one task per page, with a Sleep standing in for the network. It
// shows the everyday shape of aio code:
//
//   - a task group per level: the level's fetches run side by side, and the
//     group ends when all of them have (a broken page is reported by its
//     task and does not stop the others);
//   - a timeout around the whole crawl, WithTimeout: on expiry the fetches in
//     flight are cancelled, the groups wait for them, and the crawl returns
//     ErrTimeout with the count of pages it has so far.
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
// adds each page fetched to *fetched. A cancellation (the timeout's) stops
// the level's fetches; the group waits for them and returns it.
func crawl(c *aio.Ctx, root string, fetched *int) error {
	frontier := []string{root}
	for level := 0; len(frontier) > 0; level++ {
		var next []string
		ok := 0
		err := aio.WithGroup(c, func(g *aio.Group) error {
			for _, url := range frontier {
				_, err := aio.Spawn(g, func(c *aio.Ctx) (struct{}, error) {
					links, err := fetch(c, url)
					if err != nil && !errors.Is(err, context.Canceled) {
						fmt.Printf("  level %d: %v\n", level, err)
						return struct{}{}, nil // a broken page is not the crawl's failure
					}
					if err == nil {
						ok++
						*fetched++
						next = append(next, links...)
					}
					return struct{}{}, err
				}, aio.WithName(url))
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Printf("  level %d: fetched %d of %d pages\n", level, ok, len(frontier))
		frontier = next
	}
	return nil
}

func main() {
	for _, timeout := range []time.Duration{time.Second, 60 * time.Millisecond} {
		fmt.Printf("crawling with a %v timeout\n", timeout)
		n, err := aio.Run(func(c *aio.Ctx) (int, error) {
			n := 0
			err := aio.WithTimeout(c, timeout, func(c *aio.Ctx) error {
				return crawl(c, "/0", &n)
			})
			return n, err
		})
		switch {
		case errors.Is(err, aio.ErrTimeout):
			fmt.Printf("timed out after %d pages (%v)\n\n", n, err)
		case err != nil:
			fmt.Printf("failed after %d pages: %v\n\n", n, err)
		default:
			fmt.Printf("done: %d pages\n\n", n)
		}
	}
}
