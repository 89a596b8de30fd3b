//go:build amd64 || arm64

package aio

// curgIsFast reports whether curg reads the g's address (no allocation)
// rather than parsing runtime.Stack.
const curgIsFast = true

// curg returns the address of the calling goroutine's runtime g.
func curg() uintptr
