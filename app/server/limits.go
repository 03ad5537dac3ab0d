package server

import (
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"pcx/domain"
)

// cutReason is why the server cut a connection off or refused it.
type cutReason uint8

const (
	cutSlowConsumer    cutReason = iota + 1 // behind by more than --max-queue
	cutBacklog                              // attachments waiting on disk past --max-backlog
	cutMaxMemory                            // furthest behind when the log passed --max-memory
	cutWriteTimeout                         // no write progress within --write-timeout
	refusedFromAddress                      // over --max-conns-per-ip
	refusedOnServer                         // over --max-conns
)

func (r cutReason) String() string {
	switch r {
	case cutSlowConsumer:
		return "slow consumer: over --max-queue bytes behind"
	case cutBacklog:
		return "slow consumer: attachments waiting on disk over --max-backlog"
	case cutMaxMemory:
		return "slow consumer: furthest behind when the server's queues passed --max-memory"
	case cutWriteTimeout:
		return "slow consumer: no write progress within the write timeout"
	case refusedFromAddress:
		return "too many connections from the peer's address"
	case refusedOnServer:
		return "too many connections on the server"
	}
	return "unknown"
}

// Counters counts connections cut off or refused, by reason, and accept
// failures, for the operator (a metrics endpoint may expose them). Every
// field only grows.
type Counters struct {
	SlowConsumer       atomic.Int64 // past --max-queue
	Backlog            atomic.Int64 // past --max-backlog
	MaxMemory          atomic.Int64 // cut to bring the server under --max-memory
	WriteTimeout       atomic.Int64 // no write progress within --write-timeout
	RefusedFromAddress atomic.Int64 // over --max-conns-per-ip
	RefusedOnServer    atomic.Int64 // over --max-conns
	AcceptFailed       atomic.Int64 // Accept returned an error (out of file descriptors...)
}

func (c *Counters) count(r cutReason) {
	switch r {
	case cutSlowConsumer:
		c.SlowConsumer.Add(1)
	case cutBacklog:
		c.Backlog.Add(1)
	case cutMaxMemory:
		c.MaxMemory.Add(1)
	case cutWriteTimeout:
		c.WriteTimeout.Add(1)
	case refusedFromAddress:
		c.RefusedFromAddress.Add(1)
	case refusedOnServer:
		c.RefusedOnServer.Add(1)
	}
}

// Counters returns the server's counters; they stay live.
func (srv *Server) Counters() *Counters { return &srv.counters }

// connLimits counts live connections, in total and per address. Server.mu
// guards it.
type connLimits struct {
	total  int
	perIP  map[netip.Addr]int
	exempt []netip.Prefix
}

// admit counts a new connection from addr, or says which limit it passes.
// Server.mu must be held.
func (l *connLimits) admit(addr netip.Addr, cfg *Config) cutReason {
	if l.total >= cfg.MaxConns {
		return refusedOnServer
	}
	limited := addr.IsValid() && !l.isExempt(addr)
	if limited && l.perIP[addr] >= cfg.MaxConnsPerIP {
		return refusedFromAddress
	}
	l.total++
	if limited {
		l.perIP[addr]++
	}
	return 0
}

// release uncounts a connection admit counted. Server.mu must be held.
func (l *connLimits) release(addr netip.Addr) {
	l.total--
	if n, ok := l.perIP[addr]; ok {
		if n <= 1 {
			delete(l.perIP, addr)
		} else {
			l.perIP[addr] = n - 1
		}
	}
}

func (l *connLimits) isExempt(addr netip.Addr) bool {
	for _, p := range l.exempt {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// peerAddr is the IP address in a transport's remote address, invalid
// when it names none (the in-memory transport names pipes).
func peerAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		a, err := netip.ParseAddr(remote)
		if err != nil {
			return netip.Addr{}
		}
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

// warnEvery logs a warning at most once per interval, with how many times
// it happened since the last one: under attack the operator should see
// that limits bite, not one line per connection.
type warnEvery struct {
	interval time.Duration
	mu       sync.Mutex // guards last and count
	last     time.Time
	count    int64
}

// note counts one occurrence and logs msg when the interval has passed.
func (w *warnEvery) note(log *slog.Logger, msg string, args ...any) {
	w.mu.Lock()
	w.count++
	now := time.Now()
	if now.Sub(w.last) < w.interval {
		w.mu.Unlock()
		return
	}
	n := w.count
	w.last, w.count = now, 0
	w.mu.Unlock()
	log.Warn(msg, append(args, "times", n)...)
}

// refuse tells a connection over a limit why, in a status reply, and
// closes it the way the server ends other sessions with an explanation.
func (s *session) refuse(reason cutReason) {
	go s.writeLoop()
	why := domain.ErrTooManyOnServer
	if reason == refusedFromAddress {
		why = domain.ErrTooManyFromAddress
	}
	s.enqueue(outFrame{record: s.srv.statusFrame(why)})
	s.end(false, &finishError{reason: reason.String()})
}
