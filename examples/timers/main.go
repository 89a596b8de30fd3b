// Timers shows the loop's timers on a loop driven by hand: one-shot
// callbacks with CallLater, a periodic tick that does not drift, built with
// CallAt and Handle.When, a timeout cancelled through its Handle before it
// fires, and a task that keeps time with Sleep. Timers fire in the order of
// their deadlines, never early; each line shows when it ran, counted from
// the start on the loop's clock.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aiogo/aio/aio"
)

func main() {
	l, err := aio.NewLoop()
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	start := l.Now()
	logf := func(format string, args ...any) {
		elapsed := l.Now().Sub(start).Truncate(time.Millisecond)
		fmt.Printf("%6v  %s\n", elapsed, fmt.Sprintf(format, args...))
	}

	// One-shot timers, scheduled out of order, fire in deadline order.
	for _, ms := range []int{90, 30, 60} {
		l.CallLater(time.Duration(ms)*time.Millisecond, func() {
			logf("one-shot timer set for %d ms", ms)
		})
	}

	// A periodic tick every 25 ms. Each tick schedules the next one at the
	// previous deadline plus the period, not at "now plus the period", so a
	// late tick does not push the later ones back.
	const period = 25 * time.Millisecond
	ticks := 0
	var tick func(due time.Time)
	tick = func(due time.Time) {
		ticks++
		logf("tick %d", ticks)
		if ticks < 4 {
			next := due.Add(period)
			l.CallAt(next, func() { tick(next) })
		}
	}
	first := start.Add(period)
	l.CallAt(first, func() { tick(first) })

	// A timeout that is cancelled because the work finishes first.
	timeout, _ := l.CallLater(50*time.Millisecond, func() { logf("timed out (never printed)") })
	logf("timeout due at +%v", timeout.When().Sub(start).Round(time.Millisecond))
	l.CallLater(40*time.Millisecond, func() {
		logf("work done: cancelling the timeout")
		timeout.Cancel()
	})

	// A task that keeps time with Sleep, then stops the loop.
	_, err = aio.Spawn(l, func(c *aio.Ctx) (struct{}, error) {
		for i := 1; i <= 2; i++ {
			if err := aio.Sleep(c, 45*time.Millisecond); err != nil {
				return struct{}{}, err
			}
			logf("task woke up (%d)", i)
		}
		if err := aio.Sleep(c, 20*time.Millisecond); err != nil {
			return struct{}{}, err
		}
		logf("task: stopping the loop")
		return struct{}{}, l.Stop()
	})
	if err != nil {
		log.Fatal(err)
	}

	if err := l.RunForever(); err != nil {
		log.Fatal(err)
	}
	// Cancel whatever is left (nothing here), report lost task errors, and
	// close the loop.
	if err := l.Shutdown(context.Background()); err != nil {
		log.Fatal(err)
	}
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}
}
