// Package inspect serves what aio knows about a running loop to the tools
// a Go program already has: the task dump over HTTP (Handler, to mount
// beside net/http/pprof) and the loop's metrics through expvar
// (PublishMetrics, at /debug/vars).
//
// They live outside package aio so that a program that does not use them
// does not link net/http and expvar (whose init registers /debug/vars on
// http.DefaultServeMux): the core stays small. Both are built on aio's
// public API alone: Loop.DumpWait and Loop.Metrics, which any goroutine may
// call.
package inspect
