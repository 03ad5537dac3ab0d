// Package server is the chat relay: it logs users in, relays each message
// and attachment to everyone else logged in, and announces who comes and
// goes (PROTOCOL.md sections 3 to 6). It talks to the world only through
// ports.
//
// Concurrency: the goroutine that calls Serve accepts connections. Each
// connection has a reader goroutine, which owns its session from login to
// cleanup, and a writer goroutine, which alone writes to the connection and
// drains the session's outbound queue. A broadcast only appends to queues,
// so no receiver can slow a sender or another receiver down.
package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"pcx/domain"
	"pcx/ports"
)

// Server relays messages between logged-in sessions.
type Server struct {
	cfg      Config
	listener ports.Listener
	codec    ports.Codec
	clock    ports.Clock
	spool    ports.Spool
	log      *slog.Logger
	names    *domain.Registry

	// mu guards members, sessions and closing. A broadcast holds it while
	// it appends to every member's queue, so that every receiver sees
	// joins, messages and leaves in one order.
	mu       sync.Mutex
	members  []*session            // logged in; each knows its index here
	sessions map[*session]struct{} // every live connection
	closing  bool                  // set once by shutdown; no new joins or relays
	joins    uint64                // logins so far: the next member's joinSeq

	wg sync.WaitGroup // one count per connection's reader goroutine
}

// New returns a server that will accept connections from listener.
func New(cfg Config, listener ports.Listener, codec ports.Codec, clock ports.Clock, spool ports.Spool, log *slog.Logger) (*Server, error) {
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Server{
		cfg:      cfg,
		listener: listener,
		codec:    codec,
		clock:    clock,
		spool:    spool,
		log:      log,
		names:    domain.NewRegistry(),
		sessions: make(map[*session]struct{}),
	}, nil
}

// Addr is the address the server listens on.
func (srv *Server) Addr() string { return srv.listener.Addr() }

// Serve accepts connections until ctx is done, then shuts down: it stops
// accepting, tells every logged-in user, flushes queues for at most the
// shutdown grace and closes every connection. It returns nil after a
// shutdown asked for through ctx, or the error that stopped the listener.
func (srv *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { srv.listener.Close() })
	defer stop()
	srv.log.Info("listening", "addr", srv.listener.Addr())
	err := srv.acceptLoop(ctx)
	srv.shutdown()
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
		if errors.Is(err, ports.ErrClosed) || ctx.Err() != nil {
			return err
		}
		// Out of file descriptors and the like: wait and try again,
		// as net/http does, rather than spin or give up.
		backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
		srv.log.Warn("accept failed; retrying", "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
	}
}

// start runs a new connection's session unless the server is closing.
func (srv *Server) start(conn ports.Conn) {
	s := newSession(srv, conn)
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		conn.Close()
		return
	}
	srv.sessions[s] = struct{}{}
	srv.wg.Add(1)
	srv.mu.Unlock()
	go func() {
		defer srv.wg.Done()
		s.run()
	}()
}

// join makes s a member under nick: its status reply comes first in its
// queue, then everything broadcast after the join, while every other
// member is told of it. It fails when the server is closing.
func (srv *Server) join(s *session, status []byte) bool {
	notice := srv.noticeFrame(domain.JoinText(s.nick.String()))
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closing {
		return false
	}
	srv.fanOut(outFrame{record: notice}, nil)
	s.enqueue(outFrame{record: status})
	s.memberIndex = len(srv.members)
	s.joinSeq = srv.joins
	srv.joins++
	srv.members = append(srv.members, s)
	return true
}

// leave removes s from the members, frees its name and tells the rest: in
// that order, so that whoever reads the notice may take the name at once.
func (srv *Server) leave(s *session) {
	notice := srv.noticeFrame(domain.LeaveText(s.nick.String()))
	srv.mu.Lock()
	defer srv.mu.Unlock()
	last := srv.members[len(srv.members)-1]
	last.memberIndex = s.memberIndex
	srv.members[s.memberIndex] = last
	srv.members = srv.members[:len(srv.members)-1]
	srv.names.Release(s.nick)
	if !srv.closing {
		srv.fanOut(outFrame{record: notice}, nil)
	}
}

// forget drops s from the live sessions once its goroutines are done.
func (srv *Server) forget(s *session) {
	srv.mu.Lock()
	delete(srv.sessions, s)
	srv.mu.Unlock()
}

// broadcast queues f for every member but except.
func (srv *Server) broadcast(f outFrame, except *session) {
	srv.mu.Lock()
	if !srv.closing {
		srv.fanOut(f, except)
	}
	srv.mu.Unlock()
}

// fanOut queues f for every member but except. srv.mu must be held.
func (srv *Server) fanOut(f outFrame, except *session) {
	for _, m := range srv.members {
		if m != except {
			m.enqueue(f)
		}
	}
}

// noticeFrame encodes a SERVER notice stamped now.
func (srv *Server) noticeFrame(text string) []byte {
	var rec domain.Record
	domain.BuildNotice(&rec, srv.clock.Now(), text)
	return srv.codec.AppendRecord(nil, &rec)
}

// statusFrame encodes a login reply: success when err is nil.
func (srv *Server) statusFrame(err error) []byte {
	var rec domain.Record
	domain.BuildStatus(&rec, err)
	return srv.codec.AppendRecord(nil, &rec)
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
	srv.mu.Unlock()

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
		for s := range srv.sessions {
			s.kill("server shutting down")
		}
		srv.mu.Unlock()
		<-done
	}
	srv.log.Info("stopped")
}
