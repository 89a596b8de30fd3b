// Http is a small HTTP/1.1 server on one loop, with streams (package
// aio/stream): it answers every request with a fixed body and keeps
// connections alive, which is what a load generator such as wrk or ab
// measures.
//
// Run it as
//
//	go run ./examples/http                        # serve, answer 3 requests of Go's http.Client, exit
//	go run ./examples/http -listen 127.0.0.1:8080  # serve until Ctrl-C
//	wrk -c 100 -d 10s http://127.0.0.1:8080/       # from another terminal (Debian: apt install wrk)
//
// It is a demonstration, not a web server: it reads the request line and
// the headers, skips a body announced by Content-Length, and ignores the
// rest of HTTP.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
)

var body = []byte("Hello from an aio loop.\n")

// response is the whole answer, made once.
var response = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
	strconv.Itoa(len(body)) + "\r\n\r\n" + string(body))

// serve answers the requests of one connection until the client closes it
// or asks to.
func serve(c *aio.Ctx, s *stream.Stream) error {
	for {
		line, err := s.ReadLine(c) // "GET / HTTP/1.1\r\n"
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		keepAlive := bytes.Contains(line, []byte("HTTP/1.1"))
		length := 0
		for { // the headers, up to the empty line
			h, err := s.ReadLine(c)
			if err != nil {
				return err
			}
			if len(bytes.TrimSpace(h)) == 0 {
				break
			}
			name, value, _ := strings.Cut(string(h), ":")
			value = strings.TrimSpace(value)
			switch strings.ToLower(name) {
			case "connection":
				keepAlive = !strings.EqualFold(value, "close") && (keepAlive || strings.EqualFold(value, "keep-alive"))
			case "content-length":
				length, _ = strconv.Atoi(value)
			}
		}
		if length > 0 {
			if _, err := s.ReadExactly(c, length); err != nil {
				return err
			}
		}
		if err := s.Write(c, response); err != nil {
			return err
		}
		if !keepAlive {
			return nil // the server closes the stream when the handler returns
		}
		if err := s.Drain(c); err != nil {
			return err
		}
	}
}

func main() {
	listen := flag.String("listen", "", "serve on this address until interrupted, instead of the demonstration")
	flag.Parse()
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		addr := "127.0.0.1:0"
		if *listen != "" {
			addr = *listen
		}
		srv, err := stream.Serve(c, "tcp", addr, serve)
		if err != nil {
			return struct{}{}, err
		}
		fmt.Println("serving on http://" + srv.Addr().String() + "/")
		if *listen != "" {
			return struct{}{}, srv.Wait(c) // until Ctrl-C cancels the main task
		}
		// The demonstration: Go's http.Client on a plain goroutine (it
		// blocks, so it must not run in a task), over one kept-alive
		// connection; the task waits for its report with GoRecv.
		report := make(chan string, 1)
		go func() {
			var out strings.Builder
			for range 3 {
				resp, err := http.Get("http://" + srv.Addr().String() + "/")
				if err != nil {
					fmt.Fprintln(&out, "error:", err)
					break
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				fmt.Fprintf(&out, "%s %q\n", resp.Status, b)
			}
			http.DefaultClient.CloseIdleConnections()
			report <- out.String()
		}()
		got, _, err := aio.GoRecv(c, report)
		if err != nil {
			return struct{}{}, err
		}
		fmt.Print(got)
		srv.Close()
		srv.CloseClients()
		return struct{}{}, srv.Wait(c)
	})
	if err != nil && !errors.Is(err, aio.ErrInterrupted) {
		log.Print(err)
		os.Exit(1)
	}
}
