//go:build linux

package prop_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/subprocess"
	"pgregory.net/rapid"
)

// TestPropSubprocessStream checks the pipes of a subprocess against a
// model, with random cancellation: bytes written to cat's stdin come back
// on its stdout in order, none lost or doubled, whatever reads (Read of a
// random size, ReadLine) are cancelled by random timeouts meanwhile; at the
// end, closing stdin and ReadAll return exactly what the model still
// holds, and the child exits with 0. Helpers start with "sp".
func TestPropSubprocessStream(t *testing.T) { rapid.Check(t, spCheck) }

// spOnLoop runs fn in a task of l and runs the loop until it is done.
func spOnLoop(rt *rapid.T, l *aio.Loop, fn func(c *aio.Ctx) error) {
	task, err := aio.Spawn(l, func(c *aio.Ctx) (int, error) { return 0, fn(c) })
	if err != nil {
		rt.Fatalf("Spawn: %v", err)
	}
	if _, err := aio.RunUntilComplete(l, task); err != nil {
		rt.Fatalf("loop step: %v", err)
	}
}

// spTimeout bounds one read: random, from an immediate cancellation to a
// few milliseconds.
func spTimeout(rt *rapid.T) time.Duration {
	return time.Duration(rapid.IntRange(0, 3).Draw(rt, "ms")) * time.Millisecond
}

func spCheck(rt *rapid.T) {
	l, err := aio.NewLoop()
	if err != nil {
		rt.Fatal(err)
	}
	defer l.Close() // kills and reaps the child if a check failed
	var p *subprocess.Process
	spOnLoop(rt, l, func(c *aio.Ctx) error {
		cmd := subprocess.Command("cat")
		cmd.Stdin, cmd.Stdout = subprocess.Pipe, subprocess.Pipe
		p, err = cmd.Start(c)
		return err
	})
	if err != nil {
		rt.Fatal(err)
	}
	var pending []byte // written, not read yet
	got := func(b []byte) {
		if !bytes.HasPrefix(pending, b) {
			rt.Fatalf("read %q, want a prefix of %q", b, pending)
		}
		pending = pending[len(b):]
	}
	rt.Repeat(map[string]func(*rapid.T){
		"Write": func(rt *rapid.T) {
			if len(pending) > 16<<10 {
				rt.Skip("enough in flight: cat's pipes would fill")
			}
			data := []byte(rapid.StringMatching(`[a-c\n]{1,200}`).Draw(rt, "data"))
			spOnLoop(rt, l, func(c *aio.Ctx) error {
				n, err := p.Stdin.Write(c, data)
				if err != nil || n != len(data) {
					rt.Fatalf("Write = %d, %v", n, err)
				}
				return nil
			})
			pending = append(pending, data...)
		},
		"Read": func(rt *rapid.T) {
			buf := make([]byte, rapid.IntRange(1, 300).Draw(rt, "size"))
			d := spTimeout(rt)
			spOnLoop(rt, l, func(c *aio.Ctx) error {
				var n int
				err := aio.WithTimeout(c, d, func(c *aio.Ctx) error {
					var err error
					n, err = p.Stdout.Read(c, buf)
					return err
				})
				if err != nil && !errors.Is(err, aio.ErrTimeout) {
					rt.Fatalf("Read: %v", err)
				}
				if err != nil && n != 0 {
					rt.Fatalf("cancelled Read returned %d bytes", n)
				}
				got(buf[:n])
				return nil
			})
		},
		"ReadLine": func(rt *rapid.T) {
			d := spTimeout(rt)
			spOnLoop(rt, l, func(c *aio.Ctx) error {
				var line []byte
				err := aio.WithTimeout(c, d, func(c *aio.Ctx) error {
					var err error
					line, err = p.Stdout.ReadLine(c)
					return err
				})
				if err != nil && !errors.Is(err, aio.ErrTimeout) {
					rt.Fatalf("ReadLine: %v", err)
				}
				if err == nil && (len(line) == 0 || line[len(line)-1] != '\n') {
					rt.Fatalf("ReadLine = %q: no newline before the end", line)
				}
				got(line)
				return nil
			})
		},
	})
	spOnLoop(rt, l, func(c *aio.Ctx) error {
		p.Stdin.Close(c)
		rest, err := p.Stdout.ReadAll(c)
		if err != nil || !bytes.Equal(rest, pending) {
			rt.Fatalf("ReadAll = %q, %v; want %q", rest, err, pending)
		}
		if st, err := p.Wait(c); err != nil || st.ExitCode() != 0 {
			rt.Fatalf("Wait = %v, %v", st, err)
		}
		return nil
	})
}
