//go:build linux

package transport_test

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/transport"
)

// udpEcho sends every datagram back to its sender.
type udpEcho struct {
	transport.BaseDatagramProtocol
	t *transport.DatagramTransport
}

func (u *udpEcho) ConnectionMade(t *transport.DatagramTransport) { u.t = t }
func (u *udpEcho) DatagramReceived(b []byte, addr net.Addr)      { u.t.SendTo(b, addr) }

// udpRecorder records datagrams and errors.
type udpRecorder struct {
	transport.BaseDatagramProtocol
	got    []string
	errs   []error
	lost   error
	notify chan struct{}
}

func (u *udpRecorder) DatagramReceived(b []byte, addr net.Addr) {
	u.got = append(u.got, string(b))
	u.poke()
}
func (u *udpRecorder) ErrorReceived(err error) {
	u.errs = append(u.errs, err)
	u.poke()
}
func (u *udpRecorder) ConnectionLost(err error) { u.lost = err }
func (u *udpRecorder) poke() {
	select {
	case u.notify <- struct{}{}:
	default:
	}
}

// A datagram endpoint bound with ListenDatagram receives each datagram
// with its sender's address and answers it with SendTo: a Go UDP client
// gets every datagram back, whole.
func TestDatagramEcho(t *testing.T) {
	checkFDs(t)
	run(t, func(c *aio.Ctx) error {
		tr, _, err := transport.ListenDatagram(c, "udp", "127.0.0.1:0", func() *udpEcho { return &udpEcho{} })
		if err != nil {
			return err
		}
		addr := tr.LocalAddr().String()
		err = awaitGo(c, goDo(func() error {
			cn, err := net.Dial("udp", addr)
			if err != nil {
				return err
			}
			defer cn.Close()
			buf := make([]byte, 65536)
			for i := range 50 {
				msg := fmt.Sprintf("datagram %d %s", i, make([]byte, i*100))
				cn.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := cn.Write([]byte(msg)); err != nil {
					return err
				}
				n, err := cn.Read(buf)
				if err != nil {
					return err
				}
				if string(buf[:n]) != msg {
					return fmt.Errorf("datagram %d came back as %d bytes", i, n)
				}
			}
			return nil
		}))
		if err != nil {
			t.Error(err)
		}
		tr.Close()
		return tr.WaitClosed(c)
	})
}

// DialDatagram connects to a peer: Write sends to it, its answers arrive;
// SendTo with an address, and a nil address on an endpoint that is not
// connected, are refused; after Close, SendTo returns net.ErrClosed.
func TestDialDatagram(t *testing.T) {
	checkFDs(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	peerDone := goDo(func() error {
		buf := make([]byte, 100)
		pc.SetDeadline(time.Now().Add(testTimeout))
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		_, err = pc.WriteTo(append([]byte("re: "), buf[:n]...), from)
		return err
	})
	run(t, func(c *aio.Ctx) error {
		tr, rec, err := transport.DialDatagram(c, "udp", pc.LocalAddr().String(), func() *udpRecorder {
			return &udpRecorder{notify: make(chan struct{}, 1)}
		})
		if err != nil {
			return err
		}
		if tr.RemoteAddr().String() != pc.LocalAddr().String() {
			t.Errorf("RemoteAddr %v", tr.RemoteAddr())
		}
		if err := tr.SendTo([]byte("x"), pc.LocalAddr()); err == nil {
			t.Error("SendTo with an address on a connected endpoint succeeded")
		}
		if err := tr.Write([]byte("hello")); err != nil {
			return err
		}
		if err := awaitGo(c, peerDone); err != nil {
			return err
		}
		for len(rec.got) == 0 {
			if _, _, err := aio.GoRecv(c, (<-chan struct{})(rec.notify)); err != nil {
				return err
			}
		}
		if rec.got[0] != "re: hello" {
			t.Errorf("received %q", rec.got)
		}
		tr.Close()
		if err := tr.SendTo([]byte("x"), nil); !errors.Is(err, net.ErrClosed) {
			t.Errorf("SendTo after Close = %v", err)
		}
		tr.WaitClosed(c)

		un, _, err := transport.ListenDatagram(c, "udp", "127.0.0.1:0", func() *udpRecorder { return &udpRecorder{} })
		if err != nil {
			return err
		}
		if err := un.SendTo([]byte("x"), nil); err == nil {
			t.Error("SendTo without an address on an unconnected endpoint succeeded")
		}
		un.Abort()
		return un.WaitClosed(c)
	})
}

// A connected endpoint whose peer's port is closed gets the ICMP error as
// ErrorReceived(ECONNREFUSED), and stays open.
func TestDatagramRefused(t *testing.T) {
	checkFDs(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nobody listens there now
	run(t, func(c *aio.Ctx) error {
		tr, rec, err := transport.DialDatagram(c, "udp", addr, func() *udpRecorder {
			return &udpRecorder{notify: make(chan struct{}, 1)}
		})
		if err != nil {
			return err
		}
		for i := 0; i < 100 && len(rec.errs) == 0; i++ {
			if err := tr.Write([]byte("anyone?")); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("Write = %v", err)
			}
			aio.Sleep(c, time.Millisecond)
		}
		if len(rec.errs) == 0 || !errors.Is(rec.errs[0], syscall.ECONNREFUSED) {
			t.Errorf("errors received %v, want ECONNREFUSED", rec.errs)
		}
		if tr.IsClosing() {
			t.Error("closed by an ICMP error")
		}
		tr.Close()
		return tr.WaitClosed(c)
	})
}
