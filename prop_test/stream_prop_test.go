//go:build linux

package prop_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
	"pgregory.net/rapid"
)

// TestPropStreamMessages sends random messages (random sizes, each written
// in random pieces with a Drain now and then, length-prefixed) from one
// stream to another over TCP loopback on one loop, and reads them with a
// random mix of ReadExactly, Read of random sizes, and reads cancelled
// (a zero timeout) before they could complete; every message arrives
// intact and in order, a cancelled read loses nothing, and the end is
// io.EOF.
func TestPropStreamMessages(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		msgs := rapid.SliceOfN(rapid.SliceOfN(rapid.Byte(), 0, 70000), 1, 8).Draw(rt, "msgs")
		// The plans, drawn here (not in the tasks) and cycled: how the
		// reader reads (0 ReadExactly, 1 Read, 2 a cancelled read), the
		// sizes it reads and writes as permille of what is left, and when
		// the writer drains.
		hows := rapid.SliceOfN(rapid.IntRange(0, 2), 1, 20).Draw(rt, "hows")
		sizes := rapid.SliceOfN(rapid.IntRange(1, 1000), 1, 20).Draw(rt, "sizes")
		drains := rapid.SliceOfN(rapid.Bool(), 1, 20).Draw(rt, "drains")
		var ih, is, id int
		next := func(left int) int {
			is++
			return max(1, left*sizes[is%len(sizes)]/1000)
		}
		_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
			return struct{}{}, aio.WithTimeout(c, 60*time.Second, func(c *aio.Ctx) error {
				var out [][]byte
				srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
					for {
						hdr, err := s.ReadExactly(c, 4)
						if errors.Is(err, io.EOF) {
							return nil
						}
						if err != nil {
							return err
						}
						n := int(binary.BigEndian.Uint32(hdr))
						var m []byte
						for len(m) < n {
							switch ih++; hows[ih%len(hows)] {
							case 0:
								b, err := s.ReadExactly(c, n-len(m))
								if err != nil {
									return err
								}
								m = append(m, b...)
							case 1:
								b, err := s.Read(c, next(n-len(m)))
								if err != nil {
									return err
								}
								m = append(m, b...)
							case 2:
								// A read under a zero timeout: it completes
								// only if the data is buffered already, and a
								// cancelled one takes nothing. A Read follows,
								// so the reader always makes progress.
								before := s.Buffered()
								var b []byte
								err := aio.WithTimeout(c, 0, func(c *aio.Ctx) error {
									var err error
									b, err = s.ReadExactly(c, n-len(m))
									return err
								})
								if err == nil {
									m = append(m, b...)
									continue
								}
								if !errors.Is(err, aio.ErrTimeout) || s.Buffered() != before {
									rt.Errorf("a cancelled read: %v, %d bytes buffered before, %d after", err, before, s.Buffered())
									return err
								}
								b, err = s.Read(c, next(n-len(m)))
								if err != nil {
									return err
								}
								m = append(m, b...)
							}
						}
						out = append(out, m)
					}
				})
				if err != nil {
					return err
				}
				s, err := stream.Open(c, "tcp", srv.Addr().String())
				if err != nil {
					return err
				}
				for _, m := range msgs {
					var hdr [4]byte
					binary.BigEndian.PutUint32(hdr[:], uint32(len(m)))
					s.Write(c, hdr[:])
					rest := m
					for len(rest) > 0 {
						k := next(len(rest))
						if err := s.Write(c, rest[:k]); err != nil {
							return err
						}
						rest = rest[k:]
						if id++; drains[id%len(drains)] {
							if err := s.Drain(c); err != nil {
								return err
							}
						}
					}
				}
				s.WriteEOF()
				srv.Close()
				if err := srv.Wait(c); err != nil { // the handler has read to the end
					s.Close()
					return err
				}
				s.Close()
				if len(out) != len(msgs) {
					rt.Errorf("%d messages arrived, %d sent", len(out), len(msgs))
					return nil
				}
				for i := range msgs {
					if !bytes.Equal(out[i], msgs[i]) {
						rt.Errorf("message %d: %d bytes arrived, not the %d sent", i, len(out[i]), len(msgs[i]))
					}
				}
				return s.WaitClosed(c)
			})
		})
		if err != nil {
			rt.Fatal(err)
		}
	})
}
