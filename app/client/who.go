package client

import (
	"context"
	"sync"
	"time"

	"pcx/domain"
	"pcx/ports"
)

// whoState follows the questions "who is online" of one session: the
// server of PROTOCOL.md section 7 answers each with a list, one without
// the extension (the reference) never does, which the user is told after
// Config.WhoTimeout.
type whoState struct {
	mu       sync.Mutex    // guards the fields below
	asked    int           // questions sent
	answered int           // questions answered: every one asked before the last answer
	timers   []*time.Timer // one a question, stopped when the session ends
	ended    bool          // the session is over: no more remarks
}

// cannotListText is what the user is told when no list came in time.
const cannotListText = "the server did not answer /who: it cannot list users"

// askWho queues the question and starts its timer.
func (s *session) askWho(ctx context.Context, queue chan<- outgoing) {
	select {
	case queue <- outgoing{record: s.client.codec.AppendRequest(nil, &domain.Request{Command: domain.Who})}:
	case <-ctx.Done():
		return
	}
	w := &s.who
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	w.asked++
	n := w.asked
	w.timers = append(w.timers, time.AfterFunc(s.cfg.WhoTimeout, func() {
		w.mu.Lock()
		unanswered := w.answered < n && !w.ended
		w.mu.Unlock()
		if unanswered {
			s.client.ui.Show(ports.Event{Kind: ports.EventError, Text: cannotListText})
		}
	}))
}

// whoAnswered notes that a list came.
func (s *session) whoAnswered() {
	w := &s.who
	w.mu.Lock()
	defer w.mu.Unlock()
	w.answered = w.asked
}

// endWho stops the timers of a session that is over.
func (s *session) endWho() {
	w := &s.who
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ended = true
	for _, t := range w.timers {
		t.Stop()
	}
}
