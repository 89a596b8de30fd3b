package main

import (
	"fmt"
	"runtime"
)

// A roundTrip is the plain-Go baseline of a request and its reply between
// two goroutines over channels: a server goroutine replies v+1 to each v,
// and a client goroutine makes n round trips. Either may be locked to its
// OS thread, as a loop's goroutine is (waking a locked thread costs an
// OS-level wake-up), and the request channel may be buffered.
type roundTrip struct {
	serverLocked, clientLocked bool
	reqBuf                     int
}

// run measures n round trips.
func (rt roundTrip) run(n int) (result, error) {
	req, resp := make(chan int, rt.reqBuf), make(chan int)
	go func() {
		if rt.serverLocked {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		for v := range req {
			resp <- v + 1
		}
	}()
	defer close(req)
	var m meter
	errc := make(chan error, 1)
	go func() {
		if rt.clientLocked {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		m.start()
		for i := range n {
			req <- i
			if v := <-resp; v != i+1 {
				errc <- fmt.Errorf("got %d, want %d", v, i+1)
				return
			}
		}
		m.stop()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}
