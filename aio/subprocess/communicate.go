//go:build linux

package subprocess

import (
	"errors"
	"syscall"

	"github.com/aiogo/aio/aio"
)

// Communicate feeds input to the child's stdin and closes it, reads its
// stdout and stderr to their ends, all at once in tasks of the loop, and
// then waits for the child to exit (asyncio's communicate). Output far
// larger than a pipe's buffer does not deadlock it: the outputs are drained
// while the input is written. A child that exits or closes its stdin before
// taking all of input is not an error (EPIPE is ignored, as in asyncio).
//
// The outputs are those of the streams started as Pipe (nil for the
// others); input needs Stdin to be a Pipe (it is ignored otherwise, and a
// Stdin pipe is closed even with no input). The error is Wait's (an
// *ExitError for a child that did not succeed, with the outputs all the
// same), a read's error, or the task's cancellation: then the child runs
// on and what was read stays in the Readers.
func (p *Process) Communicate(c *aio.Ctx, input []byte) (stdout, stderr []byte, err error) {
	err = aio.WithGroup(c, func(g *aio.Group) error {
		if p.Stdin != nil {
			g.Go(func(c *aio.Ctx) error {
				if len(input) > 0 {
					if _, err := p.Stdin.Write(c, input); err != nil &&
						!errors.Is(err, syscall.EPIPE) && !errors.Is(err, ErrClosed) {
						return err
					}
				}
				if err := p.Stdin.Close(c); err != nil {
					return err
				}
				return nil
			})
		}
		if p.Stdout != nil {
			g.Go(func(c *aio.Ctx) error {
				var err error
				stdout, err = p.Stdout.ReadAll(c)
				return err
			})
		}
		if p.Stderr != nil {
			g.Go(func(c *aio.Ctx) error {
				var err error
				stderr, err = p.Stderr.ReadAll(c)
				return err
			})
		}
		return nil
	})
	if err != nil {
		return stdout, stderr, err
	}
	_, err = p.Wait(c)
	return stdout, stderr, err
}

// Output is the common case of Communicate without input: start cmd, and
// collect its outputs and exit. Streams left Inherit that Output needs are
// made pipes: Stdout always; Stderr stays as set.
func (cmd *Cmd) Output(c *aio.Ctx) ([]byte, error) {
	cc := *cmd
	cc.Stdout = Pipe
	p, err := cc.Start(c)
	if err != nil {
		return nil, err
	}
	out, _, err := p.Communicate(c, nil)
	return out, err
}
