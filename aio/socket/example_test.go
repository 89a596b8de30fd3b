//go:build linux

package socket_test

import (
	"fmt"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/socket"
)

// An echo over TCP loopback between a server task and a client task of
// one loop.
func Example() {
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
			buf := make([]byte, 1024)
			for {
				n, err := conn.RecvInto(c, buf)
				if err != nil { // io.EOF: the client is done
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
		defer conn.Close()
		for _, msg := range []string{"hello", "world"} {
			conn.SendAll(c, []byte(msg))
			reply, err := conn.Recv(c, 100)
			if err != nil {
				return struct{}{}, err
			}
			fmt.Printf("%s\n", reply)
		}
		conn.ShutdownWrite()
		_, err = aio.Await(c, server)
		return struct{}{}, err
	})
	fmt.Println("done:", err)
	// Output:
	// hello
	// world
	// done: <nil>
}
