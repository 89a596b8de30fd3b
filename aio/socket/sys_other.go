//go:build unix && !linux

package socket

import (
	"os"
	"syscall"

	"github.com/aiogo/aio/aio"
	"golang.org/x/sys/unix"
)

// sysSocket makes the socket under syscall.ForkLock, so that no fork sees
// it before it is close-on-exec.
func sysSocket(family, stype int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, stype, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func sysAccept(fd int) (int, error) {
	syscall.ForkLock.RLock()
	nfd, _, err := unix.Accept(fd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := unix.SetNonblock(nfd, true); err != nil {
		unix.Close(nfd)
		return -1, err
	}
	return nfd, nil
}

// sendfile is not used outside Linux: SendFile copies.
func (s *Socket) sendfile(c *aio.Ctx, f *os.File, offset, count int64) (int64, bool, error) {
	return 0, false, nil
}
