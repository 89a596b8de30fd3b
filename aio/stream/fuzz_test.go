//go:build linux

package stream_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
	"github.com/aiogo/aio/aio/stream"
	"golang.org/x/sys/unix"
)

// pair returns a Stream on one end of a Unix socket pair and a Socket on
// the other.
func pair(tb testing.TB, opts ...stream.Option) (*stream.Stream, *socket.Socket) {
	tb.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	var socks [2]*socket.Socket
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "pair")
		socks[i], err = socket.FromFile(f)
		f.Close()
		if err != nil {
			tb.Fatal(err)
		}
	}
	return stream.New(socks[0], opts...), socks[1]
}

// feed writes data to w in chunks of the lengths in cuts (cycled; 0 is 1),
// each once the reader's side of the pair has taken the one before, and
// then shuts w down.
func feed(c *aio.Ctx, w *socket.Socket, r *stream.Stream, data, cuts []byte) error {
	defer w.ShutdownWrite()
	for i := 0; len(data) > 0; i++ {
		n := 1
		if len(cuts) > 0 {
			n = max(int(cuts[i%len(cuts)]), 1)
		}
		n = min(n, len(data))
		if _, err := w.SendAll(c, data[:n]); err != nil {
			return err
		}
		data = data[n:]
		for {
			q, err := unix.IoctlGetInt(r.Socket().Fd(), unix.SIOCINQ)
			if err != nil || q == 0 {
				break
			}
			if err := aio.Yield(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// modelUntil is ReadUntil's specification on the rest of the stream: the
// shortest prefix ending with a separator if it is at most limit bytes
// long ("ok"), "overrun" if there is a longer one or the rest is at least
// limit bytes long, and "incomplete" (with the rest) otherwise.
func modelUntil(rest []byte, seps [][]byte, limit int) (string, int) {
	best := -1
	for end := 1; end <= len(rest) && best < 0; end++ {
		for _, s := range seps {
			if bytes.HasSuffix(rest[:end], s) {
				best = end
				break
			}
		}
	}
	switch {
	case best >= 0 && best <= limit:
		return "ok", best
	case best >= 0 || len(rest) >= limit:
		return "overrun", 0
	}
	return "incomplete", len(rest)
}

// ReadUntil over random chunking, separators and limits agrees with
// modelUntil at every step (after an overrun the test skips one byte with
// ReadExactly: the stream stays usable), and the stream's bytes all come
// out, in order.
func FuzzReadUntil(f *testing.F) {
	f.Add([]byte("a;b\r\nc;;"), []byte{1, 2, 3}, []byte(";"), []byte("\r\n"), uint8(4))
	f.Add([]byte("xxxxxxxxxxxx;y"), []byte{5}, []byte(";"), []byte("xy"), uint8(3))
	f.Add([]byte("abcabcab"), []byte{1}, []byte("cab"), []byte("bca"), uint8(8))
	f.Fuzz(func(t *testing.T, data, cuts, sep1, sep2 []byte, limit uint8) {
		if len(data) > 4096 || len(sep1) == 0 || len(sep1) > 16 || len(sep2) > 16 {
			t.Skip()
		}
		seps := [][]byte{sep1}
		if len(sep2) > 0 {
			seps = append(seps, sep2)
		}
		lim := max(int(limit), 1)
		run(t, func(c *aio.Ctx) error {
			s, w := pair(t, stream.WithLimit(lim))
			defer s.Close()
			defer w.Close()
			feeder, err := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
				return struct{}{}, feed(c, w, s, data, cuts)
			})
			if err != nil {
				return err
			}
			rest := data
			for step := 0; ; step++ {
				kind, n := modelUntil(rest, seps, lim)
				got, err := s.ReadUntil(c, seps...)
				var ie *stream.IncompleteReadError
				switch kind {
				case "ok":
					if err != nil || !bytes.Equal(got, rest[:n]) {
						t.Errorf("step %d: ReadUntil %q, %v; want %q", step, got, err, rest[:n])
						return nil
					}
					rest = rest[n:]
					continue
				case "overrun":
					if !errors.Is(err, stream.ErrLimitOverrun) {
						t.Errorf("step %d: ReadUntil %q, %v; want a LimitOverrunError", step, got, err)
						return nil
					}
					b, err := s.ReadExactly(c, 1)
					if err != nil || b[0] != rest[0] {
						t.Errorf("step %d: ReadExactly(1) after an overrun: %q, %v", step, b, err)
						return nil
					}
					rest = rest[1:]
					continue
				}
				if !errors.As(err, &ie) || !bytes.Equal(ie.Partial, rest) {
					t.Errorf("step %d: ReadUntil at the end: %v; want incomplete %q", step, err, rest)
				}
				break
			}
			_, err = aio.Await(c, feeder)
			return err
		})
	})
}
