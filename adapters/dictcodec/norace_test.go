//go:build !race

package dictcodec_test

// raceEnabled tells memory tests that the race detector pads allocations,
// so byte counts mean nothing.
const raceEnabled = false
