//go:build linux

package subprocess

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/aiogo/aio/aio"
	"golang.org/x/sys/unix"
)

// ErrStart is matched (errors.Is) by every error of Start that comes from
// starting the program: one that is not found (the error also matches
// exec.ErrNotFound or fs.ErrNotExist), one that may not be executed, a Dir
// that does not exist. The error also wraps the system's error.
var ErrStart = errors.New("subprocess: cannot start the program")

// ErrClosed is returned by Read, Write and the other methods of a pipe that
// was closed (by Close, by the end of the stream, or by the loop's close).
// It matches os.ErrClosed too.
var ErrClosed = fmt.Errorf("subprocess: pipe is closed: %w", os.ErrClosed)

// ErrBadRedirect is returned by Start for a Redirect that cannot be used: a
// File redirect with a nil or closed file, or Stdout given as a pipe's read
// end.
var ErrBadRedirect = errors.New("subprocess: bad redirect")

type redirectKind uint8

const (
	inherit redirectKind = iota
	pipe
	devNull
	file
)

// A Redirect says what one of the child's standard streams is connected to.
// The zero value is Inherit, as in asyncio (and unlike os/exec, whose nil
// means /dev/null).
type Redirect struct {
	kind redirectKind
	f    *os.File
}

var (
	// Inherit gives the child the parent's own stream (fd 0, 1 or 2).
	Inherit = Redirect{kind: inherit}
	// Pipe connects the stream to a pipe whose other end is the
	// Process's Stdin, Stdout or Stderr, driven by the loop's poller.
	Pipe = Redirect{kind: pipe}
	// DevNull connects the stream to /dev/null.
	DevNull = Redirect{kind: devNull}
)

// File connects the stream to f, which the caller keeps and may close after
// Start (the child has its own copy). It may be the write end of another
// process's pipe, a regular file, a socket.
func File(f *os.File) Redirect { return Redirect{kind: file, f: f} }

// Cmd describes a program to start, as os/exec's Cmd does. Build it with
// Command or Shell, set its fields, and Start it. A Cmd may be started more
// than once; each Start makes a new Process.
type Cmd struct {
	// Path is the program to run: an absolute path, or a relative one,
	// evaluated in Dir (the child changes directory before its exec).
	// Command fills it in with exec.LookPath.
	Path string
	// Args are the program's arguments, Args[0] included (the program's
	// name). Empty means []string{Path}.
	Args []string
	// Env is the child's environment, "KEY=value" strings; nil means the
	// parent's environment (os.Environ()).
	Env []string
	// Dir is the child's working directory; empty means the parent's.
	Dir string
	// Stdin, Stdout and Stderr are the child's standard streams. The zero
	// value of each is Inherit.
	Stdin, Stdout, Stderr Redirect
	// ExtraFiles are further open files the child receives, file i as fd
	// 3+i. A nil entry leaves that fd closed in the child.
	ExtraFiles []*os.File
	// SysProcAttr holds further system-specific attributes, as in
	// os/exec (Setpgid, Credential, Pdeathsig...). Start sets its PidFD
	// field on a copy; leave that field nil.
	SysProcAttr *syscall.SysProcAttr

	// lookErr is the error of LookPath in Command, returned by Start.
	lookErr error
}

// Command returns the Cmd to run the program name with args. A name without
// a path separator is looked up in PATH with exec.LookPath; if that fails,
// Start returns the error (matching ErrStart and exec.ErrNotFound).
func Command(name string, args ...string) *Cmd {
	cmd := &Cmd{Path: name, Args: append([]string{name}, args...)}
	if filepath.Base(name) == name {
		p, err := exec.LookPath(name)
		if err != nil {
			cmd.lookErr = err
		} else {
			cmd.Path = p
		}
	}
	return cmd
}

// Shell returns the Cmd to run script with /bin/sh -c (asyncio's
// create_subprocess_shell). Quoting the script is the caller's task.
func Shell(script string) *Cmd {
	return &Cmd{Path: "/bin/sh", Args: []string{"/bin/sh", "-c", script}}
}

// String returns the command line, for messages.
func (cmd *Cmd) String() string {
	if len(cmd.Args) == 0 {
		return cmd.Path
	}
	s := cmd.Path
	for _, a := range cmd.Args[1:] {
		s += " " + a
	}
	return s
}

// startErr wraps err for the program path.
func startErr(path string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrStart, path, err)
}

// fds is what Start opens for one child: the child's ends (closed in the
// parent once the child has its copies) and the parent's pipe ends.
type childFiles struct {
	child   []uintptr
	toClose []int  // the child's ends and /dev/null, closed after the fork
	parent  [3]int // the parent's pipe ends, -1 where no pipe
}

func (cf *childFiles) closeChildEnds() {
	for _, fd := range cf.toClose {
		unix.Close(fd)
	}
	cf.toClose = nil
}

func (cf *childFiles) closeAll() {
	cf.closeChildEnds()
	for i, fd := range cf.parent {
		if fd >= 0 {
			unix.Close(fd)
			cf.parent[i] = -1
		}
	}
}

