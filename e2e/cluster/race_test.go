//go:build race

package cluster_test

// raceEnabled builds the servers under test with the race detector too.
const raceEnabled = true
