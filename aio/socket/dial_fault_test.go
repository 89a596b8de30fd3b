//go:build linux

package socket_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/internal/leakcheck"
	"github.com/aiogo/aio/aio/socket"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// Connection faults, made deterministic on Linux:
//
//   - refused: a port whose listener was just closed answers a SYN with a
//     RST (ECONNREFUSED);
//   - unreachable: a TCP connect to a broadcast or multicast address fails
//     at once with ENETUNREACH (tcp_v4_connect refuses such routes);
//   - hanging: a listener with backlog 0 and its accept queue full (one
//     connection, never accepted) drops every SYN, so a connect to it waits
//     for ever (the client's retransmissions are dropped too);
//   - a second address on the same port: 127.0.0.2 is on the loopback
//     interface too (127.0.0.0/8).

// fullListener listens on ip:port (port 0: any) with backlog 0, fills its
// accept queue, and returns its port; connects to it hang. The listener and
// the connection filling it are closed at the end of the test.
func fullListener(t *testing.T, ip string, port int) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	sa := &unix.SockaddrInet4{Port: port, Addr: netip.MustParseAddr(ip).As4()}
	if err := unix.Bind(fd, sa); err != nil {
		t.Skipf("bind %s:%d: %v", ip, port, err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	lsa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port = lsa.(*unix.SockaddrInet4).Port
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	// queued and max are the accept queue's length and limit: TCP_INFO of
	// a listening socket gives them as tcpi_unacked and tcpi_sacked. The
	// queue is full when queued > max (sk_acceptq_is_full).
	queue := func() (queued, max uint32) {
		info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
		if err != nil {
			t.Fatal(err)
		}
		return info.Unacked, info.Sacked
	}
	for filled := uint32(0); ; {
		if q, m := queue(); q > m {
			return port
		}
		if filled == 8 {
			t.Fatalf("the accept queue of %s is not full after %d connections", addr, filled)
		}
		cn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("filling %s: %v", addr, err)
		}
		t.Cleanup(func() { cn.Close() })
		filled++
		// The server side joins the queue when the client's ACK arrives,
		// which may be a moment after the client's connect returned.
		for i := 0; i < 5000; i++ {
			if q, _ := queue(); q >= filled {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// acceptingListener listens on ip:port (port 0: any) with a backlog of
// 64 and returns its port: connects to it complete (in the kernel, which
// queues them), and nothing accepts them, so that no fd of this process
// comes and goes with them. It is closed at the end of the test.
func acceptingListener(t *testing.T, ip string, port int) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: netip.MustParseAddr(ip).As4()}); err != nil {
		t.Skipf("bind %s:%d: %v", ip, port, err)
	}
	if err := unix.Listen(fd, 64); err != nil {
		t.Fatal(err)
	}
	lsa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return lsa.(*unix.SockaddrInet4).Port
}

// closedPort returns a port of ip where nobody listens: one a listener
// just had.
func closedPort(t *testing.T, ip string) int {
	t.Helper()
	ln, err := net.Listen("tcp4", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("listen %s: %v", ip, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

var (
	lo1 = netip.MustParseAddr("127.0.0.1")
	lo2 = netip.MustParseAddr("127.0.0.2")
)

// fdsNow counts this process's open descriptors.
func fdsNow(t *testing.T) int { return leakcheck.OpenFDs(t) }

// A connect to a port just closed fails with an error matching
// syscall.ECONNREFUSED, through Connect and through Dial, and leaves no fd.
func TestConnectFaultRefused(t *testing.T) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(closedPort(t, "127.0.0.1")))
	run(t, func(c *aio.Ctx) error {
		before := fdsNow(t)
		if s, err := socket.Connect(c, "tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Connect to a closed port: %v, %v; want ECONNREFUSED", s, err)
		}
		if s, err := socket.Dial(c, "tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Dial to a closed port: %v, %v; want ECONNREFUSED", s, err)
		}
		if after := fdsNow(t); after != before {
			t.Errorf("fds: %d before, %d after", before, after)
		}
		return nil
	})
}

