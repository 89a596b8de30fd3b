package socket

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/executor"
)

// DefaultAttemptDelay is how long Dial waits for a connection attempt
// before it starts the next one in parallel (RFC 8305's recommended
// connection attempt delay).
const DefaultAttemptDelay = 250 * time.Millisecond

// A DialOption configures Dial.
type DialOption func(*dialConfig)

type dialConfig struct {
	delay time.Duration
	opts  []Option
}

// WithAttemptDelay sets the delay between the starts of Dial's connection
// attempts (DefaultAttemptDelay without it); zero or less starts every
// attempt at once.
func WithAttemptDelay(d time.Duration) DialOption {
	return func(c *dialConfig) { c.delay = d }
}

// WithSocketOptions passes options to the sockets Dial makes.
func WithSocketOptions(opts ...Option) DialOption {
	return func(c *dialConfig) { c.opts = append(c.opts, opts...) }
}

// Dial connects to address ("host:port") over "tcp", "tcp4" or "tcp6",
// resolving a host name off the loop thread (net.DefaultResolver, run by
// the loop's executor, package aio/executor) and connecting with happy
// eyeballs (RFC 8305): the addresses are ordered alternating between the
// families, starting with the first one the resolver gave; an attempt
// starts when the one before it failed or after the attempt delay,
// whichever comes first; the first connection wins and the other attempts
// are cancelled and their sockets closed. When every attempt fails, the
// error joins (errors.Join) the error of each, as asyncio 3.12's
// all_errors does. A numeric host is connected to directly. Put Dial under
// aio.WithTimeout to bound it; its cancellation cancels the resolution and
// every attempt.
func Dial(c *aio.Ctx, network, address string, opts ...DialOption) (*Socket, error) {
	cfg := dialConfig{delay: DefaultAttemptDelay}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("%w: Dial: %q (want tcp, tcp4 or tcp6)", ErrNetwork, network)
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("%w: Dial %q: %v", ErrAddress, address, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%w: Dial %q: bad port", ErrAddress, address)
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return Connect(c, network, address, cfg.opts...)
	}
	ips, err := executor.Run(c, func(ctx context.Context) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, ipNetwork(network), host)
	})
	if err != nil {
		return nil, fmt.Errorf("socket: Dial %q: %w", address, err)
	}
	addrs := interleave(ips)
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: Dial %q: no address of network %s", ErrAddress, address, network)
	}
	return happyEyeballs(c, addrs, uint16(port), cfg)
}

// ipNetwork is the resolver's network for a dial network.
func ipNetwork(network string) string {
	switch network {
	case "tcp4":
		return "ip4"
	case "tcp6":
		return "ip6"
	}
	return "ip"
}

// interleave orders addrs alternating between the families, starting with
// the family of the first (RFC 8305, section 4).
func interleave(addrs []netip.Addr) []netip.Addr {
	if len(addrs) == 0 {
		return nil
	}
	first := addrs[0].Unmap().Is4()
	var a, b []netip.Addr
	for _, ip := range addrs {
		ip = ip.Unmap()
		if ip.Is4() == first {
			a = append(a, ip)
		} else {
			b = append(b, ip)
		}
	}
	out := make([]netip.Addr, 0, len(addrs))
	for i := 0; i < len(a) || i < len(b); i++ {
		if i < len(a) {
			out = append(out, a[i])
		}
		if i < len(b) {
			out = append(out, b[i])
		}
	}
	return out
}

// attempt is the outcome of one connection attempt.
type attempt struct {
	i    int
	sock *Socket
	err  error
}

// happyEyeballs races connection attempts to addrs, staggered by cfg.delay.
func happyEyeballs(c *aio.Ctx, addrs []netip.Addr, port uint16, cfg dialConfig) (*Socket, error) {
	results := aio.NewChan[attempt](len(addrs)) // room for every attempt: a send never waits
	var tasks []*aio.Task[struct{}]
	defer func() {
		// The attempts still under way lose: cancel them (a cancelled
		// Connect closes its socket), wait for them, and close the
		// sockets of those that connected after the winner.
		for _, t := range tasks {
			t.Cancel(nil)
		}
		for _, t := range tasks {
			aio.Shielded(c, func(c *aio.Ctx) error { _, err := aio.Await(c, t); return err })
		}
		for {
			r, ok, err := results.TryRecv()
			if err != nil || !ok {
				return
			}
			if r.sock != nil {
				r.sock.Close()
			}
		}
	}()
	errs := make([]error, len(addrs))
	started, failed := 0, 0
	start := func() {
		i := started
		started++
		addr := netip.AddrPortFrom(addrs[i], port).String()
		t, _ := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
			s, err := Connect(c, "tcp", addr, cfg.opts...)
			results.TrySend(attempt{i, s, err})
			return struct{}{}, nil
		})
		tasks = append(tasks, t)
	}
	start()
	for cfg.delay <= 0 && started < len(addrs) {
		start()
	}
	for {
		var r attempt
		cases := []aio.SelectCase{aio.RecvCase(results, &r, nil)}
		if started < len(addrs) {
			cases = append(cases, aio.TimeoutCase(cfg.delay))
		}
		k, err := aio.Select(c, cases...)
		if err != nil {
			return nil, err
		}
		if k == 1 { // the attempt delay passed: the next attempt, in parallel
			start()
			continue
		}
		if r.err == nil {
			return r.sock, nil
		}
		errs[r.i] = fmt.Errorf("%s: %w", netip.AddrPortFrom(addrs[r.i], port), r.err)
		if failed++; failed == len(addrs) {
			return nil, fmt.Errorf("socket: Dial: every attempt failed: %w", errors.Join(errs...))
		}
		if started < len(addrs) {
			start() // a failure starts the next attempt at once
		}
	}
}
