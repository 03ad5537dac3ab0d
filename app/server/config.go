package server

import (
	"fmt"
	"time"
)

// HardMaxRecord is the longest record frame the server skips over: a longer
// one cannot be a record any peer means, so the connection ends
// (PROTOCOL.md section 5).
const HardMaxRecord = 1 << 20

// Config holds the server's limits. The zero value of a field means its
// default; Defaults fills them in.
type Config struct {
	// MaxRecord is the longest record accepted; longer ones, up to
	// HardMaxRecord, are skipped with an error notice.
	MaxRecord int
	// MaxAttachment is the largest attachment payload relayed.
	MaxAttachment int64
	// MaxQueue bounds the bytes of records and in-memory payloads waiting
	// for one receiver; a receiver over it is disconnected.
	MaxQueue int64
	// LoginTimeout bounds the time from connect to a successful login.
	LoginTimeout time.Duration
	// ShutdownGrace bounds how long a shutdown waits for queues to flush.
	ShutdownGrace time.Duration
	// RateLimit is the records per second read from one connection, login
	// attempts and refused records included; past it the connection is
	// read more slowly (PROTOCOL.md section 5). Negative means no limit.
	RateLimit float64
	// RateBurst is the records a connection may send at once, above
	// RateLimit, before it is slowed.
	RateBurst int
}

// Defaults returns c with every unset field at its default.
func (c Config) Defaults() Config {
	if c.MaxRecord == 0 {
		c.MaxRecord = 64 << 10
	}
	if c.MaxAttachment == 0 {
		c.MaxAttachment = 1 << 30
	}
	if c.MaxQueue == 0 {
		c.MaxQueue = 8 << 20
	}
	if c.LoginTimeout == 0 {
		c.LoginTimeout = 30 * time.Second
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = 5 * time.Second
	}
	if c.RateLimit == 0 {
		c.RateLimit = 50
	}
	if c.RateBurst == 0 {
		c.RateBurst = 200
	}
	return c
}

// Validate reports a limit that cannot work.
func (c Config) Validate() error {
	switch {
	case c.MaxRecord < 16 || c.MaxRecord > HardMaxRecord:
		return fmt.Errorf("server: max record %d is outside 16..%d bytes", c.MaxRecord, HardMaxRecord)
	case c.MaxAttachment < 0 || c.MaxAttachment > 1<<32-1:
		return fmt.Errorf("server: max attachment %d is outside 0..%d bytes", c.MaxAttachment, int64(1<<32-1))
	case c.MaxQueue < int64(c.MaxRecord):
		return fmt.Errorf("server: max queue %d is smaller than max record %d", c.MaxQueue, c.MaxRecord)
	case c.LoginTimeout < 0 || c.ShutdownGrace < 0:
		return fmt.Errorf("server: timeouts must not be negative")
	case c.RateLimit > 0 && c.RateBurst < 1:
		return fmt.Errorf("server: rate burst %d must be at least 1", c.RateBurst)
	}
	return nil
}
