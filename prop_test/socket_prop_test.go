//go:build linux

package prop_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
	"pgregory.net/rapid"
)

// TestPropSocketStream checks a TCP loopback pair of loop sockets against
// a model, with random cancellation: bytes sent with SendAll in random
// sizes come out of RecvInto of random sizes in order, none lost or
// doubled, whatever receives are cancelled meanwhile by random timeouts
// (from at once to a few milliseconds); a cancelled receive returns either
// data (taken from the model) or the cancellation (nothing taken). At the
// end, after ShutdownWrite, the receiver reads exactly what the model still
// holds, then io.EOF. Helpers start with "so".
func TestPropSocketStream(t *testing.T) { rapid.Check(t, soCheck) }

func soCheck(rt *rapid.T) {
	l, err := aio.NewLoop()
	if err != nil {
		rt.Fatal(err)
	}
	defer l.Close()
	var cl, sv *socket.Socket
	defer func() {
		spOnLoop(rt, l, func(c *aio.Ctx) error {
			if cl != nil {
				cl.Close()
			}
			if sv != nil {
				sv.Close()
			}
			return nil
		})
	}()
	spOnLoop(rt, l, func(c *aio.Ctx) error {
		ln, err := socket.Listen(c, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		if cl, err = socket.Connect(c, "tcp", ln.LocalAddr().String()); err != nil {
			return err
		}
		sv, err = ln.Accept(c)
		return err
	})
	var pending []byte
	next := byte(0)
	take := func(b []byte) {
		if !bytes.HasPrefix(pending, b) {
			rt.Fatalf("received %d bytes not a prefix of the %d pending", len(b), len(pending))
		}
		pending = pending[len(b):]
	}
	rt.Repeat(map[string]func(*rapid.T){
		"send": func(rt *rapid.T) {
			if len(pending) > 200000 {
				// Well below loopback's socket buffers: a SendAll
				// with nobody reading must still complete.
				rt.Skip("enough pending")
			}
			n := rapid.IntRange(0, 100000).Draw(rt, "n")
			msg := make([]byte, n)
			for i := range msg {
				msg[i] = next
				next++
			}
			var sent int
			var err error
			spOnLoop(rt, l, func(c *aio.Ctx) error {
				sent, err = cl.SendAll(c, msg)
				return nil
			})
			if err != nil || sent != n {
				rt.Fatalf("SendAll(%d): %d, %v", n, sent, err)
			}
			pending = append(pending, msg...)
		},
		"recv": func(rt *rapid.T) {
			size := rapid.IntRange(1, 70000).Draw(rt, "size")
			d := time.Duration(rapid.IntRange(0, 3).Draw(rt, "ms")) * time.Millisecond
			buf := make([]byte, size)
			var n int
			var err error
			spOnLoop(rt, l, func(c *aio.Ctx) error {
				err = aio.WithTimeout(c, d, func(c *aio.Ctx) error {
					var e error
					n, e = sv.RecvInto(c, buf)
					return e
				})
				return nil
			})
			switch {
			case err == nil:
				take(buf[:n])
			case errors.Is(err, aio.ErrTimeout):
				if n != 0 {
					rt.Fatalf("a timed-out RecvInto returned %d bytes", n)
				}
			default:
				rt.Fatalf("RecvInto: %v", err)
			}
		},
	})
	var rest []byte
	spOnLoop(rt, l, func(c *aio.Ctx) error {
		cl.ShutdownWrite()
		buf := make([]byte, 64<<10)
		for {
			n, err := sv.RecvInto(c, buf)
			rest = append(rest, buf[:n]...)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	if !bytes.Equal(rest, pending) {
		rt.Fatalf("at the end: received %d bytes, the model holds %d", len(rest), len(pending))
	}
}
