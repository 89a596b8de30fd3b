//go:build linux

package subprocess_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/subprocess"
)

// A shell command's stdout is read to its end, and the exit is a success.
func TestShellEcho(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			cmd := subprocess.Shell("echo hello; echo world")
			cmd.Stdout = subprocess.Pipe
			p, err := cmd.Start(c)
			if err != nil {
				return err
			}
			l1, err := p.Stdout.ReadLine(c)
			if err != nil || string(l1) != "hello\n" {
				t.Errorf("ReadLine = %q, %v", l1, err)
			}
			rest, err := p.Stdout.ReadAll(c)
			if err != nil || string(rest) != "world\n" {
				t.Errorf("ReadAll = %q, %v", rest, err)
			}
			if n, err := p.Stdout.Read(c, make([]byte, 4)); n != 0 || err != io.EOF {
				t.Errorf("Read at end = %d, %v; want 0, EOF", n, err)
			}
			st, err := p.Wait(c)
			if err != nil || st.ExitCode() != 0 || !st.Success() {
				t.Errorf("Wait = %v, %v", st, err)
			}
			return nil
		})
	})
}

// cat returns what is written to it once its stdin is closed.
func TestCatRoundTrip(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			cmd := subprocess.Command("cat")
			cmd.Stdin, cmd.Stdout = subprocess.Pipe, subprocess.Pipe
			p, err := cmd.Start(c)
			if err != nil {
				return err
			}
			in := bytes.Repeat([]byte("0123456789abcdef"), 1000)
			if n, err := p.Stdin.Write(c, in); n != len(in) || err != nil {
				t.Errorf("Write = %d, %v", n, err)
			}
			p.Stdin.Close(c)
			out, err := p.Stdout.ReadAll(c)
			if err != nil || !bytes.Equal(out, in) {
				t.Errorf("ReadAll = %d bytes, %v; want %d", len(out), err, len(in))
			}
			if _, err := p.Wait(c); err != nil {
				t.Errorf("Wait: %v", err)
			}
			if _, err := p.Stdin.Write(c, []byte("x")); !errors.Is(err, subprocess.ErrClosed) || !errors.Is(err, os.ErrClosed) {
				t.Errorf("Write after Close: %v, want ErrClosed", err)
			}
			return nil
		})
	})
}

// Exit codes come back in the status and in an *ExitError.
func TestExitCodes(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			for _, code := range []int{0, 1, 3, 255} {
				p, err := subprocess.Shell("exit " + itoa(code)).Start(c)
				if err != nil {
					return err
				}
				st, err := p.Wait(c)
				if st == nil || st.ExitCode() != code || st.ReturnCode() != code || !st.Exited() {
					t.Errorf("exit %d: status %v", code, st)
				}
				var ee *subprocess.ExitError
				if code == 0 && err != nil || code != 0 && (!errors.As(err, &ee) || ee.ExitCode() != code) {
					t.Errorf("exit %d: err %v", code, err)
				}
				if code == 3 && err.Error() != "exit status 3" {
					t.Errorf("message %q", err)
				}
			}
			return nil
		})
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

// Kill ends a sleeping child, and the status says SIGKILL; signals after
// the reap fail with os.ErrProcessDone.
func TestKill(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			p, err := subprocess.Command("sleep", "100").Start(c)
			if err != nil {
				return err
			}
			if err := p.Kill(); err != nil {
				t.Errorf("Kill: %v", err)
			}
			st, err := p.Wait(c)
			var ee *subprocess.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("Wait err = %v", err)
			}
			if sig, ok := st.Signaled(); !ok || sig != syscall.SIGKILL || st.ReturnCode() != -9 || st.ExitCode() != -1 {
				t.Errorf("status %v", st)
			}
			if err.Error() != "signal: killed" {
				t.Errorf("message %q", err)
			}
			if err := p.Terminate(); !errors.Is(err, os.ErrProcessDone) {
				t.Errorf("Terminate after exit: %v", err)
			}
			return nil
		})
	})
}

