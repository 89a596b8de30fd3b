//go:build unix

package main

// The echo servers of several loops (package aio/loops: the protocol echo
// server on a group of 1, 2 and N loops, listening from every loop with
// SO_REUSEPORT on Linux), beside the Go net server with GOMAXPROCS 2 and N,
// in the same run. N is the machine's CPU count; the kinds for N are left
// out where N is 2 or less (they would repeat the 2's). A server of P loops
// or Ps runs with GOMAXPROCS=P, pinned to P CPUs (echoPlace): with no CPU
// left for the client (P CPUs on the machine), the client is not pinned
// and shares them, which the rows' placement note says.

import (
	"fmt"
	"net"
	"runtime"

	"github.com/aiogo/aio/aio/loops"
)

func init() {
	n := runtime.NumCPU()
	counts := []int{1, 2}
	if n > 2 {
		counts = append(counts, n)
	}
	for _, p := range counts {
		goName := "go net"
		if p > 1 {
			goName = fmt.Sprintf("go net %dP", p)
			echoServers = append(echoServers, echoServer{name: goName, key: fmt.Sprintf("go%d", p), procs: p, serve: serveGoNet})
		}
		vs := []string{goName}
		if p > 1 {
			vs = append(vs, "aio loops 1") // CPU per request no worse than on one loop
		}
		echoServers = append(echoServers, echoServer{
			name: fmt.Sprintf("aio loops %d", p), key: fmt.Sprintf("loops%d", p), procs: p, vs: vs,
			serve: serveLoops(p),
		})
	}
}

// serveLoops is the protocol echo server on a group of n loops.
func serveLoops(n int) func(ready func(net.Addr)) error {
	return func(ready func(net.Addr)) error {
		g, err := loops.New(n)
		if err != nil {
			return err
		}
		defer g.Close()
		if err := g.Start(); err != nil {
			return err
		}
		srv, err := loops.ServeProtocol(g, "tcp", "127.0.0.1:0", func() *echoProtocol { return &echoProtocol{} })
		if err != nil {
			return err
		}
		ready(srv.Addr())
		select {} // until the process exits
	}
}
