//go:build linux

package socket

import (
	"os"
	"runtime"

	"github.com/aiogo/aio/aio"
	"golang.org/x/sys/unix"
)

func sysSocket(family, stype int) (int, error) {
	return unix.Socket(family, stype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

func sysAccept(fd int) (int, error) {
	nfd, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	return nfd, err
}

// sendfile sends with sendfile(2). handled is false if the kernel refuses
// the file before anything was sent (the caller copies instead).
func (s *Socket) sendfile(c *aio.Ctx, f *os.File, offset, count int64) (sent int64, handled bool, err error) {
	defer runtime.KeepAlive(f)
	in := int(f.Fd())
	off := offset
	for sent < count {
		n, err := unix.Sendfile(s.fd, in, &off, int(min(count-sent, 1<<30)))
		if n > 0 {
			sent += int64(n)
		}
		switch err {
		case nil:
			if n == 0 {
				return sent, true, nil // the file ended early
			}
		case unix.EINTR:
		case unix.EAGAIN:
			if err := s.wait(c, dirWrite, "sendfile"); err != nil {
				return sent, true, err
			}
		case unix.EINVAL, unix.ENOSYS, unix.EOPNOTSUPP:
			if sent == 0 {
				return 0, false, nil
			}
			return sent, true, opError("sendfile", err)
		default:
			return sent, true, opError("sendfile", err)
		}
	}
	return sent, true, nil
}
