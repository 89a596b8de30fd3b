//go:build linux

// Package nettest holds what the networking packages' tests share: a loop
// bounded in time, a check that no descriptor is left open, a Go net peer
// on 127.0.0.1 started and stopped by the test, and a way to run out of
// descriptors for a moment.
package nettest

import (
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/internal/leakcheck"
)

// Timeout bounds every loop and peer of the tests.
const Timeout = 60 * time.Second

// Run runs body as the main task of a new loop, bounded by Timeout.
// Bodies call t.Errorf, never t.Fatal.
func Run(t *testing.T, body func(c *aio.Ctx) error) {
	t.Helper()
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		return struct{}{}, aio.WithTimeout(c, Timeout, body)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// CheckFDs checks, at the end of the test (after the cleanups registered
// after it, such as a peer's stop), that the test left no fd open.
func CheckFDs(t testing.TB) {
	t.Helper()
	before := leakcheck.OpenFDs(t)
	t.Cleanup(func() {
		if after := leakcheck.OpenFDs(t); after != before {
			t.Errorf("fds open: %d before, %d after", before, after)
		}
	})
}

// Peer starts a Go net server on 127.0.0.1 whose connections are served by
// serve (see Serve), and returns its address and its stop function. It also
// registers the test's fd check, to run after the peer has stopped.
func Peer(t testing.TB, serve func(net.Conn)) (string, func()) {
	t.Helper()
	CheckFDs(t)
	addr, stop := Serve(t, "tcp", "127.0.0.1:0", serve)
	return addr.String(), stop
}

// Serve starts a Go net server listening on network and addr whose
// connections are served by serve (in a goroutine each, with a deadline of
// Timeout), and returns its address and a stop function that closes it and
// waits for them (also run as a cleanup; calling it again does nothing).
func Serve(t testing.TB, network, addr string, serve func(net.Conn)) (net.Addr, func()) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	conns := make(chan net.Conn, 64)
	go func() {
		defer close(done)
		var wait []chan struct{}
		for {
			cn, err := ln.Accept()
			if err != nil {
				break
			}
			conns <- cn
			ch := make(chan struct{})
			wait = append(wait, ch)
			go func() {
				defer close(ch)
				defer cn.Close()
				cn.SetDeadline(time.Now().Add(Timeout))
				serve(cn)
			}()
		}
		for _, ch := range wait {
			<-ch
		}
	}()
	var stopped bool
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ln.Close()
		for {
			select {
			case cn := <-conns:
				cn.SetDeadline(time.Now()) // unblock a stuck peer
				continue
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
				continue
			}
		}
	}
	t.Cleanup(stop)
	return ln.Addr(), stop
}

// Echo copies what it reads back until EOF.
func Echo(cn net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := cn.Read(buf)
		if n > 0 {
			if _, err := cn.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// SendThenClose returns a peer that writes data (in the given chunks, with
// a short pause between them) and closes.
func SendThenClose(chunks ...string) func(net.Conn) {
	return func(cn net.Conn) {
		for _, ch := range chunks {
			if _, err := cn.Write([]byte(ch)); err != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// ExhaustFDs lowers the process's soft descriptor limit so that no new
// descriptor can be made (the kernel gives the lowest free number, and
// refuses one at or above the limit), and returns the function that
// restores it, which is also run as a cleanup. It skips the test where the
// limit cannot be read or set.
func ExhaustFDs(t testing.TB) (restore func()) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip("getrlimit:", err)
	}
	ents, _ := os.ReadDir("/proc/self/fd")
	open := map[string]bool{}
	for _, e := range ents {
		open[e.Name()] = true
	}
	free := 0
	for open[strconv.Itoa(free)] {
		free++
	}
	low := lim
	low.Cur = uint64(free)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip("setrlimit:", err)
	}
	// Make sure: while a new fd still fits, lower the limit to its number.
	for {
		fd, err := syscall.Dup(0)
		if err != nil {
			break
		}
		syscall.Close(fd)
		low.Cur = uint64(fd)
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low)
	}
	restored := false
	restore = func() {
		if !restored {
			restored = true
			syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
	}
	t.Cleanup(restore)
	return restore
}