// Terminate sends SIGTERM, which the child can trap.
func TestTerminateTrapped(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		cmd := subprocess.Shell("trap 'echo got; exit 7' TERM; echo ready; while :; do sleep 0.05; done")
		cmd.Stdout = subprocess.Pipe
		p, err := cmd.Start(c)
		if err != nil {
			return err
		}
		if l, err := p.Stdout.ReadLine(c); string(l) != "ready\n" {
			t.Errorf("ReadLine %q %v", l, err)
		}
		p.Terminate()
		out, _ := p.Stdout.ReadAll(c)
		st, _ := p.Wait(c)
		if string(out) != "got\n" || st.ExitCode() != 7 {
			t.Errorf("out %q status %v", out, st)
		}
		return nil
	})
}

// 10 MiB of output through Communicate arrive byte for byte, and the
// child is reaped.
func TestLargeOutput(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			cmd := subprocess.Shell("yes | head -c 10485760")
			cmd.Stdout = subprocess.Pipe
			p, err := cmd.Start(c)
			if err != nil {
				return err
			}
			out, _, err := p.Communicate(c, nil)
			if err != nil || len(out) != 10485760 {
				t.Errorf("Communicate = %d bytes, %v", len(out), err)
			}
			if !bytes.Equal(out[:6], []byte("y\ny\ny\n")) || bytes.Count(out, []byte("y\n")) != 10485760/2 {
				t.Errorf("content is not yes's")
			}
			if s := procState(p.Pid()); s != 0 {
				t.Errorf("child state %c after Communicate", s)
			}
			return nil
		})
	})
}

// Communicate feeds a large input while draining a large output and a
// stderr: no deadlock.
func TestCommunicateBothWays(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			cmd := subprocess.Shell("cat; echo done >&2")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = subprocess.Pipe, subprocess.Pipe, subprocess.Pipe
			p, err := cmd.Start(c)
			if err != nil {
				return err
			}
			in := bytes.Repeat([]byte("abcdefgh"), 4<<20/8)
			out, errOut, err := p.Communicate(c, in)
			if err != nil || !bytes.Equal(out, in) || string(errOut) != "done\n" {
				t.Errorf("Communicate = %d, %q, %v", len(out), errOut, err)
			}
			return nil
		})
	})
}

// A child that exits while the parent writes makes Write fail with EPIPE,
// not kill the parent and not hang.
func TestEarlyExitEPIPE(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			cmd := subprocess.Shell("exit 0")
			cmd.Stdin = subprocess.Pipe
			p, err := cmd.Start(c)
			if err != nil {
				return err
			}
			if _, err := p.Wait(c); err != nil {
				t.Errorf("Wait %v", err)
			}
			n, err := p.Stdin.Write(c, make([]byte, 1<<20))
			if !errors.Is(err, syscall.EPIPE) || n != 0 {
				t.Errorf("Write = %d, %v; want EPIPE", n, err)
			}
			p.Stdin.Close(c)
			return nil
		})
	})
}

// A child that closes its stdout and stdin early while it runs on: the
// parent reads the end of the output, and its writes fail with EPIPE, with
// no hang and no SIGPIPE.
func TestChildClosesEarly(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			cmd := subprocess.Shell("exec 0<&- 1>&-; exec sleep 100")
			cmd.Stdin, cmd.Stdout = subprocess.Pipe, subprocess.Pipe
			p, err := cmd.Start(c)
			if err != nil {
				return err
			}
			out, err := p.Stdout.ReadAll(c)
			if err != nil || len(out) != 0 {
				t.Errorf("ReadAll %q %v", out, err)
			}
			_, werr := p.Stdin.Write(c, make([]byte, 1<<20))
			if !errors.Is(werr, syscall.EPIPE) {
				t.Errorf("Write: %v, want EPIPE", werr)
			}
			p.Stdin.Close(c)
			p.Kill()
			p.Wait(c)
			return nil
		})
	})
}

