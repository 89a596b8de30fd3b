// Echo is a line-echo server and its clients on one loop, written twice:
// with streams (package aio/stream: a task per connection, sequential code
// as a goroutine would have) and with a protocol (package aio/transport:
// callbacks, no task per connection, the cheapest way to serve many).
//
// Run it as
//
//	go run ./examples/echo                              # both servers, 3 clients each, then exit
//	go run ./examples/echo -listen :7000                # serve with streams until Ctrl-C
//	go run ./examples/echo -listen :7000 -api protocol  # serve with the protocol
//
// While it serves, `nc 127.0.0.1 7000` talks to it. A thousand clients
// share the loop's one thread either way.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
	"github.com/aiogo/aio/aio/transport"
)

// echo is the handler of one connection: it echoes each line until the
// client closes its side.
func echo(c *aio.Ctx, s *stream.Stream) error {
	for {
		line, err := s.ReadLine(c)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Write(c, line); err != nil {
			return err
		}
		if err := s.Drain(c); err != nil { // waits while the client reads slowly
			return err
		}
	}
}

// client sends lines and checks that each comes back.
func client(c *aio.Ctx, addr string, id int) error {
	s, err := stream.Open(c, "tcp", addr)
	if err != nil {
		return err
	}
	defer s.Close()
	for i := range 3 {
		msg := fmt.Sprintf("client %d, line %d\n", id, i)
		if err := s.Write(c, []byte(msg)); err != nil {
			return err
		}
		back, err := s.ReadLine(c)
		if err != nil {
			return err
		}
		if string(back) != msg {
			return fmt.Errorf("sent %q, got %q back", msg, back)
		}
		fmt.Print("echoed: ", string(back))
	}
	return s.WriteEOF()
}

// server is what both kinds of server give the demonstration.
type server interface {
	Addr() net.Addr
	Close() error
	Wait(c *aio.Ctx) error
}

// streamServer adapts stream.Server, whose Close has no error.
type streamServer struct{ *stream.Server }

func (s streamServer) Close() error { s.Server.Close(); return nil }

// serve starts the server of the given API on addr.
func serve(c *aio.Ctx, api, addr string) (server, error) {
	switch api {
	case "stream":
		srv, err := stream.Serve(c, "tcp", addr, echo)
		if err != nil {
			return nil, err
		}
		return streamServer{srv}, nil
	case "protocol":
		return transport.Serve(c, "tcp", addr, func() *lineEcho { return &lineEcho{} })
	}
	return nil, fmt.Errorf("unknown -api %q (stream or protocol)", api)
}

func main() {
	listen := flag.String("listen", "", "serve on this address until interrupted (e.g. 127.0.0.1:7000), instead of the demonstration")
	api := flag.String("api", "stream", "with -listen, the server to run: stream or protocol")
	flag.Parse()
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		if *listen != "" {
			srv, err := serve(c, *api, *listen)
			if err != nil {
				return struct{}{}, err
			}
			fmt.Printf("serving (%s) on %v\n", *api, srv.Addr())
			return struct{}{}, srv.Wait(c) // until Ctrl-C cancels the main task
		}
		// The demonstration: each server, three clients, then stop.
		for _, api := range []string{"stream", "protocol"} {
			srv, err := serve(c, api, "127.0.0.1:0")
			if err != nil {
				return struct{}{}, err
			}
			fmt.Printf("%s server:\n", api)
			for id := range 3 {
				if err := client(c, srv.Addr().String(), id); err != nil {
					return struct{}{}, err
				}
			}
			srv.Close()
			if err := srv.Wait(c); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	})
	if err != nil && !errors.Is(err, aio.ErrInterrupted) {
		log.Print(err)
		os.Exit(1)
	}
}
