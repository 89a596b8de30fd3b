//go:build linux

package stream_test

import (
	"io"
	"net"
	"testing"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/stream"
)

// benchEcho measures round trips of size bytes through a stream echo
// server and a stream client on one loop over TCP loopback.
func benchEcho(b *testing.B, size int) {
	msg := make([]byte, size)
	b.SetBytes(int64(size))
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		srv, err := stream.Serve(c, "tcp", "127.0.0.1:0", func(c *aio.Ctx, s *stream.Stream) error {
			for {
				m, err := s.Read(c, 64<<10)
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				if err := s.Write(c, m); err != nil {
					return err
				}
				if err := s.Drain(c); err != nil {
					return err
				}
			}
		})
		if err != nil {
			return struct{}{}, err
		}
		s, err := stream.Open(c, "tcp", srv.Addr().String())
		if err != nil {
			return struct{}{}, err
		}
		b.ResetTimer()
		for range b.N {
			s.Write(c, msg)
			if err := s.Drain(c); err != nil {
				return struct{}{}, err
			}
			if _, err := s.ReadExactly(c, size); err != nil {
				return struct{}{}, err
			}
		}
		b.StopTimer()
		s.Close()
		srv.Close()
		return struct{}{}, srv.Wait(c)
	})
	if err != nil {
		b.Fatal(err)
	}
}

// benchGoEcho is the same round trip with Go's net on both sides.
func benchGoEcho(b *testing.B, size int) {
	addr, stop := peer(b, echo)
	defer stop()
	cn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer cn.Close()
	msg, buf := make([]byte, size), make([]byte, size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for range b.N {
		cn.Write(msg)
		if _, err := io.ReadFull(cn, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEcho64(b *testing.B)       { benchEcho(b, 64) }
func BenchmarkEcho16K(b *testing.B)      { benchEcho(b, 16<<10) }
func BenchmarkGoNetEcho64(b *testing.B)  { benchGoEcho(b, 64) }
func BenchmarkGoNetEcho16K(b *testing.B) { benchGoEcho(b, 16<<10) }
