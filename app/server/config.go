package server

import (
	"fmt"
	"net/netip"
	"time"

	"pcx/domain"
)

// HardMaxRecord is the longest record frame the server skips over
// (domain.HardMaxRecord).
const HardMaxRecord = domain.HardMaxRecord

// Config holds the server's limits. The zero value of a field means its
// default; Defaults fills them in.
type Config struct {
	// MaxRecord is the longest record accepted; longer ones, up to
	// HardMaxRecord, are skipped with an error notice.
	MaxRecord int
	// MaxAttachment is the largest attachment payload relayed.
	MaxAttachment int64
	// MaxQueue bounds the bytes one receiver is behind: the broadcast
	// records and in-memory payloads it has not yet been sent, and its
	// private frames, each counted with a fixed overhead per frame. A
	// receiver over it is disconnected.
	MaxQueue int64
	// MaxMemory bounds what the shared broadcast log holds for every
	// receiver still reading; past it the receivers furthest behind are
	// disconnected until it is under.
	MaxMemory int64
	// MaxBacklog bounds the bytes of attachments waiting on disk for one
	// receiver; a receiver over it is disconnected.
	MaxBacklog int64
	// MaxConns bounds the connections open at once; MaxConnsPerIP those
	// from one address not in ConnLimitExempt. A connection over either
	// is told so and closed.
	MaxConns      int
	MaxConnsPerIP int
	// ConnLimitExempt lists the addresses MaxConnsPerIP does not apply
	// to (a local proxy). Nil means the default, loopback; an empty
	// non-nil list exempts nobody.
	ConnLimitExempt []netip.Prefix
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
	if c.MaxMemory == 0 {
		c.MaxMemory = 512 << 20
	}
	if c.MaxBacklog == 0 {
		c.MaxBacklog = 2 << 30
	}
	if c.MaxConns == 0 {
		c.MaxConns = 20000
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = 64
	}
	if c.ConnLimitExempt == nil {
		c.ConnLimitExempt = DefaultConnLimitExempt()
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
	case c.MaxAttachment < 0 || c.MaxAttachment > domain.MaxFrame:
		return fmt.Errorf("server: max attachment %d is outside 0..%d bytes", c.MaxAttachment, int64(domain.MaxFrame))
	case c.MaxQueue < int64(c.MaxRecord):
		return fmt.Errorf("server: max queue %d is smaller than max record %d", c.MaxQueue, c.MaxRecord)
	case c.MaxBacklog < 0:
		return fmt.Errorf("server: max backlog %d is negative", c.MaxBacklog)
	case c.MaxConns < 1 || c.MaxConnsPerIP < 1:
		return fmt.Errorf("server: connection limits must be at least 1")
	case c.LoginTimeout < 0 || c.ShutdownGrace < 0:
		return fmt.Errorf("server: timeouts must not be negative")
	case c.RateLimit > 0 && c.RateBurst < 1:
		return fmt.Errorf("server: rate burst %d must be at least 1", c.RateBurst)
	}
	return nil
}

// DefaultConnLimitExempt is the addresses exempt from the per-address
// connection limit by default: loopback, where a local proxy connects from.
func DefaultConnLimitExempt() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}
