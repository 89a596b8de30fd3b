package aio_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/aiogo/aio/aio"
)

// parseConfig stands for a callback that does too much work on the loop.
func parseConfig() { time.Sleep(30 * time.Millisecond) }

// Debug mode reports a callback that held the loop too long, by its
// function's name and where it was scheduled, and, when the loop closes, a
// future nobody completed and a resource nobody closed, each with where it
// was made. (The watchdog's reports of the blocked loop, which come while
// the callback still runs, are left out here.)
func ExampleWithDebug() {
	handler := func(l *aio.Loop, ec aio.ErrorContext) {
		if errors.Is(ec.Err, aio.ErrLoopBlocked) {
			return
		}
		file, _, _ := strings.Cut(filepath.Base(ec.Site), ":")
		switch {
		case errors.Is(ec.Err, aio.ErrSlowCallback):
			fmt.Println(ec.Message, filepath.Ext(ec.Callback), "scheduled in", file)
		default:
			fmt.Println(ec.Message, "made in", file)
		}
	}
	_, err := aio.Run(func(c *aio.Ctx) (int, error) {
		l := c.Loop()
		l.SetSlowCallbackDuration(20 * time.Millisecond)
		l.CallSoon(parseConfig)
		aio.NewFuture[int](l) // nobody completes it
		l.TrackResource("connection pool", func() string { return "db" })
		return 0, aio.Sleep(c, time.Millisecond)
	}, aio.WithDebug(), aio.WithErrorHandler(handler), aio.WithoutInterrupt())
	fmt.Println("Run:", err)
	// Output:
	// aio: slow callback .parseConfig scheduled in example_debug_test.go
	// aio: connection pool never closed made in example_debug_test.go
	// aio: future never completed made in example_debug_test.go
	// Run: <nil>
}
