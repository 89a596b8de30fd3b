//go:build linux

package transport_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/transport"
)

// A read pipe's transport delivers what a goroutine writes into the pipe,
// then EOFReceived and ConnectionLost(nil) when the writer closes it (a
// Write after that returns an error matching net.ErrClosed; before it,
// ErrNotSupported, see TestReadPipeWrite). A write pipe's transport writes
// into the pipe for a goroutine to read, and WriteEOF closes it (the
// reader sees EOF). The caller's *os.File stays open and is the caller's.
func TestPipes(t *testing.T) {
	checkFDs(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	run(t, func(c *aio.Ctx) error {
		rt, err := transport.NewPipe(c.Loop(), r, &recorder{})
		if err != nil {
			return err
		}
		rec := rt.Protocol().(*recorder)
		write := goDo(func() error {
			w.Write([]byte("through "))
			w.Write([]byte("the pipe"))
			return w.Close()
		})
		if err := awaitGo(c, write); err != nil {
			return err
		}
		if err := rt.WaitClosed(c); err != nil {
			t.Errorf("read pipe lost with %v", err)
		}
		if string(rec.data) != "through the pipe" || fmt.Sprint(rec.events) != "[made data eof lost]" {
			t.Errorf("data %q, events %v", rec.data, rec.events)
		}
		if err := rt.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write on a read pipe = %v", err)
		}
		if rt.CanWriteEOF() {
			t.Error("CanWriteEOF on a read pipe")
		}

		r2, w2, err := os.Pipe()
		if err != nil {
			return err
		}
		defer r2.Close()
		defer w2.Close()
		wt, err := transport.NewPipe(c.Loop(), w2, &recorder{})
		if err != nil {
			return err
		}
		var got []byte
		read := goDo(func() error {
			var err error
			got, err = io.ReadAll(r2)
			return err
		})
		wt.Write([]byte("out "))
		wt.Write(make([]byte, 1<<20)) // beyond the pipe's buffer: queued
		w2.Close()                    // ours; the transport has its own descriptor
		if !wt.CanWriteEOF() {
			t.Error("no CanWriteEOF on a write pipe")
		}
		wt.WriteEOF()
		if err := wt.WaitClosed(c); err != nil {
			t.Errorf("write pipe lost with %v", err)
		}
		if err := awaitGo(c, read); err != nil {
			return err
		}
		if len(got) != 4+1<<20 || string(got[:4]) != "out " {
			t.Errorf("the reader got %d bytes, want %d", len(got), 4+1<<20)
		}
		return nil
	})
}

// A write pipe whose reader goes away while bytes are queued is lost with
// an error matching EPIPE.
func TestWritePipeReaderGone(t *testing.T) {
	checkFDs(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	run(t, func(c *aio.Ctx) error {
		wt, err := transport.NewPipe(c.Loop(), w, &recorder{})
		if err != nil {
			return err
		}
		wt.Write(make([]byte, 1<<20))
		r.Close()
		err = wt.WaitClosed(c)
		if !errors.Is(err, syscall.EPIPE) {
			t.Errorf("lost with %v, want EPIPE", err)
		}
		return nil
	})
}

// NewPipe refuses a regular file, with an error naming it.
func TestNewPipeRegularFile(t *testing.T) {
	checkFDs(t)
	f, err := os.CreateTemp(t.TempDir(), "f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run(t, func(c *aio.Ctx) error {
		if _, err := transport.NewPipe(c.Loop(), f, &recorder{}); err == nil {
			t.Error("NewPipe on a regular file succeeded")
		}
		return nil
	})
}

// Write on a read pipe that is still open returns ErrNotSupported.
func TestReadPipeWrite(t *testing.T) {
	checkFDs(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	run(t, func(c *aio.Ctx) error {
		rt, err := transport.NewPipe(c.Loop(), r, &recorder{})
		if err != nil {
			return err
		}
		if err := rt.Write([]byte("x")); !errors.Is(err, transport.ErrNotSupported) {
			t.Errorf("Write on a read pipe = %v, want ErrNotSupported", err)
		}
		if err := rt.WriteEOF(); !errors.Is(err, transport.ErrNotSupported) {
			t.Errorf("WriteEOF on a read pipe = %v, want ErrNotSupported", err)
		}
		rt.Close()
		return rt.WaitClosed(c)
	})
}
