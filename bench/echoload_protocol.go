//go:build unix

package main

// The "aio protocol" server of the echo benchmark: package aio/transport,
// a protocol that writes back what it receives, on one loop.

import (
	"net"

	"github.com/aiogo/aio/aio"
	"github.com/aiogo/aio/aio/transport"
)

func init() {
	echoServers = append(echoServers, echoServer{name: "aio protocol", key: "proto", vs: []string{"go net"}, serve: serveProtocol})
}

// echoProtocol writes back every byte it receives: the write is direct
// (one write(2), no copy) when nothing is queued.
type echoProtocol struct {
	transport.BaseProtocol
	t *transport.Transport
}

func (p *echoProtocol) ConnectionMade(t *transport.Transport) { p.t = t }
func (p *echoProtocol) DataReceived(b []byte)                 { p.t.Write(b) }

func serveProtocol(ready func(net.Addr)) error {
	_, err := aio.Run(func(c *aio.Ctx) (struct{}, error) {
		srv, err := transport.Serve(c, "tcp", "127.0.0.1:0", func() *echoProtocol { return &echoProtocol{} })
		if err != nil {
			return struct{}{}, err
		}
		ready(srv.Addr())
		return struct{}{}, srv.Wait(c)
	}, aio.WithoutInterrupt())
	return err
}
