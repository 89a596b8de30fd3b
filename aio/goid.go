package aio

import (
	"runtime"
	"strconv"
)

// The loop must know, cheaply and always, whether the caller runs on the loop:
// on the loop goroutine itself or inside the task coroutine that the loop is
// resuming (a coroutine made by iter.Pull is a goroutine of its own that runs
// on the loop's thread). Comparing goroutine identities does that.
//
// curg returns an identifier of the calling goroutine that is unique among
// live goroutines: the address of the runtime's g structure. On amd64 and
// arm64 it is read straight from the register or TLS slot that holds it
// (goid_amd64.s, goid_arm64.s), about 2 ns. Elsewhere it falls back to parsing
// the goroutine id out of runtime.Stack (goid_generic.go, goid below), which
// is correct but costs a microsecond or so. A g is reused after its goroutine exits, so an
// identifier is compared only with identifiers of goroutines known to be alive
// (the running loop, the running task).

// goid returns the calling goroutine's id, parsed from the header line of
// runtime.Stack ("goroutine 18 [running]:"). Unlike a g's address, an id is
// never reused, so it can key state that may outlive its goroutine; it costs
// about a microsecond, so it is used only when a run starts or ends.
func goid() uint64 {
	var buf [64]byte
	s := buf[:runtime.Stack(buf[:], false)]
	s = s[len("goroutine "):]
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	id, _ := strconv.ParseUint(string(s[:i]), 10, 64)
	return id
}
