package loops

// reusePortBalances: Linux spreads the connections of a port among the
// listeners bound to it with SO_REUSEPORT (by a hash of the peer's address
// and port), so a group can listen from every loop.
const reusePortBalances = true
