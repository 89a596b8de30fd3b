//go:build !linux

package loops

// reusePortBalances: outside Linux, SO_REUSEPORT either does not spread
// connections among listeners (macOS, OpenBSD, NetBSD: one listener gets
// them) or does so only under another option (FreeBSD's SO_REUSEPORT_LB),
// so a group serves through one acceptor.
const reusePortBalances = false