// A connect to an unreachable address fails at once with ENETUNREACH,
// EHOSTUNREACH or EADDRNOTAVAIL, and leaves no fd: the IPv4 broadcast and
// multicast addresses (which Linux refuses for TCP), and an IPv6
// documentation address where the machine has no IPv6 route (skipped
// where it has one: the connect would wait for an answer).
func TestConnectFaultUnreachable(t *testing.T) {
	unreachable := func(err error) bool {
		return errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL)
	}
	for _, tc := range []struct{ network, addr string }{
		{"tcp4", "255.255.255.255:9"},
		{"tcp4", "224.0.0.1:9"},
		{"tcp6", "[2001:db8::1]:9"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			var err error
			skip := ""
			run(t, func(c *aio.Ctx) error {
				before := fdsNow(t)
				// A refusal comes from connect(2) itself; the timeout only
				// ends the wait of a machine that routes the address.
				terr := aio.WithTimeout(c, 200*time.Millisecond, func(c *aio.Ctx) error {
					var s *socket.Socket
					s, err = socket.Connect(c, tc.network, tc.addr)
					if s != nil {
						s.Close()
					}
					return err
				})
				switch {
				case errors.Is(terr, aio.ErrTimeout):
					skip = "the machine routes " + tc.addr + ": its connect waits for an answer"
				case err == nil:
					skip = "the machine connects to " + tc.addr
				case !unreachable(err) && tc.network == "tcp6":
					skip = "no fast unreachability for " + tc.addr + ": " + err.Error()
				case !unreachable(err):
					t.Errorf("Connect(%s): %v, want ENETUNREACH, EHOSTUNREACH or EADDRNOTAVAIL", tc.addr, err)
				}
				if after := fdsNow(t); after != before {
					t.Errorf("fds: %d before, %d after", before, after)
				}
				return nil
			})
			if skip != "" {
				t.Skip(skip)
			}
		})
	}
}

// A connect to a listener whose accept queue is full never completes: under
// aio.WithTimeout, Connect and Dial end with aio.ErrTimeout (matching
// context.DeadlineExceeded), their socket closed (no fd left).
func TestConnectFaultTimeout(t *testing.T) {
	port := fullListener(t, "127.0.0.1", 0)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	run(t, func(c *aio.Ctx) error {
		before := fdsNow(t)
		for _, dial := range []struct {
			name string
			f    func(c *aio.Ctx) (*socket.Socket, error)
		}{
			{"Connect", func(c *aio.Ctx) (*socket.Socket, error) { return socket.Connect(c, "tcp", addr) }},
			{"Dial", func(c *aio.Ctx) (*socket.Socket, error) { return socket.Dial(c, "tcp", addr) }},
		} {
			err := aio.WithTimeout(c, 50*time.Millisecond, func(c *aio.Ctx) error {
				s, err := dial.f(c)
				if s != nil {
					t.Errorf("%s to a full listener connected", dial.name)
					s.Close()
				}
				return err
			})
			if !errors.Is(err, aio.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s to a full listener under WithTimeout: %v, want aio.ErrTimeout", dial.name, err)
			}
			if after := fdsNow(t); after != before {
				t.Errorf("%s: fds %d before, %d after", dial.name, before, after)
			}
		}
		return nil
	})
}

// twoAddrs sets up a port where 127.0.0.1 hangs (a full listener) and
// 127.0.0.2 accepts, and returns it.
func twoAddrs(t *testing.T) uint16 {
	t.Helper()
	port := acceptingListener(t, "127.0.0.2", 0)
	fullListener(t, "127.0.0.1", port)
	return uint16(port)
}

