//go:build linux

package prop_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/transport"
	"golang.org/x/sys/unix"
	"pgregory.net/rapid"
)

// propEchoServer is a BufferedProtocol echo server that reads into buffers
// of the sizes of its plan and applies backpressure as a proxy does: when
// its transport asks it to pause writing it pauses reading, and resumes
// reading when writing may resume. It also pauses reading on its own now
// and then, for a moment.
type propEchoServer struct {
	transport.BaseProtocol
	rt      *rapid.T
	t       *transport.Transport
	sizes   []int
	pauses  []bool
	i       int
	buf     []byte
	maxBuf  int // the largest GetBuffer
	peakQ   int // the largest write queue seen
	high    int
	flowOff bool // paused by flow control
}

func (p *propEchoServer) ConnectionMade(t *transport.Transport) {
	p.t = t
	// Small socket buffers, so that a client that pauses makes the
	// server's own queue grow.
	unix.SetsockoptInt(t.Socket().Fd(), unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
	t.SetWriteBufferLimits(p.high, -1)
}

func (p *propEchoServer) GetBuffer(int) []byte {
	n := p.sizes[p.i%len(p.sizes)]
	p.maxBuf = max(p.maxBuf, n)
	if cap(p.buf) < n {
		p.buf = make([]byte, n)
	}
	return p.buf[:n]
}

func (p *propEchoServer) BufferUpdated(n int) {
	p.i++
	if err := p.t.Write(p.buf[:n]); err != nil {
		p.rt.Errorf("server Write: %v", err)
	}
	p.peakQ = max(p.peakQ, p.t.WriteBufferSize())
	if p.pauses[p.i%len(p.pauses)] && !p.flowOff {
		p.t.PauseReading()
		p.t.Loop().CallSoon(func() {
			if !p.flowOff {
				p.t.ResumeReading()
			}
		})
	}
}

func (p *propEchoServer) EOFReceived() bool {
	p.t.Close() // after the echo of everything queued
	return true
}

func (p *propEchoServer) PauseWriting() {
	p.flowOff = true
	p.t.PauseReading()
}

func (p *propEchoServer) ResumeWriting() {
	p.flowOff = false
	p.t.ResumeReading()
}

// propClient collects what comes back, pausing reading for a moment now
// and then (so that the server's queue builds up).
type propClient struct {
	transport.BaseProtocol
	t      *transport.Transport
	got    []byte
	eof    bool
	lost   error
	pauses []int // microseconds; 0: no pause
	i      int
}

func (p *propClient) ConnectionMade(t *transport.Transport) {
	p.t = t
	unix.SetsockoptInt(t.Socket().Fd(), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
}

func (p *propClient) DataReceived(b []byte) {
	p.got = append(p.got, b...)
	p.i++
	if d := p.pauses[p.i%len(p.pauses)]; d > 0 {
		p.t.PauseReading()
		p.t.Loop().CallLater(time.Duration(d)*time.Microsecond, func() { p.t.ResumeReading() })
	}
}

func (p *propClient) EOFReceived() bool { p.eof = true; return false }
func (p *propClient) ConnectionLost(err error) {
	p.lost = err
}

// TestPropTransportMessages sends random messages through a protocol echo
// server over TCP loopback on one loop: the client writes them in random
// pieces (Write or Writev, yielding now and then) and pauses reading for
// random moments, the server reads into
// buffers of random sizes, pauses reading at random moments and whenever
// its write queue passes a random high-water mark; every byte comes back
// intact and in order, then EOF and ConnectionLost(nil); the server's write
// queue never grows past its mark by more than one read's worth.
func TestPropTransportMessages(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		msgs := rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 0, 70000), 1, 8).Draw(rt, "msgs")
		pieces := rapid.SliceOfN(rapid.IntRange(1, 1000), 1, 20).Draw(rt, "pieces")
		vecs := rapid.SliceOfN(rapid.Bool(), 1, 10).Draw(rt, "writev")
		yields := rapid.SliceOfN(rapid.Bool(), 1, 10).Draw(rt, "yields")
		srvProto := &propEchoServer{
			rt:     rt,
			sizes:  rapid.SliceOfN(rapid.IntRange(1, 20000), 1, 10).Draw(rt, "readSizes"),
			pauses: rapid.SliceOfN(rapid.Bool(), 1, 10).Draw(rt, "pauses"),
			high:   rapid.IntRange(0, 20000).Draw(rt, "high"),
		}
		clientPauses := rapid.SliceOfN(rapid.IntRange(0, 2000), 1, 10).Draw(rt, "clientPauses")
		var want []byte
		for _, m := range msgs {
			want = append(want, m...)
		}
		_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
			return struct{}{}, aio.WithTimeout(c, 60*time.Second, func(c *aio.Ctx) error {
				srv, err := transport.Serve(c, "tcp", "127.0.0.1:0", func() *propEchoServer { return srvProto })
				if err != nil {
					return err
				}
				defer srv.Close()
				tr, cp, err := transport.Connect(c, "tcp", srv.Addr().String(), func() *propClient { return &propClient{pauses: clientPauses} })
				if err != nil {
					return err
				}
				k := 0
				for _, m := range msgs {
					for len(m) > 0 {
						k++
						n := max(1, len(m)*pieces[k%len(pieces)]/1000)
						var err error
						if vecs[k%len(vecs)] && n > 1 {
							err = tr.Writev(m[:n/2], m[n/2:n])
						} else {
							err = tr.Write(m[:n])
						}
						if err != nil {
							return err
						}
						m = m[n:]
						if yields[k%len(yields)] {
							aio.Yield(c)
						}
					}
				}
				if err := tr.WriteEOF(); err != nil {
					return err
				}
				if err := tr.WaitClosed(c); err != nil {
					rt.Errorf("client lost with %v", err)
				}
				if !bytes.Equal(cp.got, want) || !cp.eof {
					rt.Errorf("%d bytes came back (eof %v), want %d, identical", len(cp.got), cp.eof, len(want))
				}
				srv.Close()
				return srv.Wait(c)
			})
		})
		if err != nil {
			rt.Fatal(err)
		}
		if limit := srvProto.high + srvProto.maxBuf; srvProto.peakQ > limit {
			rt.Errorf("the server's write queue reached %d, beyond its mark %d plus a read of %d", srvProto.peakQ, srvProto.high, srvProto.maxBuf)
		}
	})
}
