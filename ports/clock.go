package ports

import "time"

//go:generate go tool mockgen -typed -destination=mocks/clock.go -package=mocks pcx/ports Clock

// Clock tells the time; tests replace it to get fixed time stamps.
type Clock interface {
	Now() time.Time
}
