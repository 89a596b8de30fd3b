//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package poll

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
	"pgregory.net/rapid"
)

// propChannel is one byte stream in the model: a pipe, or one direction
// of a socket pair.
type propChannel struct {
	name     string
	reader   int // fd that reads the stream
	writer   int // fd that writes it
	buffered int // bytes written and not yet read
	writes   int // writes since the channel was last empty
}

// maxWrites bounds the writes buffered in one channel, so that every
// writer end stays writable in the model without modelling kernel buffer
// accounting (each small write costs a pipe page or a socket buffer of
// about 1 KiB, and a Unix socket stops being writable at a quarter of its
// send buffer).
const maxWrites = 12

// TestPropPollLevelTriggered runs random sequences of Add, Modify, Remove,
// Wake, writes and reads on two pipes and a socket pair, and after every
// step checks Wait(0) against a model: an fd is reported iff it is
// registered and ready for a direction in its interest, with exactly those
// directions, and registration errors match the model's table.
func TestPropPollLevelTriggered(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := newPoller(t)
		fds := newFDSet(t)
		r0, w0 := fds.pipe()
		r1, w1 := fds.pipe()
		a, b := fds.socketpair()
		chans := []*propChannel{
			{name: "pipe0", reader: r0, writer: w0},
			{name: "pipe1", reader: r1, writer: w1},
			{name: "a->b", reader: b, writer: a},
			{name: "b->a", reader: a, writer: b},
		}
		all := []int{r0, w0, r1, w1, a, b}
		writable := map[int]bool{w0: true, w1: true, a: true, b: true}
		interest := map[int]Events{} // the model's registrations

		readyFor := func(fd int) Events {
			var ev Events
			for _, c := range chans {
				if c.reader == fd && c.buffered > 0 {
					ev |= Read
				}
			}
			if writable[fd] {
				ev |= Write
			}
			return ev
		}
		// Interest sets to draw per fd: pipe ends only get their own
		// direction, because kqueue may refuse the other one (EINVAL, or
		// EPIPE for EVFILT_WRITE on a read end); the socket pair covers
		// every combination.
		any := []Events{0, Read, Write, Read | Write}
		interests := map[int][]Events{
			r0: {0, Read}, r1: {0, Read},
			w0: {0, Write}, w1: {0, Write},
			a: any, b: any,
		}
		genFD := rapid.SampledFrom(all)
		genEvents := func(t *rapid.T, fd int) Events {
			return rapid.SampledFrom(interests[fd]).Draw(t, "ev")
		}
		genChan := rapid.SampledFrom(chans)
		checkErr := func(op string, err, want error) {
			if want == nil && err != nil || want != nil && !errors.Is(err, want) {
				t.Fatalf("%s: err = %v, want %v", op, err, want)
			}
		}

		t.Repeat(map[string]func(*rapid.T){
			"Add": func(t *rapid.T) {
				fd := genFD.Draw(t, "fd")
				ev := genEvents(t, fd)
				var want error
				if _, ok := interest[fd]; ok {
					want = unix.EEXIST
				} else {
					interest[fd] = ev
				}
				checkErr(fmt.Sprintf("Add(%d, %v)", fd, ev), p.Add(fd, ev), want)
			},
			"Modify": func(t *rapid.T) {
				fd := genFD.Draw(t, "fd")
				ev := genEvents(t, fd)
				var want error
				if _, ok := interest[fd]; ok {
					interest[fd] = ev
				} else {
					want = unix.ENOENT
				}
				checkErr(fmt.Sprintf("Modify(%d, %v)", fd, ev), p.Modify(fd, ev), want)
			},
			"Remove": func(t *rapid.T) {
				fd := genFD.Draw(t, "fd")
				var want error
				if _, ok := interest[fd]; ok {
					delete(interest, fd)
				} else {
					want = unix.ENOENT
				}
				checkErr(fmt.Sprintf("Remove(%d)", fd), p.Remove(fd), want)
			},
			"write": func(t *rapid.T) {
				c := genChan.Draw(t, "chan")
				if c.writes >= maxWrites {
					t.Skip("channel full in the model")
				}
				n := rapid.IntRange(1, 300).Draw(t, "n")
				write(t, c.writer, n)
				c.buffered += n
				c.writes++
			},
			"read": func(t *rapid.T) {
				c := genChan.Draw(t, "chan")
				n := rapid.IntRange(1, 1000).Draw(t, "n")
				got := read(t, c.reader, n)
				if want := min(n, c.buffered); got != want {
					t.Fatalf("read(%s, %d) = %d bytes, want %d", c.name, n, got, want)
				}
				c.buffered -= got
				if c.buffered == 0 {
					c.writes = 0
				}
			},
			"Wake": func(t *rapid.T) {
				if err := p.Wake(); err != nil {
					t.Fatal(err)
				}
			},
			"": func(t *rapid.T) {
				want := ready{}
				for _, fd := range slices.Sorted(maps.Keys(interest)) {
					if ev := interest[fd] & readyFor(fd); ev != 0 {
						want[int32(fd)] = ev
					}
				}
				// Twice: level-triggered, and a pending wake-up is
				// consumed by the first without being reported.
				for range 2 {
					if got := waitReady(t, p, 0); !maps.Equal(got, want) {
						t.Fatalf("Wait(0) = %v, want %v (interest %v)", got, want, interest)
					}
				}
			},
		})
	})
}
