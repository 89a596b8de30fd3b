package main

import (
	"bytes"

	"github.com/aiogo/aio/aio/transport"
)

// lineEcho is the protocol form of the same server (package
// aio/transport): no task per connection; the loop calls its methods as
// bytes arrive. It echoes whole lines, keeping a partial line until its
// end comes, and honours flow control: when its transport's write buffer
// passes the high-water mark (a client that reads slowly), it stops
// reading until the buffer has drained.
type lineEcho struct {
	transport.BaseProtocol
	t       *transport.Transport
	partial []byte // the start of a line whose end has not come yet
}

func (p *lineEcho) ConnectionMade(t *transport.Transport) { p.t = t }

// DataReceived gets whatever the socket had: part of a line, several
// lines. data is valid only during the call: what is kept is copied.
func (p *lineEcho) DataReceived(data []byte) {
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		p.partial = append(p.partial, data...)
		return
	}
	if len(p.partial) > 0 {
		p.t.Write(p.partial) // the rest of the line comes next
		p.partial = p.partial[:0]
	}
	p.t.Write(data[:end+1])
	p.partial = append(p.partial, data[end+1:]...)
}

// EOFReceived: the client is done; false closes the connection once what
// is queued has been sent.
func (p *lineEcho) EOFReceived() bool { return false }

func (p *lineEcho) PauseWriting()  { p.t.PauseReading() }
func (p *lineEcho) ResumeWriting() { p.t.ResumeReading() }
