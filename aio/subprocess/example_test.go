//go:build linux

package subprocess_test

import (
	"errors"
	"fmt"
	"io"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/subprocess"
)

// A pipeline of two children, printf into sort, with the task copying the
// first one's stdout to the second one's stdin.
func Example_pipeline() {
	out, err := aio.Run(func(c *aio.Ctx) (string, error) {
		gen := subprocess.Shell(`printf 'pear\napple\nfig\n'`)
		gen.Stdout = subprocess.Pipe
		src, err := gen.Start(c)
		if err != nil {
			return "", err
		}
		srt := subprocess.Command("sort")
		srt.Stdin, srt.Stdout = subprocess.Pipe, subprocess.Pipe
		dst, err := srt.Start(c)
		if err != nil {
			return "", err
		}
		// Copy in a task of its own while this one reads sort's output.
		copier, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
			buf := make([]byte, 4096)
			total := 0
			for {
				n, err := src.Stdout.Read(c, buf)
				if errors.Is(err, io.EOF) {
					return total, dst.Stdin.Close(c)
				}
				if err != nil {
					return total, err
				}
				if _, err := dst.Stdin.Write(c, buf[:n]); err != nil {
					return total, err
				}
				total += n
			}
		})
		sorted, err := dst.Stdout.ReadAll(c)
		if err != nil {
			return "", err
		}
		if _, err := aio.Await(c, copier); err != nil {
			return "", err
		}
		if _, err := src.Wait(c); err != nil {
			return "", err
		}
		st, err := dst.Wait(c)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s%v", sorted, st), nil
	})
	fmt.Println(out, err)
	// Output:
	// apple
	// fig
	// pear
	// exit status 0 <nil>
}

// Communicate feeds stdin and collects the outputs; a failed child's
// status comes back as an *ExitError.
func ExampleProcess_Communicate() {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		cmd := subprocess.Shell("tr a-z A-Z; echo oops >&2; exit 3")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = subprocess.Pipe, subprocess.Pipe, subprocess.Pipe
		p, err := cmd.Start(c)
		if err != nil {
			return struct{}{}, err
		}
		out, errOut, err := p.Communicate(c, []byte("hello\n"))
		var ee *subprocess.ExitError
		fmt.Printf("%q %q %v %v\n", out, errOut, errors.As(err, &ee), err)
		return struct{}{}, nil
	})
	fmt.Println(err)
	// Output:
	// "HELLO\n" "oops\n" true exit status 3
	// <nil>
}
