//go:build linux

package stream_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
)

// net/http's client Transport, with stream.Dialer as its DialContext hook,
// makes keep-alive requests to a Go httptest server over a connection of
// the loop (GoConn), from a goroutine, while the loop's main task waits
// for it; the requests reuse one connection.
func TestHTTPClientTransport(t *testing.T) {
	checkFDs(t)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Path)
	}))
	defer hs.Close()
	run(t, func(c *aio.Ctx) error {
		var dials atomic.Int32
		dial := stream.Dialer(c.Loop())
		tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dial(ctx, network, addr)
		}}
		result := make(chan string, 1)
		go func() {
			cl := &http.Client{Transport: tr}
			var out string
			for _, p := range []string{"/a", "/b", "/c"} {
				resp, err := cl.Get(hs.URL + p)
				if err != nil {
					out += "error: " + err.Error()
					break
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				out += string(b) + ";"
			}
			tr.CloseIdleConnections() // closes the stream, on the loop
			result <- out
		}()
		got, _, err := aio.GoRecv(c, result)
		if err != nil || got != "hello /a;hello /b;hello /c;" {
			t.Errorf("responses %q, %v", got, err)
		}
		if n := dials.Load(); n != 1 {
			t.Errorf("%d dials, want 1 (keep-alive)", n)
		}
		return nil
	})
}
