//go:build linux

package stream_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
)

// A crypto/tls server over Conn(c) in a Serve handler completes a
// handshake with a Go crypto/tls client (which verifies the certificate)
// and exchanges data both ways; a client that connects and never starts
// the handshake is cut off by a handshake deadline on the loop's timers
// (an error matching os.ErrDeadlineExceeded), and the server goes on.
func TestTLSServer(t *testing.T) {
	cert, pool := selfSigned(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	run(t, func(c *aio.Ctx) error {
		handshakeErrs := make(chan error, 4)
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			conn := s.Conn(c)
			tc := tls.Server(conn, cfg)
			conn.SetDeadline(time.Now().Add(200 * time.Millisecond)) // the handshake's timeout
			err := tc.Handshake()
			handshakeErrs <- err
			if err != nil {
				return nil
			}
			conn.SetDeadline(time.Time{})
			buf := make([]byte, 5)
			if _, err := io.ReadFull(tc, buf); err != nil {
				return err
			}
			_, err = tc.Write(append([]byte("tls "), buf...))
			return err
		})
		if err != nil {
			return err
		}
		addr := srv.Addr().String()
		// A client that never speaks.
		silent, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer silent.Close()
		if err, _, _ := aio.GoRecv(c, handshakeErrs); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("the silent client's handshake: %v, want a deadline error", err)
		}
		// A real client, on a goroutine (it blocks).
		reply := make(chan string, 1)
		go func() {
			tc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
			if err != nil {
				reply <- "dial: " + err.Error()
				return
			}
			defer tc.Close()
			tc.Write([]byte("hello"))
			buf := make([]byte, 9)
			if _, err := io.ReadFull(tc, buf); err != nil {
				reply <- "read: " + err.Error()
				return
			}
			reply <- string(buf)
		}()
		if got, _, _ := aio.GoRecv(c, reply); got != "tls hello" {
			t.Errorf("the client got %q", got)
		}
		if err, _, _ := aio.GoRecv(c, handshakeErrs); err != nil {
			t.Errorf("the real client's handshake: %v", err)
		}
		srv.Close()
		return srv.Wait(c)
	})
}

// Open takes a host name: "localhost" reaches a listener on 127.0.0.1.
func TestOpenHostName(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			line, err := s.ReadLine(c)
			if err != nil {
				return err
			}
			return s.Write(c, line)
		})
		if err != nil {
			return err
		}
		_, port, _ := net.SplitHostPort(srv.Addr().String())
		s, err := stream.Open(c, "tcp", net.JoinHostPort("localhost", port))
		if err != nil {
			t.Errorf("Open localhost: %v", err)
		} else {
			s.Write(c, []byte("by name\n"))
			if line, err := s.ReadLine(c); string(line) != "by name\n" || err != nil {
				t.Errorf("echo %q, %v", line, err)
			}
			s.Close()
		}
		srv.Close()
		return srv.Wait(c)
	})
}
