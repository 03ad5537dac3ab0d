//go:build race

package conformance_test

// raceEnabled builds the server under test with the race detector too, so
// that a data race in the server fails the test that provoked it.
const raceEnabled = true
