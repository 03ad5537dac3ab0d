//go:build race

package framing_test

// raceEnabled: the race detector changes allocation counts (sync.Pool drops
// items at random under it).
const raceEnabled = true
