//go:build !amd64 && !arm64

package aio

import (
	"runtime"
	"strconv"
)

// curg returns the calling goroutine's id, parsed from the header line of
// runtime.Stack ("goroutine 18 [running]:").
func curg() uintptr {
	var buf [64]byte
	s := buf[:runtime.Stack(buf[:], false)]
	s = s[len("goroutine "):]
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	id, _ := strconv.ParseUint(string(s[:i]), 10, 64)
	return uintptr(id)
}
