package aiotest_test

import (
	"fmt"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/aiotest"
)

// printT stands for the *testing.T of a test: it prints failures.
type printT struct{}

func (printT) Helper()                           {}
func (printT) Errorf(format string, args ...any) { fmt.Printf("FAIL: "+format+"\n", args...) }

// A test of a retry loop with exponential back-off: fifteen minutes of
// waiting, in microseconds of real time, at exact loop times. In a test,
// pass the test's t instead of printT{}.
func ExampleRun() {
	aiotest.Run(printT{}, func(c *aio.Ctx) error {
		start := c.Loop().Now()
		attempt := 0
		op := func() error {
			attempt++
			fmt.Printf("attempt %d at %v\n", attempt, c.Loop().Now().Sub(start))
			if attempt < 4 {
				return fmt.Errorf("unavailable")
			}
			return nil
		}
		backoff := time.Minute
		for op() != nil {
			if err := aio.Sleep(c, backoff); err != nil {
				return err
			}
			backoff *= 2
		}
		// A timeout fires at its exact deadline too.
		err := aio.WithTimeout(c, 30*time.Second, func(c *aio.Ctx) error { return aio.Sleep(c, time.Hour) })
		fmt.Printf("%v at %v\n", err, c.Loop().Now().Sub(start))
		return nil
	})
	// Output:
	// attempt 1 at 0s
	// attempt 2 at 1m0s
	// attempt 3 at 3m0s
	// attempt 4 at 7m0s
	// aio: timeout at 7m30s
}
