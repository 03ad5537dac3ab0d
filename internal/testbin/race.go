//go:build race

package testbin

// Race tells whether this test binary runs with the race detector, so that
// the binaries it starts can be built alike.
const Race = true