// open makes the pipes and files of the three standard streams.
func (cmd *Cmd) open() (*childFiles, error) {
	cf := &childFiles{parent: [3]int{-1, -1, -1}}
	devnull := -1
	for i, r := range []Redirect{cmd.Stdin, cmd.Stdout, cmd.Stderr} {
		switch r.kind {
		case inherit:
			cf.child = append(cf.child, uintptr(i))
		case devNull:
			if devnull < 0 {
				fd, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
				if err != nil {
					cf.closeAll()
					return nil, fmt.Errorf("subprocess: open %s: %w", os.DevNull, err)
				}
				devnull = fd
				cf.toClose = append(cf.toClose, fd)
			}
			cf.child = append(cf.child, uintptr(devnull))
		case file:
			if r.f == nil {
				cf.closeAll()
				return nil, fmt.Errorf("%w: File(nil) for fd %d", ErrBadRedirect, i)
			}
			sc, err := r.f.SyscallConn()
			if err != nil {
				cf.closeAll()
				return nil, fmt.Errorf("%w: fd %d: %w", ErrBadRedirect, i, err)
			}
			// Dup the file (close-on-exec) so that the caller may close
			// it meanwhile, and so that f's own mode is left alone.
			var nfd int
			var derr error
			cerr := sc.Control(func(fd uintptr) { nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) })
			if cerr == nil {
				cerr = derr
			}
			if cerr != nil {
				cf.closeAll()
				return nil, fmt.Errorf("%w: fd %d: %w", ErrBadRedirect, i, cerr)
			}
			cf.toClose = append(cf.toClose, nfd)
			cf.child = append(cf.child, uintptr(nfd))
		case pipe:
			var p [2]int
			if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
				cf.closeAll()
				return nil, fmt.Errorf("subprocess: pipe: %w", err)
			}
			mine, theirs := p[1], p[0] // stdin: the parent writes
			if i > 0 {
				mine, theirs = p[0], p[1]
			}
			cf.toClose = append(cf.toClose, theirs)
			cf.parent[i] = mine
			cf.child = append(cf.child, uintptr(theirs))
			if err := unix.SetNonblock(mine, true); err != nil {
				cf.closeAll()
				return nil, fmt.Errorf("subprocess: pipe: %w", err)
			}
		}
	}
	return cf, nil
}

// extra appends the ExtraFiles to the child's fds.
func (cmd *Cmd) extra(cf *childFiles) error {
	for i, f := range cmd.ExtraFiles {
		if f == nil {
			cf.child = append(cf.child, ^uintptr(0))
			continue
		}
		sc, err := f.SyscallConn()
		if err != nil {
			return fmt.Errorf("%w: ExtraFiles[%d]: %w", ErrBadRedirect, i, err)
		}
		var nfd int
		var derr error
		cerr := sc.Control(func(fd uintptr) { nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) })
		if cerr == nil {
			cerr = derr
		}
		if cerr != nil {
			return fmt.Errorf("%w: ExtraFiles[%d]: %w", ErrBadRedirect, i, cerr)
		}
		cf.toClose = append(cf.toClose, nfd)
		cf.child = append(cf.child, uintptr(nfd))
	}
	return nil
}

// Start starts the program as a child of the process, with its pipes on
// c's loop, and returns its Process. It must be called from a task of the
// loop (c is the task's own Ctx). The errors: those of the program's start,
// matching ErrStart (a program not found: also exec.ErrNotFound or
// fs.ErrNotExist; the system's errno in a *fs.PathError); ErrBadRedirect;
// the misuse errors of aio (ErrNotInTask, ErrNotOnLoop).
func (cmd *Cmd) Start(c *aio.Ctx) (*Process, error) {
	var q aio.WaitQueue
	if err := q.CheckTask(c); err != nil {
		return nil, err
	}
	l := c.Loop()
	if cmd.lookErr != nil {
		return nil, startErr(cmd.Path, cmd.lookErr)
	}
	if cmd.Path == "" {
		return nil, startErr("(empty path)", &fs.PathError{Op: "fork/exec", Path: "", Err: syscall.ENOENT})
	}
	args := cmd.Args
	if len(args) == 0 {
		args = []string{cmd.Path}
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cf, err := cmd.open()
	if err != nil {
		return nil, err
	}
	if err := cmd.extra(cf); err != nil {
		cf.closeAll()
		return nil, err
	}
	var sys syscall.SysProcAttr
	if cmd.SysProcAttr != nil {
		sys = *cmd.SysProcAttr
	}
	usePidfd := pidfdSupported()
	pidfd := -1
	if usePidfd {
		sys.PidFD = &pidfd
	} else {
		sys.PidFD = nil
	}
	attr := &syscall.ProcAttr{Dir: cmd.Dir, Env: env, Files: cf.child, Sys: &sys}
	pid, err := syscall.ForkExec(cmd.Path, args, attr)
	if err != nil && usePidfd && (errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EINVAL)) {
		// A kernel without clone(CLONE_PIDFD): the fallback.
		sys.PidFD = nil
		pidfd = -1
		pid, err = syscall.ForkExec(cmd.Path, args, attr)
	}
	cf.closeChildEnds()
	if err != nil {
		cf.closeAll()
		return nil, startErr(cmd.Path, &fs.PathError{Op: "fork/exec", Path: cmd.Path, Err: err})
	}
	p := newProcess(l, pid, pidfd, cmd.String())
	if cf.parent[0] >= 0 {
		p.Stdin = &Writer{fd: cf.parent[0], name: "stdin", proc: p}
	}
	if cf.parent[1] >= 0 {
		p.Stdout = &Reader{fd: cf.parent[1], name: "stdout", proc: p}
	}
	if cf.parent[2] >= 0 {
		p.Stderr = &Reader{fd: cf.parent[2], name: "stderr", proc: p}
	}
	p.watch()
	return p, nil
}
