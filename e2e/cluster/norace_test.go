//go:build !race

package cluster_test

// raceEnabled: see race_test.go.
const raceEnabled = false
