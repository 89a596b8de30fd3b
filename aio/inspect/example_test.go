package inspect_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/inspect"
)

// Handler serves a loop's task dump over HTTP, beside net/http/pprof:
// ?format=json gives JSON, ?stacks=1 the tasks' stacks.
func ExampleHandler() {
	l, _ := aio.NewLoop()
	mux := http.NewServeMux()
	mux.Handle("/debug/aio/tasks", inspect.Handler(l))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ran := make(chan error, 1)
	go func() { ran <- l.RunForever() }()
	defer func() {
		l.Stop()
		<-ran
		l.Close()
	}()
	resp, err := http.Get(srv.URL + "/debug/aio/tasks")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	// Output:
	// 200 OK text/plain; charset=utf-8
}

// PublishMetrics puts a loop's metrics in the expvar "aio", which
// /debug/vars serves (expvar's handler) as JSON, one member per loop.
func ExamplePublishMetrics() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		return struct{}{}, inspect.PublishMetrics(c.Loop(), "main")
	})
	fmt.Println(err)
	// Output:
	// <nil>
}
