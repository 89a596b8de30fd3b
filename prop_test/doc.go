// Package prop_test holds the property-based tests of aio, written with
// pgregory.net/rapid: each test draws random programs of callbacks, timers,
// cancellations and submissions from other goroutines, runs them on a real
// loop through the public API, and checks the outcome against a simple
// model of the loop's guarantees. Test names start with TestProp, so
// `go test -run Prop ./...` runs them all. The package has no code of its
// own; this file only documents it.
package prop_test
