// Package aiotest runs aio code in tests on a virtual clock: time stands
// still while anything is ready and jumps to the next timer's deadline when
// every task waits, so a test that sleeps an hour finishes in microseconds
// and gives the same trace every run, however loaded the machine is.
//
// Run is the entry point. It runs a test body as the main task of a new loop
// on the virtual clock (aio.WithVirtualClock), and turns into test failures
// what would otherwise be silent: the body's error, every report that
// reaches the loop's error handler (a failed task nobody awaited, a panic in
// a callback, a task that did not finish its shutdown), and a run that does
// not end within a real-time bound (DefaultTimeout, or Timeout):
//
//	func TestRetry(t *testing.T) {
//		aiotest.Run(t, func(c *aio.Ctx) error {
//			start := c.Loop().Now()
//			err := retry(c, 5, time.Minute) // backs off for minutes, virtually
//			if got := c.Loop().Now().Sub(start); got != 15*time.Minute {
//				t.Errorf("retried for %v", got)
//			}
//			return err
//		})
//	}
//
// # The virtual clock
//
// The clock starts at 2000-01-01 00:00:00 UTC. Loop code takes no time: a
// callback or a task step runs at the instant the loop had when it began,
// so a trace of (l.Now(), event) pairs depends only on the program. The
// loop's time moves when the loop has nothing to do and no hold is
// outstanding (see aio.Loop.HoldClock): it jumps to the next timer, which
// fires. A test can also move it itself, with c.Loop().AdvanceClock(d), as
// if the loop had been blocked for d.
//
// Work outside the loop is the exception to the jumps. A function of
// aio/executor takes a hold while it is in flight, so the clock waits for
// it in real time: an executor call that takes 50 ms of real time, awaited
// under a timeout of one second, returns before its timeout, as on the real
// clock. A plain goroutine that completes a future is not seen: the clock
// may jump past the timeouts of its waiters first. Have it take a hold
// (c.Loop().HoldClock() before the goroutine starts, release after its
// SetResult), or run it through aio/executor. HoldLimit lets the clock
// jump despite holds once the loop has waited that long in real time, for
// held work that may never end.
//
// A loop with no timer pending and no hold outstanding waits for real, as
// on the real clock: if nothing from outside wakes it, that is a deadlock,
// and Run's real-time bound ends it with a failure that says so.
//
// # Rules
//
// The body runs on the loop's thread: it must not call t.Fatal, t.FailNow
// or t.SkipNow (they end the loop's goroutine; see the aio package's
// "Goexit"). Record failures with t.Errorf and return an error to end the
// body early. Run itself may be called from any test goroutine, and leaves
// no goroutine behind when it returns.
package aiotest
