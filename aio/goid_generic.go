//go:build !amd64 && !arm64

package aio

// curgIsFast reports whether curg reads the g's address (no allocation)
// rather than parsing runtime.Stack.
const curgIsFast = false

// curg returns the calling goroutine's id (see goid).
func curg() uintptr { return uintptr(goid()) }
