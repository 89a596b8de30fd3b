//go:build !amd64 && !arm64

package aio

// curg returns the calling goroutine's id (see goid).
func curg() uintptr { return uintptr(goid()) }
