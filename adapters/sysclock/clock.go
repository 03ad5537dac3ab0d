// Package sysclock is the clock port backed by the system's wall clock.
package sysclock

import (
	"time"

	"pcx/ports"
)

var _ ports.Clock = Clock{}

// Clock tells the system time.
type Clock struct{}

// New returns the system clock.
func New() Clock { return Clock{} }

// Now returns the current time.
func (Clock) Now() time.Time { return time.Now() }
