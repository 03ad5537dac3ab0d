// Package server is the chat relay: it logs users in, relays each message
// and attachment to everyone else logged in, and announces who comes and
// goes (PROTOCOL.md sections 3 to 6). It talks to the world only through
// ports.
//
// Concurrency: the goroutine that calls Serve accepts connections. Each
// connection has a reader goroutine, which owns its session from login to
// cleanup, and a writer goroutine, which alone writes to the connection:
// it reads the shared broadcast log through the session's cursor, with the
// session's private frames in their places. A broadcast only appends to
// the log, so no receiver can slow a sender or another receiver down.
package server

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"pcx/domain"
	"pcx/ports"
)

// Server relays messages between logged-in sessions.
type Server struct {
	cfg      Config
	listener ports.Listener
	codec    ports.ServerCodec
	clock    ports.Clock
	spool    ports.Spool
	metrics  ports.Metrics
	log      *slog.Logger
	names    *domain.Registry // a single server's nicknames; unused in a room (see room)
	room     *roomState       // nil for a single server
	counters Counters

	// Warnings for the operator, each at most once a second.
	acceptWarn, refuseWarn warnEvery

	// mu guards members, sessions, conns and closing. A broadcast holds it
	// while it appends to the log and checks every member's bounds, so
	// that every receiver sees joins, messages and leaves in one order.
	mu       sync.Mutex
	feed     *broadcastLog         // appended to under mu
	members  []*session            // logged in; each knows its index here
	sessions map[*session]struct{} // every live connection
	conns    connLimits            // counts of the live connections admitted
	closing  bool                  // set once by shutdown; no new joins or relays
	toCut    []pendingCut          // found over a bound; cut off by unlockAndCut
	joins    uint64                // logins so far: the next member's joinSeq

	wg sync.WaitGroup // one count per connection's reader goroutine
}

// New returns a server that will accept connections from listener. A nil
// metrics counts nothing; a nil room makes a single server.
func New(cfg Config, listener ports.Listener, codec ports.ServerCodec, clock ports.Clock, spool ports.Spool, metrics ports.Metrics, room *Room, log *slog.Logger) (*Server, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if metrics == nil {
		metrics = discardMetrics{}
	}
	srv := &Server{
		cfg:      cfg,
		listener: listener,
		codec:    codec,
		clock:    clock,
		spool:    spool,
		metrics:  metrics,
		log:      log,
		names:    domain.NewRegistry(),
		feed:     newBroadcastLog(),
		sessions: make(map[*session]struct{}),
		conns:    connLimits{perIP: make(map[netip.Addr]int), exempt: cfg.ConnLimitExempt},

		acceptWarn: warnEvery{interval: time.Second},
		refuseWarn: warnEvery{interval: time.Second},
	}
	srv.room = newRoomState(srv, room)
	return srv, nil
}

// Addr is the address the server listens on.
func (srv *Server) Addr() string { return srv.listener.Addr() }