// A child that never reads its stdin: Write waits without blocking the
// loop (another task runs meanwhile), and a timeout cancels it with the
// count of the bytes written.
func TestWriteNeverRead(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			cmd := subprocess.Command("sleep", "100")
			cmd.Stdin = subprocess.Pipe
			p, err := cmd.Start(c)
			if err != nil {
				return err
			}
			ran := false
			other, _ := aio.Spawn(c, func(c *aio.Ctx) (int, error) {
				ran = true // runs while Write is parked
				return 0, nil
			})
			var n int
			err = aio.WithTimeout(c, 200*time.Millisecond, func(c *aio.Ctx) error {
				var err error
				n, err = p.Stdin.Write(c, make([]byte, 16<<20))
				return err
			})
			if !errors.Is(err, aio.ErrTimeout) || n <= 0 || n >= 16<<20 {
				t.Errorf("Write = %d, %v", n, err)
			}
			if !ran {
				t.Errorf("the loop did not run another task meanwhile")
			}
			aio.Await(c, other)
			p.Kill()
			p.Stdin.Close(c)
			p.Wait(c)
			return nil
		})
	})
}

// A cancelled Read loses no bytes: what the child wrote after the
// cancellation is read in full by the next reads.
func TestReadCancelKeepsBytes(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		cmd := subprocess.Command("cat")
		cmd.Stdin, cmd.Stdout = subprocess.Pipe, subprocess.Pipe
		p, err := cmd.Start(c)
		if err != nil {
			return err
		}
		err = aio.WithTimeout(c, 20*time.Millisecond, func(c *aio.Ctx) error {
			_, err := p.Stdout.ReadLine(c)
			return err
		})
		if !errors.Is(err, aio.ErrTimeout) {
			t.Errorf("ReadLine: %v", err)
		}
		p.Stdin.Write(c, []byte("par"))
		// A partial line, then a cancellation: the part stays.
		for {
			err = aio.WithTimeout(c, 20*time.Millisecond, func(c *aio.Ctx) error {
				l, err := p.Stdout.ReadLine(c)
				if err == nil {
					t.Errorf("ReadLine = %q before the newline", l)
				}
				return err
			})
			if errors.Is(err, aio.ErrTimeout) {
				break
			}
		}
		p.Stdin.Write(c, []byte("tial\nrest"))
		p.Stdin.Close(c)
		l, err := p.Stdout.ReadLine(c)
		if string(l) != "partial\n" || err != nil {
			t.Errorf("ReadLine = %q, %v", l, err)
		}
		l, err = p.Stdout.ReadLine(c)
		if string(l) != "rest" || err != nil {
			t.Errorf("ReadLine = %q, %v", l, err)
		}
		if l, err = p.Stdout.ReadLine(c); err != io.EOF {
			t.Errorf("ReadLine at end = %q, %v", l, err)
		}
		p.Wait(c)
		return nil
	})
}

// Wait is cancellable; the child is still reaped by the loop later.
func TestWaitCancel(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			p, err := subprocess.Command("sleep", "100").Start(c)
			if err != nil {
				return err
			}
			err = aio.WithTimeout(c, 10*time.Millisecond, func(c *aio.Ctx) error {
				_, err := p.Wait(c)
				return err
			})
			if !errors.Is(err, aio.ErrTimeout) {
				t.Errorf("Wait: %v", err)
			}
			p.Kill()
			if _, err := p.Wait(c); err == nil {
				t.Errorf("Wait after Kill: nil")
			}
			return nil
		})
	})
}

