//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package poll

import (
	"errors"
	"os"
	"testing"
)

func TestNewUnsupported(t *testing.T) {
	p, err := New()
	if p != nil || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("New() = %v, %v; want nil, errors.ErrUnsupported", p, err)
	}
	var zero Poller
	if err := zero.Wake(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Wake on zero Poller: %v", err)
	}
}