// Happy eyeballs with a first address that hangs and a second that
// accepts: the second attempt starts after the first, when the attempt
// delay has passed since the Dial began (DefaultAttemptDelay, on the loop's
// clock, whose timers never fire early), and wins; the hanging attempt is cancelled and its socket closed (one fd more
// than before: the winner's). With an attempt delay longer than the
// timeout around Dial, the second attempt never starts and Dial times out.
func TestDialHappyEyeballsStagger(t *testing.T) {
	port := twoAddrs(t)
	addrs := []netip.Addr{lo1, lo2}
	run(t, func(c *aio.Ctx) error {
		var starts []time.Time // the attempts' starts, on the loop's clock
		hook := socket.WithSocketOptions(socket.WithHookForTest(func() { starts = append(starts, c.Loop().Now()) }))
		before := fdsNow(t)
		start := c.Loop().Now()
		s, err := socket.HappyEyeballs(c, addrs, port, hook)
		elapsed := c.Loop().Now().Sub(start)
		if len(starts) != 2 {
			t.Errorf("%d attempts, want 2", len(starts))
		} else if gap := starts[1].Sub(start); gap < socket.DefaultAttemptDelay || starts[1].Before(starts[0]) {
			// The delay runs from the first attempt's spawn, which is
			// after start and before the first attempt's task runs.
			t.Errorf("the second attempt started %v after the Dial, before the attempt delay %v (or before the first)", gap, socket.DefaultAttemptDelay)
		}
		if err != nil {
			t.Errorf("HappyEyeballs: %v", err)
			return nil
		}
		if got := s.RemoteAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.2" {
			t.Errorf("the winner is %s, want 127.0.0.2", got)
		}
		if elapsed < socket.DefaultAttemptDelay {
			t.Errorf("the second attempt won after %v, before the attempt delay %v", elapsed, socket.DefaultAttemptDelay)
		}
		if after := fdsNow(t); after != before+1 {
			t.Errorf("fds: %d before, %d with the winner (want %d: the loser closed)", before, after, before+1)
		}
		s.Close()
		if after := fdsNow(t); after != before {
			t.Errorf("fds: %d before, %d after", before, after)
		}

		starts = nil
		err = aio.WithTimeout(c, 100*time.Millisecond, func(c *aio.Ctx) error {
			s, err := socket.HappyEyeballs(c, addrs, port, socket.WithAttemptDelay(time.Hour), hook)
			if s != nil {
				t.Errorf("connected to %v before the attempt delay", s.RemoteAddr())
				s.Close()
			}
			return err
		})
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("with an attempt delay of an hour: %v, want aio.ErrTimeout", err)
		}
		if len(starts) != 1 {
			t.Errorf("with an attempt delay of an hour: %d attempts, want 1", len(starts))
		}
		if after := fdsNow(t); after != before {
			t.Errorf("fds: %d before, %d after the timeout", before, after)
		}
		return nil
	})
}

// Two Dials race to the same pair of addresses (the first hangs, the
// second accepts), one with WithAttemptDelay(1 ms), one with a 1 s delay:
// the one with the small delay connects first, both connect to the second
// address, and every losing attempt's socket is closed.
func TestDialHappyEyeballsSmallDelay(t *testing.T) {
	port := twoAddrs(t)
	addrs := []netip.Addr{lo1, lo2}
	run(t, func(c *aio.Ctx) error {
		before := fdsNow(t)
		var order []string
		dial := func(name string, d time.Duration) *aio.Task[*socket.Socket] {
			task, _ := aio.Spawn(c, func(c *aio.Ctx) (*socket.Socket, error) {
				s, err := socket.HappyEyeballs(c, addrs, port, socket.WithAttemptDelay(d))
				order = append(order, name)
				return s, err
			})
			return task
		}
		slow := dial("slow", time.Second)
		fast := dial("fast", time.Millisecond)
		for _, task := range []*aio.Task[*socket.Socket]{slow, fast} {
			s, err := aio.Await(c, task)
			if err != nil {
				t.Errorf("HappyEyeballs: %v", err)
				continue
			}
			if got := s.RemoteAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.2" {
				t.Errorf("the winner is %s, want 127.0.0.2", got)
			}
			s.Close()
		}
		if strings.Join(order, ",") != "fast,slow" {
			t.Errorf("the dials ended in the order %v, want fast then slow", order)
		}
		if after := fdsNow(t); after != before {
			t.Errorf("fds: %d before, %d after", before, after)
		}
		return nil
	})
}

// A failed attempt starts the next at once, without waiting for the
// attempt delay: the first address refuses, the second accepts, and with an
// attempt delay of an hour Dial connects to the second.
func TestDialHappyEyeballsFailureStartsNext(t *testing.T) {
	port := acceptingListener(t, "127.0.0.2", 0)
	if cn, err := net.DialTimeout("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
		cn.Close()
		t.Skipf("127.0.0.1:%d is in use", port)
	}
	run(t, func(c *aio.Ctx) error {
		attempts := 0
		hook := socket.WithSocketOptions(socket.WithHookForTest(func() { attempts++ }))
		err := aio.WithTimeout(c, 10*time.Second, func(c *aio.Ctx) error {
			s, err := socket.HappyEyeballs(c, []netip.Addr{lo1, lo2}, uint16(port), socket.WithAttemptDelay(time.Hour), hook)
			if err != nil {
				return err
			}
			if got := s.RemoteAddr().(*net.TCPAddr).IP.String(); got != "127.0.0.2" {
				t.Errorf("the winner is %s, want 127.0.0.2", got)
			}
			return s.Close()
		})
		if err != nil {
			t.Errorf("HappyEyeballs after a refusal: %v", err)
		}
		if attempts != 2 {
			t.Errorf("%d attempts, want 2", attempts)
		}
		return nil
	})
}

