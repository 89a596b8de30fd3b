//go:build linux

package stream_test

import (
	"net"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/internal/leakcheck"
)

// TestMain checks, after all the tests of the package, that none of them
// left a goroutine behind.
func TestMain(m *testing.M) {
	leakcheck.VerifyTestMain(m)
}

// testTimeout bounds every loop of the tests.
const testTimeout = 60 * time.Second

// run runs body as the main task of a new loop, bounded by testTimeout.
// Bodies call t.Errorf, never t.Fatal.
func run(t *testing.T, body func(c *aio.Ctx) error) {
	t.Helper()
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		return struct{}{}, aio.WithTimeout(c, testTimeout, body)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkFDs checks, at the end of the test (after the cleanups registered
// after it, such as a peer's stop), that the test left no fd open.
func checkFDs(t testing.TB) {
	t.Helper()
	before := leakcheck.OpenFDs(t)
	t.Cleanup(func() {
		if after := leakcheck.OpenFDs(t); after != before {
			t.Errorf("fds open: %d before, %d after", before, after)
		}
	})
}

// peer starts a Go net server on 127.0.0.1 whose connections are served by
// serve (in a goroutine each, with a deadline of testTimeout), and returns
// its address and a stop function that closes it and waits for them (also
// run as a cleanup, before the test's fd check).
func peer(t testing.TB, serve func(net.Conn)) (string, func()) {
	t.Helper()
	checkFDs(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
				cn.SetDeadline(time.Now().Add(testTimeout))
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
	return ln.Addr().String(), stop
}

// echo copies what it reads back until EOF.
func echo(cn net.Conn) {
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

// sendThenClose returns a peer that writes data (in the given chunks, with
// a short pause between them) and closes.
func sendThenClose(chunks ...string) func(net.Conn) {
	return func(cn net.Conn) {
		for _, ch := range chunks {
			if _, err := cn.Write([]byte(ch)); err != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
}
