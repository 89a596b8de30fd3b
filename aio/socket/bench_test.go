//go:build linux

package socket_test

import (
	"io"
	"net"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
)

const benchMsg = 1024

// BenchmarkEchoTCP is a 1 KiB echo round trip between a client task and a
// server task on one loop over TCP loopback.
func BenchmarkEchoTCP(b *testing.B) {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		ln, err := socket.Listen(c, "tcp", "127.0.0.1:0")
		if err != nil {
			return struct{}{}, err
		}
		defer ln.Close()
		server, _ := aio.Spawn(c, func(c *aio.Ctx) (struct{}, error) {
			conn, err := ln.Accept(c)
			if err != nil {
				return struct{}{}, err
			}
			defer conn.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := conn.RecvInto(c, buf)
				if err != nil {
					return struct{}{}, nil
				}
				if _, err := conn.SendAll(c, buf[:n]); err != nil {
					return struct{}{}, err
				}
			}
		})
		conn, err := socket.Connect(c, "tcp", ln.LocalAddr().String())
		if err != nil {
			return struct{}{}, err
		}
		msg := make([]byte, benchMsg)
		buf := make([]byte, benchMsg)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := conn.SendAll(c, msg); err != nil {
				return struct{}{}, err
			}
			if err := readFull(c, conn, buf); err != nil {
				return struct{}{}, err
			}
		}
		b.StopTimer()
		conn.Close()
		_, err = aio.Await(c, server)
		return struct{}{}, err
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEchoTCPGoNet is the same round trip between a Go net client
// and a goroutine server.
func BenchmarkEchoTCPGoNet(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			if _, err := conn.Write(buf[:n]); err != nil {
				return
			}
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, benchMsg)
	buf := make([]byte, benchMsg)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := conn.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(conn, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	conn.Close()
	ln.Close()
	<-done
}
