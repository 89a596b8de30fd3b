package aio_test

import (
	"reflect"
	"runtime"
	"testing"

	"github.com/aiogo/aio/aio"
)

// Benchmarks of GoRecv, GoSend and GoRecvCase, beside a goroutine doing the
// same job with plain channel operations, and of the two helper designs
// (a goroutine per wait, one shared goroutine per loop with reflect.Select)
// on their own, without a loop, to choose between them.

// BenchmarkGoRecvRoundTrip measures a request and response with a
// goroutine: the task sends a request on a buffered Go channel (never
// blocking) and awaits the response with GoRecv; the goroutine answers
// after it got the request, so the task has parked (or is about to) and a
// helper goroutine carries the value back through the door.
func BenchmarkGoRecvRoundTrip(b *testing.B) {
	l := benchLoop(b)
	req, resp := make(chan int, 1), make(chan int)
	go func() {
		for v := range req {
			resp <- v
		}
	}()
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		b.ResetTimer()
		for i := range b.N {
			req <- i
			if v, _, err := aio.GoRecv(c, resp); err != nil || v != i {
				b.Fatalf("GoRecv = %d, %v", v, err)
			}
		}
		b.StopTimer()
		close(req)
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkGoRecvRoundTripGoroutine is the baseline: a goroutine blocked on
// the same receive, with plain channel operations.
func BenchmarkGoRecvRoundTripGoroutine(b *testing.B) {
	req, resp := make(chan int, 1), make(chan int)
	go func() {
		for v := range req {
			resp <- v
		}
	}()
	b.ReportAllocs()
	for i := range b.N {
		req <- i
		if v := <-resp; v != i {
			b.Fatalf("got %d", v)
		}
	}
	close(req)
}

// BenchmarkGoRecvRoundTripLockedGoroutine is the same baseline from a
// goroutine locked to its OS thread, as the loop's goroutine is: waking a
// locked thread is an OS-level wake-up, which is most of GoRecv's cost.
func BenchmarkGoRecvRoundTripLockedGoroutine(b *testing.B) {
	req, resp := make(chan int, 1), make(chan int)
	go func() {
		for v := range req {
			resp <- v
		}
	}()
	b.ReportAllocs()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for i := range b.N {
			req <- i
			if v := <-resp; v != i {
				panic("wrong value")
			}
		}
	}()
	<-done
	close(req)
}

// BenchmarkGoSendRoundTrip is the send side: the task awaits GoSend on an
// unbuffered channel that the goroutine receives from once it got the
// task's go-ahead on a buffered channel.
func BenchmarkGoSendRoundTrip(b *testing.B) {
	l := benchLoop(b)
	req, data := make(chan struct{}, 1), make(chan int)
	go func() {
		for range req {
			<-data
		}
	}()
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		b.ResetTimer()
		for i := range b.N {
			req <- struct{}{}
			if err := aio.GoSend(c, data, i); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		close(req)
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkGoRecvReady measures the fast path: a buffered channel that
// holds a value; no goroutine, no suspension.
func BenchmarkGoRecvReady(b *testing.B) {
	l := benchLoop(b)
	ch := make(chan int, 1)
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		b.ResetTimer()
		for i := range b.N {
			ch <- i
			if _, _, err := aio.GoRecv(c, ch); err != nil {
				b.Fatal(err)
			}
		}
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkSelectGoRecvCase measures a Select of a GoRecvCase (answered by
// a goroutine, as in BenchmarkGoRecvRoundTrip) beside a Chan case that
// stays empty.
func BenchmarkSelectGoRecvCase(b *testing.B) {
	l := benchLoop(b)
	req, resp := make(chan int, 1), make(chan int)
	go func() {
		for v := range req {
			resp <- v
		}
	}()
	b.ReportAllocs()
	t, _ := aio.Spawn(l, func(c *aio.Ctx) (int, error) {
		var lch aio.Chan[int]
		var v int
		b.ResetTimer()
		for i := range b.N {
			req <- i
			if k, err := aio.Select(c, aio.GoRecvCase(resp, &v, nil), aio.RecvCase(&lch, nil, nil)); err != nil || k != 0 || v != i {
				b.Fatalf("Select = %d, %v, %d", k, err, v)
			}
		}
		b.StopTimer()
		close(req)
		return 0, nil
	})
	aio.RunUntilComplete(l, t)
}

// BenchmarkHelperGoroutinePerWait is the per-wait helper design on its
// own: for each value, start a goroutine that selects on the channel and a
// stop channel and reports on a buffered channel (the door's stand-in).
func BenchmarkHelperGoroutinePerWait(b *testing.B) {
	req, resp := make(chan int, 1), make(chan int)
	go func() {
		for v := range req {
			resp <- v
		}
	}()
	stop, report := make(chan struct{}, 1), make(chan int, 1)
	b.ReportAllocs()
	for i := range b.N {
		req <- i
		go func() {
			select {
			case v := <-resp:
				report <- v
			case <-stop:
				report <- -1
			}
		}()
		if v := <-report; v != i {
			b.Fatalf("got %d", v)
		}
	}
	close(req)
}

// BenchmarkHelperSharedReflectSelect is the shared helper design on its
// own: one goroutine blocks in reflect.Select over a control channel and
// the channels waited for; a wait is registered through the control
// channel, and the value reported on a buffered channel.
func BenchmarkHelperSharedReflectSelect(b *testing.B) {
	req, resp := make(chan int, 1), make(chan int)
	go func() {
		for v := range req {
			resp <- v
		}
	}()
	ctl, report := make(chan reflect.Value), make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctl)}}
		for {
			i, v, ok := reflect.Select(cases)
			if i == 0 {
				if !ok {
					return
				}
				cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: v.Interface().(reflect.Value)})
				continue
			}
			cases = append(cases[:i], cases[i+1:]...)
			report <- int(v.Int())
		}
	}()
	rv := reflect.ValueOf(resp)
	b.ReportAllocs()
	for i := range b.N {
		req <- i
		ctl <- rv
		if v := <-report; v != i {
			b.Fatalf("got %d", v)
		}
	}
	b.StopTimer()
	close(ctl)
	<-done
	close(req)
}
