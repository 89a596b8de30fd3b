//go:build amd64 || arm64

package aio

// curg returns the address of the calling goroutine's runtime g.
func curg() uintptr
