package framing

import (
	"net"
	"sync"
	"time"
)

// readDeadlines puts together the three bounds on reading, each set by
// one owner only: the reading goroutine's own deadline (user), the read
// timeout inside frames (the Conn, as frames begin), and the linger that
// CloseWrite starts (the writing goroutine). The socket's deadline is the
// earliest of those in force: while the Conn waits for the first byte of a
// frame the read timeout is not, once a frame has begun it is. No owner's
// call moves another's bound, so the reading goroutine clearing its own
// deadline after a login cannot lift a linger that the writer started.
type readDeadlines struct {
	timeout time.Duration // the read timeout inside a frame; set by NewConn, then fixed

	// mu guards the fields below and orders the deadline updates of the
	// reading goroutine with those of the writing one.
	mu      sync.Mutex
	user    time.Time // the reading goroutine's deadline; zero means none
	linger  time.Time // set once by CloseWrite; zero means none
	busy    bool      // a frame has begun: the read timeout is in force
	armedAt time.Time // when the read timeout was last started
}

// setUser sets the reading goroutine's deadline.
func (d *readDeadlines) setUser(nc net.Conn, t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.user = t
	return nc.SetReadDeadline(d.effective())
}

// setLinger bounds all reading from now on by t; a later call moves it.
func (d *readDeadlines) setLinger(nc net.Conn, t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.linger = t
	return nc.SetReadDeadline(d.effective())
}

// armIdle takes the read timeout out of force, for the wait for the next
// frame.
func (d *readDeadlines) armIdle(nc net.Conn) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.busy {
		return nil
	}
	d.busy = false
	return nc.SetReadDeadline(d.effective())
}

// armBusy starts the read timeout for the next read inside a frame.
// Moving a deadline costs a timer update, so one started less than an
// eighth of the timeout ago is left as it is: a stalled frame then fails
// after between 7/8 of the timeout and all of it.
func (d *readDeadlines) armBusy(nc net.Conn) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if d.busy && now.Sub(d.armedAt) < d.timeout/8 {
		return nil
	}
	d.busy, d.armedAt = true, now
	return nc.SetReadDeadline(d.effective())
}

// stalled reports whether a deadline that passed at now was the read
// timeout's rather than the reading goroutine's or the linger's.
func (d *readDeadlines) stalled(now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return before(now, d.user) && before(now, d.linger)
}

// before reports whether now comes before the deadline t; every time comes
// before no deadline (the zero time).
func before(now, t time.Time) bool { return t.IsZero() || now.Before(t) }

// effective is the deadline the connection should have: the earliest in
// force. d.mu must be held.
func (d *readDeadlines) effective() time.Time {
	t := earliest(d.user, d.linger)
	if d.busy && d.timeout > 0 {
		t = earliest(t, d.armedAt.Add(d.timeout))
	}
	return t
}

// earliest is the earlier of two deadlines, the zero time being none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// progress measures what the peer of a TCP connection has taken: the bytes
// written minus those the kernel still holds for it. It is used by the
// writing goroutine only.
type progress struct {
	outq  func() (int, error) // bytes in the send queue not yet taken by the peer
	slice time.Duration       // the write deadline between two looks
	since time.Time           // when the peer was last seen to take bytes, or the write began
	taken int64               // bytes taken at the last look; -1 before the first look of a write
	fresh bool                // a write began and has not been looked at yet
}

// begin starts a write: a peer is judged by what it takes while the Conn
// has something for it, not by how long it had nothing to take.
func (p *progress) begin() { p.fresh = true }

// moved looks at the send queue at now, sent bytes having been written in
// all, and reports whether the write should go on: the peer took bytes
// within the last timeout.
func (p *progress) moved(now, armedAt time.Time, sent int64, timeout time.Duration) bool {
	unsent, err := p.outq()
	if err != nil {
		return false
	}
	taken := sent - int64(unsent)
	if p.fresh {
		// The first look of a write has nothing to compare with: the span
		// without progress starts, at the latest, with this deadline.
		p.fresh, p.taken, p.since = false, taken, armedAt
		return now.Sub(p.since) < timeout
	}
	if taken > p.taken {
		p.taken, p.since = taken, now
		return true
	}
	return now.Sub(p.since) < timeout
}