// When every attempt fails, the error joins each attempt's, each naming
// its address and matching its errno (here ECONNREFUSED twice); when one
// is refused and the other hangs, a WithTimeout around Dial ends it with
// aio.ErrTimeout. No fd is left.
func TestDialHappyEyeballsAllFail(t *testing.T) {
	port := closedPort(t, "127.0.0.1")
	run(t, func(c *aio.Ctx) error {
		before := fdsNow(t)
		_, err := socket.HappyEyeballs(c, []netip.Addr{lo1, lo2}, uint16(port), socket.WithAttemptDelay(time.Hour))
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("every attempt refused: %v, want ECONNREFUSED", err)
		}
		var joined interface{ Unwrap() []error }
		if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
			t.Errorf("every attempt refused: %v, want the two attempts' errors joined", err)
		} else {
			for i, e := range joined.Unwrap() {
				want := netip.AddrPortFrom([]netip.Addr{lo1, lo2}[i], uint16(port)).String()
				if !strings.Contains(e.Error(), want) || !errors.Is(e, syscall.ECONNREFUSED) {
					t.Errorf("attempt %d: %v, want a refusal of %s", i, e, want)
				}
			}
		}
		if after := fdsNow(t); after != before {
			t.Errorf("fds: %d before, %d after", before, after)
		}
		return nil
	})

	// Refused, then hanging.
	hport := fullListener(t, "127.0.0.2", 0)
	if cn, err := net.DialTimeout("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(hport)), time.Second); err == nil {
		cn.Close()
		t.Skipf("127.0.0.1:%d is in use", hport)
	}
	run(t, func(c *aio.Ctx) error {
		before := fdsNow(t)
		err := aio.WithTimeout(c, 100*time.Millisecond, func(c *aio.Ctx) error {
			_, err := socket.HappyEyeballs(c, []netip.Addr{lo1, lo2}, uint16(hport), socket.WithAttemptDelay(time.Hour))
			return err
		})
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("refused then hanging: %v, want aio.ErrTimeout", err)
		}
		if after := fdsNow(t); after != before {
			t.Errorf("fds: %d before, %d after", before, after)
		}
		return nil
	})
}

// Cancelling a Dial while its attempts are under way (two hanging
// addresses, both attempts started) ends it with the cancellation, closes
// every attempt's socket, and leaves no goroutine; so does cancelling a
// Dial by host name ("localhost": resolved off the loop, then connecting
// to a hanging 127.0.0.1).
func TestDialCancel(t *testing.T) {
	port := fullListener(t, "127.0.0.1", 0)
	fullListener(t, "127.0.0.2", port)
	run(t, func(c *aio.Ctx) error {
		before := fdsNow(t)
		for _, name := range []string{"HappyEyeballs", "Dial localhost"} {
			attempts, want := 0, 2 // both attempts at once
			if name != "HappyEyeballs" {
				want = 1 // the resolution, then one attempt (tcp4: 127.0.0.1 only)
			}
			hook := socket.WithHookForTest(func() { attempts++ })
			task, err := aio.Spawn(c, func(c *aio.Ctx) (*socket.Socket, error) {
				if name == "HappyEyeballs" {
					return socket.HappyEyeballs(c, []netip.Addr{lo1, lo2}, uint16(port), socket.WithAttemptDelay(0), socket.WithSocketOptions(hook))
				}
				return socket.Dial(c, "tcp4", net.JoinHostPort("localhost", strconv.Itoa(port)), socket.WithSocketOptions(hook))
			})
			if err != nil {
				return err
			}
			for i := 0; i < 5000 && attempts < want && !task.IsDone(); i++ {
				aio.Sleep(c, time.Millisecond)
			}
			aio.Yield(c) // the last attempt started runs to its wait
			if attempts != want {
				t.Errorf("%s: %d attempts started, want %d", name, attempts, want)
			}
			if got := fdsNow(t); got != before+attempts {
				t.Errorf("%s: %d fds open during %d attempts, want %d", name, got, attempts, before+attempts)
			}
			task.Cancel(nil)
			s, err := aio.Await(c, task)
			if s != nil {
				t.Errorf("%s: connected to %v", name, s.RemoteAddr())
				s.Close()
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s cancelled: %v, want context.Canceled", name, err)
			}
			if after := fdsNow(t); after != before {
				t.Errorf("%s: fds %d before, %d after the cancellation", name, before, after)
			}
		}
		return nil
	})
	goleak.VerifyNone(t, leakcheck.Options()...)
}