// A program that does not exist: Start fails with an error matching
// ErrStart and exec.ErrNotFound (PATH lookup) or fs.ErrNotExist (a path).
func TestNotFound(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		_, err := subprocess.Command("no-such-program-xyz").Start(c)
		if !errors.Is(err, subprocess.ErrStart) || !errors.Is(err, exec.ErrNotFound) || !strings.Contains(err.Error(), "no-such-program-xyz") {
			t.Errorf("Command not in PATH: %v", err)
		}
		cmd := subprocess.Command("/no/such/program")
		cmd.Stdout = subprocess.Pipe
		_, err = cmd.Start(c)
		var pe *fs.PathError
		if !errors.Is(err, subprocess.ErrStart) || !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, syscall.ENOENT) || !errors.As(err, &pe) {
			t.Errorf("Command of a missing path: %v", err)
		}
		cmd = subprocess.Command("/bin/true")
		cmd.Dir = "/no/such/dir"
		if _, err = cmd.Start(c); !errors.Is(err, subprocess.ErrStart) || !errors.Is(err, syscall.ENOENT) {
			t.Errorf("missing Dir: %v", err)
		}
		cmd = subprocess.Command("/bin/true")
		cmd.Stdout = subprocess.File(nil)
		if _, err = cmd.Start(c); !errors.Is(err, subprocess.ErrBadRedirect) {
			t.Errorf("File(nil): %v", err)
		}
		return nil
	})
}

// Dir and Env reach the child; DevNull gives an empty stdin; a File
// redirect and ExtraFiles connect the child to the parent's files.
func TestDirEnvFiles(t *testing.T) {
	dir := t.TempDir()
	run(t, func(c *aio.Ctx) error {
		cmd := subprocess.Shell(`pwd; echo "$FOO"; cat; echo extra >&3`)
		cmd.Dir = dir
		cmd.Env = []string{"FOO=bar", "PATH=/usr/bin:/bin"}
		cmd.Stdin = subprocess.DevNull
		cmd.Stdout = subprocess.Pipe
		f, err := os.Create(dir + "/extra")
		if err != nil {
			return err
		}
		cmd.ExtraFiles = []*os.File{f}
		out, err := cmd.Output(c)
		f.Close()
		want := dir + "\nbar\n"
		if err != nil || string(out) != want {
			t.Errorf("Output = %q, %v; want %q", out, err, want)
		}
		b, _ := os.ReadFile(dir + "/extra")
		if string(b) != "extra\n" {
			t.Errorf("extra file: %q", b)
		}
		g, err := os.Create(dir + "/out")
		if err != nil {
			return err
		}
		cmd = subprocess.Shell("echo to-file")
		cmd.Stdout = subprocess.File(g)
		p, err := cmd.Start(c)
		g.Close()
		if err != nil {
			return err
		}
		p.Wait(c)
		b, _ = os.ReadFile(dir + "/out")
		if string(b) != "to-file\n" {
			t.Errorf("File redirect: %q", b)
		}
		return nil
	})
}

// No zombie after Wait, nor after a handle is dropped without Wait while
// the loop runs: the loop reaps a child as soon as it exits.
func TestNoZombieDropped(t *testing.T) {
	modes(t, func(t *testing.T) {
		var pid int
		run(t, func(c *aio.Ctx) error {
			cmd := subprocess.Shell("exit 5")
			cmd.Stdout = subprocess.Pipe
			p, err := cmd.Start(c)
			if err != nil {
				return err
			}
			pid = p.Pid()
			p = nil // dropped
			// Wait for the child to be gone, by /proc, not by the handle.
			for procState(pid) != 0 {
				if err := aio.Sleep(c, time.Millisecond); err != nil {
					t.Errorf("pid %d still there (state %c)", pid, procState(pid))
					return nil
				}
			}
			return nil
		})
	})
}

// A child still running when its loop closes is killed and reaped, its
// pipes closed, within the close.
func TestLoopCloseKills(t *testing.T) {
	modes(t, func(t *testing.T) {
		var pids []int
		run(t, func(c *aio.Ctx) error {
			for range 3 {
				cmd := subprocess.Command("sleep", "100")
				cmd.Stdin, cmd.Stdout, cmd.Stderr = subprocess.Pipe, subprocess.Pipe, subprocess.Pipe
				p, err := cmd.Start(c)
				if err != nil {
					return err
				}
				pids = append(pids, p.Pid())
			}
			return nil
		})
		for _, pid := range pids {
			if s := procState(pid); s != 0 {
				t.Errorf("pid %d in state %c after the loop closed", pid, s)
			}
		}
	})
}

