//go:build unix && !(linux || darwin || openbsd)

package transport

import "golang.org/x/sys/unix"

// writev writes the first non-empty slice of bufs (golang.org/x/sys/unix
// has no writev here): the transport queues the rest.
func writev(fd int, bufs [][]byte) (int, error) {
	for _, b := range bufs {
		if len(b) > 0 {
			return unix.Write(fd, b)
		}
	}
	return 0, nil
}
