//go:build unix

package socket

// SetForceCopy makes SendFile use its copying fallback, and returns the
// function that restores it.
func SetForceCopy(on bool) func() {
	old := forceCopy
	forceCopy = on
	return func() { forceCopy = old }
}

// Interleave is interleave, for tests.
var Interleave = interleave
