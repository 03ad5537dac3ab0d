//go:build !race

package testbin

// Race: see race.go.
const Race = false