// Serve accepts connections until ctx is done, then shuts down: it stops
// accepting, tells every logged-in user, flushes queues for at most the
// shutdown grace and closes every connection. It returns nil after a
// shutdown asked for through ctx, or the error that stopped the listener.
func (srv *Server) Serve(ctx context.Context) error {
	if srv.room != nil {
		if err := srv.room.start(); err != nil {
			srv.listener.Close()
			srv.room.close()
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { srv.listener.Close() })
	defer stop()
	srv.log.Info("listening", "addr", srv.listener.Addr())
	err := srv.acceptLoop(ctx)
	srv.shutdown()
	if srv.room != nil {
		srv.room.close()
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (srv *Server) acceptLoop(ctx context.Context) error {
	var backoff time.Duration
	for {
		conn, err := srv.listener.Accept()
		if err == nil {
			backoff = 0
			srv.start(conn)
			continue
		}
		if !errors.Is(err, ports.ErrAcceptPassing) || ctx.Err() != nil {
			return err // closed, or a failure that will not pass
		}
		// Out of file descriptors and the like: wait and try again,
		// as net/http does, rather than spin or give up. This is the one
		// place that backs off; the transports say what passes.
		backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
		srv.counters.AcceptFailed.Add(1)
		srv.acceptWarn.note(srv.log, "accept failed; retrying", "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
	}
}

// start runs a new connection's session unless the server is closing. A
// connection over a connection limit is told so and closed.
func (srv *Server) start(conn ports.Conn) {
	s := newSession(srv, conn)
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		conn.Close()
		return
	}
	refused := srv.conns.admit(s.addr, &srv.cfg)
	s.counted = refused == 0
	srv.sessions[s] = struct{}{}
	srv.wg.Add(1)
	live := len(srv.sessions)
	srv.mu.Unlock()
	if refused != 0 {
		srv.refused(s, refused, live)
	}
	go func() {
		defer srv.wg.Done()
		if refused != 0 {
			s.refuse(refused)
			return
		}
		s.run()
	}()
}

// refused counts and reports a connection over a limit.
func (srv *Server) refused(s *session, reason cutReason, live int) {
	srv.count(reason)
	s.logger().Debug("connection refused", "reason", reason)
	srv.refuseWarn.note(srv.log, "refusing connections over a limit", "reason", reason, "peer", s.conn.RemoteAddr(),
		"live", live, "refused_from_address", srv.counters.RefusedFromAddress.Load(), "refused_on_server", srv.counters.RefusedOnServer.Load())
}

// join makes s a member under nick: its status reply comes first in its
// queue, then everything broadcast after the join, while every other
// member is told of it by notice. It fails when the server is closing.
func (srv *Server) join(s *session, notice, status []byte) bool {
	srv.mu.Lock()
	defer srv.unlockAndCut()
	if srv.closing {
		return false
	}
	srv.fanOut(outFrame{record: notice}, nil)
	s.startReading(srv.feed.end())
	s.enqueue(outFrame{record: status})
	s.memberIndex = len(srv.members)
	s.joinSeq = srv.joins
	srv.joins++
	srv.members = append(srv.members, s)
	srv.metrics.Add(ports.UsersJoined, 1)
	return true
}

// leave removes s from the members, frees its name and tells the rest: in
// that order, so that whoever reads the notice may take the name at once.
func (srv *Server) leave(s *session) {
	notice := srv.noticeFrame(domain.LeaveText(s.nick.String()))
	if srv.room != nil {
		srv.room.left(s, notice)
	}
	srv.mu.Lock()
	last := srv.members[len(srv.members)-1]
	last.memberIndex = s.memberIndex
	srv.members[s.memberIndex] = last
	srv.members = srv.members[:len(srv.members)-1]
	if srv.room == nil {
		srv.names.Release(s.nick)
	} else {
		delete(srv.room.leaving, s)
	}
	stop := srv.feed.headPos().seq
	if !srv.closing {
		srv.fanOut(outFrame{record: notice}, nil)
	}
	srv.unlockAndCut()
	srv.metrics.Add(ports.UsersLeft, 1)
	s.stopReading(stop)
}

// forget drops s from the live sessions once its goroutines are done.
func (srv *Server) forget(s *session) {
	srv.mu.Lock()
	delete(srv.sessions, s)
	if s.counted {
		srv.conns.release(s.addr)
	}
	srv.mu.Unlock()
}

// broadcast queues f for every member but except.
func (srv *Server) broadcast(f outFrame, except *session) {
	srv.mu.Lock()
	if !srv.closing {
		srv.fanOut(f, except)
	}
	srv.unlockAndCut()
}

// pendingCut is a receiver that a broadcast took past a bound.
type pendingCut struct {
	s      *session
	reason cutReason
}

// unlockAndCut releases srv.mu, then cuts off the receivers that the
// critical section found over a bound: closing a socket and logging are
// I/O, which no one waiting for the room lock should wait for. Lock must
// be held.
func (srv *Server) unlockAndCut() {
	cut := srv.toCut
	srv.toCut = nil
	srv.mu.Unlock()
	for _, c := range cut {
		c.s.cutOff(c.reason)
	}
}

// fanOut appends f to the log for every member but except, wakes their
// writers, and marks for cutting off whoever that takes past a bound: a
// receiver over its own bounds, then, while the log holds more than
// --max-memory for the receivers still reading, those furthest behind.
// The caller cuts them off with unlockAndCut. Lock must be held.
func (srv *Server) fanOut(f outFrame, except *session) {
	srv.fanOutOrdered(f, except, 0)
}

// fanOutOrdered is fanOut of a remote user's join notice, which the
// writers of members whose claim order is not below order step over
// (room.go); order 0 is fanOut. Lock must be held.
func (srv *Server) fanOutOrdered(f outFrame, except *session, order uint64) {
	if f.payload != nil {
		// One reference for each receiver, taken before the append makes
		// the entry visible: a writer may send it and let go of its
		// reference before this loop is through.
		for _, m := range srv.members {
			if m != except {
				f.payload.Retain()
			}
		}
	}
	head, cost := srv.feed.append(f.record, f.payload, except, order)
	oldest := head.mem
	for _, m := range srv.members {
		if m == except {
			if held, live := m.sent(cost); live {
				oldest = min(oldest, held)
			}
			continue
		}
		held, over, live := m.offered(head)
		switch {
		case over != 0:
			srv.toCut = append(srv.toCut, pendingCut{m, over})
		case live:
			oldest = min(oldest, held)
			m.signal()
		}
	}
	if head.mem-oldest > srv.cfg.MaxMemory {
		srv.cutFurthestBehind(head.mem)
	}
}

// cutFurthestBehind marks the members furthest behind for cutting off
// until the log holds at most --max-memory for those left. Lock must be
// held.
func (srv *Server) cutFurthestBehind(head int64) {
	type behind struct {
		held int64
		s    *session
	}
	var readers []behind
	for _, m := range srv.members {
		if held, live := m.heldFrom(); live {
			readers = append(readers, behind{held, m})
		}
	}
	slices.SortFunc(readers, func(a, b behind) int { return cmp.Compare(a.held, b.held) })
	for _, r := range readers {
		if head-r.held <= srv.cfg.MaxMemory {
			break
		}
		srv.toCut = append(srv.toCut, pendingCut{r.s, cutMaxMemory})
	}
}

// noticeFrame encodes a SERVER notice stamped now.
func (srv *Server) noticeFrame(text string) []byte {
	notice := domain.Notice(srv.clock.Now(), text)
	return srv.codec.AppendRelay(nil, &notice)
}

// statusFrame encodes a login reply: success when err is nil.
func (srv *Server) statusFrame(err error) []byte {
	return srv.codec.AppendStatus(nil, err)
}

// shutdown tells every member the server is going, lets every writer
// flush for at most the grace period, then cuts off whoever is left.
func (srv *Server) shutdown() {
	notice := srv.noticeFrame(domain.ShutdownText)
	srv.mu.Lock()
	srv.closing = true
	srv.fanOut(outFrame{record: notice}, nil)
	for s := range srv.sessions {
		s.finish()
	}
	srv.unlockAndCut()
	if srv.room != nil {
		// After closing is set: no join or message is published after it.
		srv.room.shutdown()
	}

	done := make(chan struct{})
	go func() {
		srv.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(srv.cfg.ShutdownGrace):
		srv.log.Warn("shutdown grace over; closing the connections left")
		srv.mu.Lock()
		left := slices.Collect(maps.Keys(srv.sessions))
		srv.mu.Unlock()
		for _, s := range left {
			s.kill("server shutting down")
		}
		<-done
	}
	srv.log.Info("stopped")
}
