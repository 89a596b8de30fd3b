// Echo is a line-echo server and its clients on one loop, with streams
// (package aio/stream, built on the raw sockets of aio/socket).
//
// Run it as
//
//	go run ./examples/echo                  # a server and 3 clients, then exit
//	go run ./examples/echo -listen :7000    # serve until Ctrl-C
//
// While it serves, `nc 127.0.0.1 7000` talks to it. Every connection is a
// task: the handler reads a line and writes it back, in sequence, as a
// goroutine would, and a thousand clients share the loop's one thread.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
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

func main() {
	listen := flag.String("listen", "", "serve on this address until interrupted (e.g. 127.0.0.1:7000), instead of the demonstration")
	flag.Parse()
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		addr := "127.0.0.1:0"
		if *listen != "" {
			addr = *listen
		}
		srv, err := stream.Serve(c, "tcp", addr, echo)
		if err != nil {
			return struct{}{}, err
		}
		fmt.Println("serving on", srv.Addr())
		if *listen != "" {
			return struct{}{}, srv.Wait(c) // until Ctrl-C cancels the main task
		}
		// The demonstration: three clients, one after the other, then stop.
		for id := range 3 {
			if err := client(c, srv.Addr().String(), id); err != nil {
				return struct{}{}, err
			}
		}
		srv.Close()
		return struct{}{}, srv.Wait(c)
	})
	if err != nil && !errors.Is(err, aio.ErrInterrupted) {
		log.Print(err)
		os.Exit(1)
	}
}