// Kill may come from another goroutine; the status says SIGKILL.
func TestKillFromGoroutine(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			p, err := subprocess.Command("sleep", "100").Start(c)
			if err != nil {
				return err
			}
			done := make(chan error)
			go func() { done <- p.Kill() }()
			st, _ := p.Wait(c)
			if err := <-done; err != nil {
				t.Errorf("Kill: %v", err)
			}
			if sig, ok := st.Signaled(); !ok || sig != syscall.SIGKILL {
				t.Errorf("status %v", st)
			}
			return nil
		})
	})
}

// Communicate with an input far larger than a pipe to a child that exits
// without reading it: no hang, no EPIPE error, the output and status kept.
func TestCommunicateEarlyExit(t *testing.T) {
	modes(t, func(t *testing.T) {
		run(t, func(c *aio.Ctx) error {
			cmd := subprocess.Shell("head -c 3; exit 4")
			cmd.Stdin, cmd.Stdout = subprocess.Pipe, subprocess.Pipe
			p, err := cmd.Start(c)
			if err != nil {
				return err
			}
			out, _, err := p.Communicate(c, bytes.Repeat([]byte("x"), 8<<20))
			var ee *subprocess.ExitError
			if string(out) != "xxx" || !errors.As(err, &ee) || ee.ExitCode() != 4 {
				t.Errorf("Communicate = %q, %v", out, err)
			}
			return nil
		})
	})
}

// Misuse: Start off a task, and Reader methods from another loop, are
// errors, not crashes.
func TestMisuse(t *testing.T) {
	if _, err := subprocess.Command("/bin/true").Start(nil); err == nil {
		t.Errorf("Start(nil) = nil error")
	}
	run(t, func(c *aio.Ctx) error {
		cmd := subprocess.Command("cat")
		cmd.Stdin, cmd.Stdout = subprocess.Pipe, subprocess.Pipe
		p, err := cmd.Start(c)
		if err != nil {
			return err
		}
		if _, err := p.Stdout.Read(nil, make([]byte, 1)); err == nil {
			t.Errorf("Read(nil ctx) = nil error")
		}
		if _, err := p.Stdin.Write(nil, []byte("x")); err == nil {
			t.Errorf("Write(nil ctx) = nil error")
		}
		if _, err := p.Wait(nil); err == nil {
			t.Errorf("Wait(nil ctx) = nil error")
		}
		p.Stdin.Close(c)
		p.Stdout.Close(c)
		if _, err := p.Stdout.Read(c, make([]byte, 1)); !errors.Is(err, subprocess.ErrClosed) {
			t.Errorf("Read after Close: %v", err)
		}
		if _, err := p.Wait(c); err != nil {
			t.Errorf("Wait: %v", err)
		}
		return nil
	})
}

// A child that is reaped and whose pipes are all closed leaves the loop's
// close-hook registry, and the loop's hook goes with its last child: a
// long-running loop does not accumulate records of its children.
func TestRegistryShrinks(t *testing.T) {
	run(t, func(c *aio.Ctx) error {
		for range 5 {
			cmd := subprocess.Shell("echo x")
			cmd.Stdout = subprocess.Pipe
			p, err := cmd.Start(c)
			if err != nil {
				return err
			}
			if procs, loops := subprocess.Registered(); procs != 1 || loops != 1 {
				t.Errorf("running: registry %d children, %d loops", procs, loops)
			}
			p.Stdout.ReadAll(c)
			p.Wait(c)
			if procs, loops := subprocess.Registered(); procs != 0 || loops != 0 {
				t.Errorf("done: registry %d children, %d loops", procs, loops)
			}
		}
		return nil
	})
}
