//go:build unix

package loops_test

import (
	"fmt"
	"io"
	"net"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/loops"
	"github.com/aiogo/aio/aio/stream"
)

// A group of loops, a function run on each, and a hand-off from a task of
// one loop to another.
func Example() {
	g, err := loops.New(2)
	if err != nil {
		panic(err)
	}
	g.Start()
	defer g.Close()

	// Each loop keeps a counter of its own: no lock, it is that loop's.
	counters := make([]int, g.Len())
	g.Each(func(i int, c *aio.Ctx) error {
		counters[i] = 10 * (i + 1)
		return nil
	})

	// From a task of loop 0, read loop 1's counter on loop 1.
	t, _ := aio.Spawn(g.Loop(0), func(c *aio.Ctx) (int, error) {
		return loops.Call(c, g.Loop(1), func(c *aio.Ctx) (int, error) {
			counters[1]++
			return counters[1], nil
		})
	})
	v, err := t.Wait(contextBackground())
	fmt.Println(v, err)
	// Output: 21 <nil>
}

// A stream server on every loop of a group.
func ExampleServeStream() {
	g, _ := loops.New(2)
	g.Start()
	defer g.Close()

	srv, err := loops.ServeStream(g, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
		line, err := s.ReadLine(c)
		if err != nil {
			return err
		}
		return s.Write(c, append([]byte("echo: "), line...))
	})
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	cn, _ := net.Dial("tcp", srv.Addr().String())
	defer cn.Close()
	cn.Write([]byte("hello\n"))
	b, _ := io.ReadAll(cn)
	fmt.Print(string(b))
	// Output: echo: hello
}

// A queue homed on one loop, fed from a task of another.
func ExampleQueue() {
	g, _ := loops.New(2)
	g.Start()
	defer g.Close()

	q := loops.NewQueue[string](g.Loop(0), 1)
	aio.Spawn(g.Loop(1), func(c *aio.Ctx) (struct{}, error) {
		for _, w := range []string{"one", "two", "three"} {
			if err := q.Put(c, w); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, q.Close()
	})
	t, _ := aio.Spawn(g.Loop(0), func(c *aio.Ctx) ([]string, error) {
		var got []string
		for {
			w, err := q.Get(c)
			if err != nil {
				return got, nil // closed and empty
			}
			got = append(got, w)
		}
	})
	got, _ := t.Wait(contextBackground())
	fmt.Println(got)
	// Output: [one two three]
}
