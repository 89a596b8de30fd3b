//go:build linux

package stream_test

import (
	"fmt"
	"io"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
)

// A line-echo server and a client over TCP loopback, on one loop.
func Example() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			for {
				line, err := s.ReadLine(c)
				if err == io.EOF {
					return nil // the client is done
				}
				if err != nil {
					return err
				}
				if err := s.Write(c, append([]byte("echo: "), line...)); err != nil {
					return err
				}
			}
		})
		if err != nil {
			return struct{}{}, err
		}
		s, err := stream.Open(c, "tcp", srv.Addr().String())
		if err != nil {
			return struct{}{}, err
		}
		for _, msg := range []string{"hello\n", "world\n"} {
			s.Write(c, []byte(msg))
			if err := s.Drain(c); err != nil {
				return struct{}{}, err
			}
			reply, err := s.ReadLine(c)
			if err != nil {
				return struct{}{}, err
			}
			fmt.Print(string(reply))
		}
		s.Close()
		s.WaitClosed(c)
		srv.Close()
		return struct{}{}, srv.Wait(c)
	})
	fmt.Println("done:", err)
	// Output:
	// echo: hello
	// echo: world
	// done: <nil>
}
