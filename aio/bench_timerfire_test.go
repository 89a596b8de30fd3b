package aio_test

import (
	"testing"
	"time"
)

// BenchmarkTimerFireChain measures a timer that fires in every iteration:
// each timer's callback schedules the next with no delay, so each link is
// one loop iteration with one timer fired (and its lag recorded).
func BenchmarkTimerFireChain(b *testing.B) {
	l := benchLoop(b)
	n := 0
	var link func()
	link = func() {
		n++
		if n < b.N {
			l.CallLater(0, link)
		}
	}
	l.CallLater(time.Duration(0), link)
	b.ReportAllocs()
	b.ResetTimer()
	l.RunUntil(func() bool { return n >= b.N })
}
