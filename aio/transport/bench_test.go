//go:build linux

package transport_test

import (
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/transport"
)

// pinger is the client side of the echo benchmark: it sends msg, and
// sends it again each time the whole of it has come back, n times.
type pinger struct {
	transport.BaseProtocol
	t    *transport.Transport
	msg  []byte
	got  int
	left int
	done *aio.Future[struct{}]
}

func (p *pinger) ConnectionMade(t *transport.Transport) { p.t = t }
func (p *pinger) DataReceived(b []byte) {
	p.got += len(b)
	if p.got < len(p.msg) {
		return
	}
	p.got -= len(p.msg)
	if p.left--; p.left <= 0 {
		p.done.SetResult(struct{}{})
		return
	}
	p.t.Write(p.msg)
}

// echoRoundTrips runs n round trips of size bytes between a protocol
// client and a protocol echo server on one loop, over TCP loopback, and
// returns the heap allocations they made.
func echoRoundTrips(tb testing.TB, n, size int, timed bool) uint64 {
	var allocs uint64
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		srv, err := transport.Serve(c, "tcp", "127.0.0.1:0", func() *echoProto { return &echoProto{} })
		if err != nil {
			return struct{}{}, err
		}
		p := &pinger{msg: make([]byte, size), done: aio.NewFuture[struct{}](c.Loop())}
		tr, _, err := transport.Connect(c, "tcp", srv.Addr().String(), func() *pinger { return p })
		if err != nil {
			return struct{}{}, err
		}
		// Warm up: the first round trips make the server's transport and
		// the loop's read buffer.
		p.left = 10
		tr.Write(p.msg)
		aio.Await(c, p.done)
		p.done = aio.NewFuture[struct{}](c.Loop())
		p.left = n
		b, _ := tb.(*testing.B)
		if timed {
			b.ResetTimer()
		}
		before := mallocs()
		tr.Write(p.msg)
		if _, err := aio.Await(c, p.done); err != nil {
			return struct{}{}, err
		}
		allocs = mallocs() - before
		if timed {
			b.StopTimer()
		}
		tr.Close()
		srv.Close()
		return struct{}{}, srv.Wait(c)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return allocs
}

func benchProtocolEcho(b *testing.B, size int) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	echoRoundTrips(b, b.N, size, true)
}

func BenchmarkProtocolEcho64(b *testing.B)  { benchProtocolEcho(b, 64) }
func BenchmarkProtocolEcho1K(b *testing.B)  { benchProtocolEcho(b, 1<<10) }
func BenchmarkProtocolEcho16K(b *testing.B) { benchProtocolEcho(b, 16<<10) }

// An echoed message costs the protocol path no heap allocation: 2,000
// round trips of 1 KiB between a protocol client and a protocol echo
// server allocate (almost) nothing; the bound leaves room for the
// runtime's own rare allocations, not for one per message.
func TestEchoAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	checkFDs(t)
	const n = 2000
	if a := echoRoundTrips(t, n, 1<<10, false); a > n/20 {
		t.Errorf("%d round trips allocated %d times", n, a)
	}
}
