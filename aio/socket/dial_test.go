//go:build linux

package socket_test

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
)

// The addresses of a host are tried alternating between the families,
// starting with the family of the first (RFC 8305).
func TestInterleave(t *testing.T) {
	in := []netip.Addr{
		netip.MustParseAddr("::1"), netip.MustParseAddr("::2"), netip.MustParseAddr("::3"),
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"),
	}
	got := socket.Interleave(in)
	want := []string{"::1", "10.0.0.1", "::2", "10.0.0.2", "::3"}
	for i, a := range got {
		if a.String() != want[i] {
			t.Fatalf("Interleave = %v, want %v", got, want)
		}
	}
}

// Dial resolves a host name off the loop and connects: "localhost" to a
// listener on 127.0.0.1 succeeds whichever family the resolver gives
// first (an attempt at ::1 is refused and the next one starts at once); a
// port where nobody listens fails with every attempt's error joined,
// each matching ECONNREFUSED; a numeric host connects directly; a bad
// network or address is refused.
func TestDial(t *testing.T) {
	addr, stop := echoServer(t, "tcp", "127.0.0.1:0")
	defer stop()
	port := strconv.Itoa(addr.(*net.TCPAddr).Port)
	run(t, func(c *aio.Ctx) error {
		s, err := socket.Dial(c, "tcp", net.JoinHostPort("localhost", port))
		if err != nil {
			t.Errorf("Dial localhost: %v", err)
		} else {
			if _, err := s.SendAll(c, []byte("hi")); err != nil {
				t.Errorf("SendAll: %v", err)
			}
			buf := make([]byte, 2)
			if err := readFull(c, s, buf); err != nil || string(buf) != "hi" {
				t.Errorf("echo %q, %v", buf, err)
			}
			s.Close()
		}
		// Nobody listens on a port just freed.
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		free := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		_, err = socket.Dial(c, "tcp", net.JoinHostPort("localhost", free), socket.WithAttemptDelay(time.Hour))
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Dial to a closed port: %v, want ECONNREFUSED", err)
		}
		if s, err := socket.Dial(c, "tcp4", addr.String()); err != nil {
			t.Errorf("Dial of a numeric address: %v", err)
		} else {
			s.Close()
		}
		if _, err := socket.Dial(c, "udp", "localhost:1"); !errors.Is(err, socket.ErrNetwork) {
			t.Errorf("Dial udp: %v", err)
		}
		if _, err := socket.Dial(c, "tcp", "localhost"); !errors.Is(err, socket.ErrAddress) {
			t.Errorf("Dial without a port: %v", err)
		}
		return nil
	})
}
