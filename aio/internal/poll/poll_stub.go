//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package poll

// The stub for systems without epoll or kqueue (Windows, Solaris/illumos
// event ports, AIX pollset, Plan 9, wasm): the package builds, and New
// reports that it is unsupported.

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// ctlOp names the syscall in errors from Add, Modify and Remove.
const ctlOp = "poll"

// errUnsupported is what New returns here.
var errUnsupported = fmt.Errorf("poll: no readiness poller for %s: %w", runtime.GOOS, errors.ErrUnsupported)

type pollerSys struct{}

func (s *pollerSys) init() error                                       { return errUnsupported }
func (s *pollerSys) checkFD(int, Events) error                         { return errUnsupported }
func (s *pollerSys) ctl(int32, uint32, Events, Events) (Events, error) { return 0, errUnsupported }
func (s *pollerSys) wakeup() error                                     { return errUnsupported }
func (s *pollerSys) ownFDs() []int                                     { return nil }
func (s *pollerSys) close() error                                      { return nil }

func (p *Poller) wait([]Event, time.Duration) (int, error) { return 0, errUnsupported }
