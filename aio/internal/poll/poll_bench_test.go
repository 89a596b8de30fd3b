//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package poll

import (
	"testing"
)

// BenchmarkWaitReady measures a Wait that finds one ready fd: one
// epoll_wait or kevent call that does not block.
func BenchmarkWaitReady(b *testing.B) {
	p := newPoller(b)
	fds := newFDSet(b)
	r, w := fds.pipe()
	write(b, w, 1)
	if err := p.Add(r, Read); err != nil {
		b.Fatal(err)
	}
	var events [64]Event
	b.ReportAllocs()
	for b.Loop() {
		if n, err := p.Wait(events[:], -1); n != 1 || err != nil {
			b.Fatalf("Wait = %d, %v", n, err)
		}
	}
}

// BenchmarkWakeCoalesced measures Wake from all Ps at once with no Wait
// in between: after the first, every call finds a wake-up in flight and
// makes no syscall. The wake-syscalls metric is the total made: 1.
func BenchmarkWakeCoalesced(b *testing.B) {
	p := newPoller(b)
	before := p.WakeSyscalls()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := p.Wake(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(p.WakeSyscalls()-before), "wake-syscalls")
}

// BenchmarkWakeAndWait measures a full wake-up round trip: a Wake that
// makes its syscall, and the Wait that consumes it. In "same goroutine"
// both run on one goroutine, so Wait never blocks; in "cross goroutine"
// the loop goroutine blocks in Wait and a producer wakes it, waiting for
// each Wait to return before the next Wake (the latency of a wake-up).
func BenchmarkWakeAndWait(b *testing.B) {
	b.Run("same goroutine", func(b *testing.B) {
		p := newPoller(b)
		var events [64]Event
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Wake(); err != nil {
				b.Fatal(err)
			}
			if n, err := p.Wait(events[:], -1); n != 0 || err != nil {
				b.Fatalf("Wait = %d, %v", n, err)
			}
		}
	})
	b.Run("cross goroutine", func(b *testing.B) {
		p := newPoller(b)
		returned := make(chan struct{})
		stop, exited := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(exited)
			var events [64]Event
			for {
				if _, err := p.Wait(events[:], -1); err != nil {
					b.Error(err)
					return
				}
				select {
				case returned <- struct{}{}:
				case <-stop:
					return
				}
			}
		}()
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Wake(); err != nil {
				b.Fatal(err)
			}
			<-returned
		}
		close(stop)
		p.Wake()
		<-exited // before the cleanup closes p
	})
}
