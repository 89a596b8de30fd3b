package transport

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

// wbufModel drives a writeBuffer and a plain byte slice with the same
// operations and checks that they hold the same bytes.
type wbufModel struct {
	w     writeBuffer
	model []byte
	next  byte
}

func (m *wbufModel) append(n int) {
	b := make([]byte, n)
	for i := range b {
		b[i] = m.next
		m.next++
	}
	m.w.append(b)
	for i := range b {
		b[i] = 0 // the buffer keeps a copy, not b
	}
	for i := range n {
		m.model = append(m.model, byte(int(m.next)-n+i))
	}
}

func (m *wbufModel) consume(n int) {
	n = min(n, len(m.model))
	m.w.consume(n)
	m.model = m.model[n:]
}

func (m *wbufModel) check() error {
	if m.w.len() != len(m.model) || !bytes.Equal(m.w.bytes(), m.model) {
		return errMismatch
	}
	return nil
}

type mismatch struct{}

func (mismatch) Error() string { return "the write buffer and its model differ" }

var errMismatch = mismatch{}

// The write buffer holds exactly the bytes appended and not consumed, in
// order, whatever the interleaving of appends (of any size, some beyond
// the kept capacity) and partial consumes; a drained buffer is empty.
func TestPropWriteBuffer(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := &wbufModel{}
		t.Repeat(map[string]func(*rapid.T){
			"append": func(t *rapid.T) {
				m.append(rapid.IntRange(0, 3*keepCap).Draw(t, "n"))
			},
			"appendSmall": func(t *rapid.T) {
				m.append(rapid.IntRange(0, 100).Draw(t, "n"))
			},
			"consume": func(t *rapid.T) {
				m.consume(rapid.IntRange(0, len(m.model)).Draw(t, "n"))
			},
			"drain": func(t *rapid.T) {
				m.consume(len(m.model))
				if m.w.len() != 0 || m.w.off != 0 || cap(m.w.buf) > keepCap {
					t.Fatalf("drained: len %d, off %d, cap %d", m.w.len(), m.w.off, cap(m.w.buf))
				}
			},
			"": func(t *rapid.T) {
				if err := m.check(); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
}

// FuzzWriteBuffer reads a program of appends and consumes from its input
// (each byte pair: an operation and a size) and checks the buffer against
// the model after every step. Its seed corpus is in testdata/fuzz.
func FuzzWriteBuffer(f *testing.F) {
	f.Add([]byte{0, 10, 1, 5, 0, 200, 1, 255, 2, 0})
	f.Add([]byte{0, 255, 0, 255, 1, 1, 0, 255, 1, 254, 0, 3})
	f.Fuzz(func(t *testing.T, prog []byte) {
		m := &wbufModel{}
		for i := 0; i+1 < len(prog); i += 2 {
			op, n := prog[i]%3, int(prog[i+1])
			switch op {
			case 0:
				m.append(n * 300) // up to ~76 KiB: past keepCap
			case 1:
				m.consume(n * 300)
			case 2:
				m.consume(len(m.model))
			}
			if err := m.check(); err != nil {
				t.Fatalf("step %d: %v", i/2, err)
			}
		}
	})
}
