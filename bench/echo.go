package main

// The echo workload of package aio/socket: 1 KiB round trips over TCP
// loopback between a client task and a server task of one loop, beside a
// Go net client and a goroutine server. The full echo benchmark (many
// connections, message sizes, latency percentiles, CPU per request) comes
// with the transports and streams of "Networking on the loop".

import (
	"fmt"
	"io"
	"net"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
)

const echoMsg = 1024

func echoWorkloads() []workload {
	return []workload{
		{
			name:  "echo",
			title: "echo 1 KiB, 1 conn",
			about: "a 1 KiB message sent and echoed back over TCP loopback between a client task and a server task on one loop (aio/socket), per round trip; Go: a net client and a goroutine server",
			unit:  nsPerOp, n: 20_000, quickN: 2_000,
			aio: aioEcho,
			bases: []baseline{
				{"go net", goEcho},
			},
		},
	}
}

// aioEcho measures n echo round trips of echoMsg bytes on one loop.
func aioEcho(n int) (result, error) {
	var m meter
	_, err := runTask(func(c *aio.Ctx) (int, error) {
		ln, err := socket.Listen(c, "tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer ln.Close()
		server, err := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			conn, err := ln.Accept(c)
			if err != nil {
				return 0, fmt.Errorf("accept: %w", err)
			}
			defer conn.Close()
			buf := make([]byte, 64<<10)
			for {
				k, err := conn.RecvInto(c, buf)
				if err != nil || k == 0 {
					return 0, nil // the client closed
				}
				if _, err := conn.SendAll(c, buf[:k]); err != nil {
					return 0, fmt.Errorf("server SendAll: %w", err)
				}
			}
		})
		if err != nil {
			return 0, err
		}
		conn, err := socket.Connect(c, "tcp", ln.LocalAddr().String())
		if err != nil {
			return 0, fmt.Errorf("connect: %w", err)
		}
		msg, buf := make([]byte, echoMsg), make([]byte, echoMsg)
		m.start()
		for range n {
			if _, err := conn.SendAll(c, msg); err != nil {
				conn.Close()
				return 0, fmt.Errorf("client SendAll: %w", err)
			}
			for got := 0; got < len(buf); {
				k, err := conn.RecvInto(c, buf[got:])
				if err != nil || k == 0 {
					conn.Close()
					return 0, fmt.Errorf("client RecvInto after %d bytes: %v", got, err)
				}
				got += k
			}
		}
		m.stop()
		conn.Close()
		_, err = aio.Await(c, server)
		return 0, err
	})
	if err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}

// goEcho is the same with Go's net package: a client on this goroutine and
// a server goroutine.
func goEcho(n int) (result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		buf := make([]byte, 64<<10)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				done <- nil
				return
			}
			if _, err := conn.Write(buf[:k]); err != nil {
				done <- err
				return
			}
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return result{}, err
	}
	msg, buf := make([]byte, echoMsg), make([]byte, echoMsg)
	var m meter
	m.start()
	for range n {
		if _, err := conn.Write(msg); err != nil {
			conn.Close()
			return result{}, err
		}
		if _, err := io.ReadFull(conn, buf); err != nil {
			conn.Close()
			return result{}, err
		}
	}
	m.stop()
	conn.Close()
	if err := <-done; err != nil {
		return result{}, err
	}
	return m.perOp(n), nil
}
