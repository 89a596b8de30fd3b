package aio

// The loop must know, cheaply and always, whether the caller runs on the loop:
// on the loop goroutine itself or inside the task coroutine that the loop is
// resuming (a coroutine made by iter.Pull is a goroutine of its own that runs
// on the loop's thread). Comparing goroutine identities does that.
//
// curg returns an identifier of the calling goroutine that is unique among
// live goroutines: the address of the runtime's g structure. On amd64 and
// arm64 it is read straight from the register or TLS slot that holds it
// (goid_amd64.s, goid_arm64.s), about 2 ns. Elsewhere it falls back to parsing
// the goroutine id out of runtime.Stack (goid_generic.go), which is correct but
// costs a microsecond or so. A g is reused after its goroutine exits, so an
// identifier is compared only with identifiers of goroutines known to be alive
// (the running loop, the running task).
