package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"golang.org/x/time/rate"

	"pcx/domain"
	"pcx/ports"
)

// refusal is a record the server drops without ending the connection.
// metric names it in the metrics; a login refused by a nickname rule has
// none and is counted as a login result.
type refusal struct {
	reason error
	metric ports.Reason
}

func (r *refusal) Error() string { return r.reason.Error() }

// login reads login records until one succeeds, the login timeout passes
// or the connection ends. It reports whether the session joined.
func (s *session) login() (bool, error) {
	// The login deadline is the reader's own: it bounds its reads only,
	// and lifting it after the join leaves the writer's linger alone.
	deadline := time.Now().Add(s.srv.cfg.LoginTimeout)
	if err := s.in.SetReadDeadline(deadline); err != nil {
		return false, err
	}
	for {
		nick, err := s.readLogin()
		var refused *refusal
		switch {
		case errors.As(err, &refused):
			s.logger().Info("login refused", "reason", refused.reason)
			if refused.metric != "" {
				s.srv.metrics.Event(ports.Refusal, refused.metric)
			} else {
				s.srv.metrics.Event(ports.Login, ports.LoginInvalid)
			}
			s.tell(refused.reason)
			continue
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.srv.metrics.Event(ports.CutOff, ports.ReasonLoginTimeout)
			s.tell(domain.ErrLoginTimeout)
			return false, &finishError{reason: "login timed out"}
		case err != nil:
			return false, err
		}
		order, err := s.srv.claim(nick)
		if err != nil {
			s.logger().Info("login refused", "nick", nick.String(), "reason", err)
			if errors.Is(err, domain.ErrRoomUnreachable) {
				s.srv.metrics.Event(ports.Refusal, ports.ReasonRoomUnreachable)
			} else {
				s.srv.metrics.Event(ports.Login, ports.LoginTaken)
			}
			s.tell(err)
			continue
		}
		s.nick, s.order = nick, order
		notice, err := s.srv.announce(nick, order)
		if err != nil {
			s.logger().Info("login refused", "nick", nick.String(), "reason", err)
			s.srv.metrics.Event(ports.Refusal, ports.ReasonRoomUnreachable)
			s.tell(err)
			continue
		}
		if !s.srv.join(s, notice, s.srv.statusFrame(nil)) {
			s.srv.unclaim(nick)
			return false, &finishError{reason: "server shutting down"}
		}
		s.joined = true
		s.srv.metrics.Event(ports.Login, ports.LoginOK)
		return true, s.in.SetReadDeadline(time.Time{})
	}
}

// tell sends the peer the reason something it sent was refused: a status
// reply before login, an error notice after.
func (s *session) tell(reason error) {
	if s.joined {
		s.enqueue(outFrame{record: s.srv.noticeFrame(domain.ErrorText(reason))})
	} else {
		s.enqueue(outFrame{record: s.srv.statusFrame(reason)})
	}
}

// readLogin reads one login record and parses the nickname in it.
func (s *session) readLogin() (domain.Nickname, error) {
	body, err := s.readRecord()
	if err != nil {
		return domain.Nickname{}, err
	}
	login, err := s.srv.codec.DecodeLogin(body)
	if err != nil {
		return domain.Nickname{}, s.malformed(err)
	}
	// A login record has no business with an attachment, but if it names
	// one the payload frame follows all the same: drop it to stay in step.
	if login.PayloadFollows() {
		if err := s.dropPayload(); err != nil {
			return domain.Nickname{}, err
		}
	}
	nick, err := login.Nick()
	if err != nil {
		return domain.Nickname{}, &refusal{reason: err}
	}
	return nick, nil
}

// chat relays the member's messages until the connection ends.
func (s *session) chat() error {
	for {
		err := s.relayNext()
		var refused *refusal
		if errors.As(err, &refused) {
			s.logger().Info("message refused", "reason", refused.reason)
			s.srv.metrics.Event(ports.Refusal, cmp.Or(refused.metric, ports.ReasonInvalidMessage))
			s.tell(refused.reason)
			continue
		}
		if err != nil {
			return err
		}
	}
}

// relayNext reads one message, with its attachment if it has one, and
// relays it once it is whole; or it answers a command.
func (s *session) relayNext() error {
	body, err := s.readRecord()
	if err != nil {
		return err
	}
	in, err := s.srv.codec.DecodeInbound(body)
	if err != nil {
		return s.malformed(err)
	}
	req, invalid := in.Request()
	switch {
	case in.PayloadFollows() && invalid == nil && req.Command == domain.NoCommand:
		return s.relayWithFile(req.Message)
	case in.PayloadFollows():
		// A refused record's payload frame, or a command's (no command
		// takes a file), follows all the same: drop it to stay in step.
		if err := s.dropPayload(); err != nil {
			return err
		}
	}
	if invalid != nil {
		r := &refusal{reason: invalid}
		if errors.Is(invalid, domain.ErrUnknownCommand) {
			r.metric = ports.ReasonUnknownCommand
		}
		return r
	}
	if req.Command == domain.Who {
		s.enqueue(outFrame{record: s.srv.whoFrame()})
		return nil
	}
	return s.relay(req.Message, nil)
}

// relayWithFile reads msg's payload into the spool and relays both.
func (s *session) relayWithFile(msg domain.ChatMessage) error {
	size, payload, err := s.in.ReadPayload()
	if err != nil {
		return err
	}
	if size > s.srv.cfg.MaxAttachment {
		// Left unread: the next read skips it.
		return &refusal{reason: fmt.Errorf("%w of %d bytes", domain.ErrAttachmentTooBig, s.srv.cfg.MaxAttachment), metric: ports.ReasonAttachmentTooBig}
	}
	att, err := s.srv.spool.Store(size, payload)
	if err != nil {
		return s.storeFailed(err)
	}
	err = s.relay(msg, att)
	att.Release()
	return err
}

// dropPayload reads the header of the payload frame of a refused record
// and leaves its body unread, for the next read to skip.
func (s *session) dropPayload() error {
	_, _, err := s.in.ReadPayload()
	return err
}

// storeFailed sorts a failed Store into the peer's fault (the connection
// broke mid-payload: the session ends and nothing is relayed) and the
// server's (no room, a disk error: the payload is refused, and what is
// left of it the next read skips).
func (s *session) storeFailed(err error) error {
	if errors.Is(err, ports.ErrStalled) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("attachment cut off: %w", err)
	}
	if errors.Is(err, ports.ErrSpoolFull) {
		return &refusal{reason: domain.ErrNoRoom, metric: ports.ReasonSpoolFull}
	}
	s.logger().Error("storing attachment", "err", err)
	return &refusal{reason: domain.ErrNotStored, metric: ports.ReasonStoreFailed}
}

// relay stamps msg now that it is whole and queues it for everyone else:
// in a room, on the bus first (room.go says why).
func (s *session) relay(msg domain.ChatMessage, att ports.Attachment) error {
	s.srv.metrics.Add(ports.MessagesReceived, 1)
	if att != nil {
		s.srv.metrics.Add(ports.AttachmentBytesIn, int(att.Size()))
	}
	rel := domain.Relayed(s.srv.clock.Now(), s.nick.String(), msg)
	record := s.srv.codec.AppendRelay(make([]byte, 0, 96+len(msg.Text)), &rel)
	if s.srv.room != nil {
		if err := s.srv.room.sent(s, record, att); err != nil {
			return err
		}
	}
	s.srv.broadcast(outFrame{record: record, payload: att}, s)
	return nil
}

// readRecord reads one record frame. A frame over the record limit is
// skipped and refused; one over the hard cap ends the session. Every
// record, refused or not, waits its turn under the rate limit. The body is
// the session's read buffer: decode it before the next read.
func (s *session) readRecord() ([]byte, error) {
	s.pace.wait(s.logger())
	body, err := s.in.ReadRecord(s.readBuf[:0], s.srv.cfg.MaxRecord)
	var tooLarge *ports.FrameTooLargeError
	if errors.As(err, &tooLarge) {
		return nil, s.skipLongRecord(tooLarge)
	}
	if err != nil {
		return nil, err
	}
	s.keepReadBuf(body)
	return body, nil
}

// malformed refuses a record that cannot be parsed: it has no payload
// frame behind it, whatever it held (PROTOCOL.md section 5).
func (s *session) malformed(err error) error {
	s.logger().Debug("malformed record", "err", err)
	return &refusal{reason: domain.ErrMalformedRecord, metric: ports.ReasonMalformed}
}

// keepReadBuf keeps a read buffer for the next record, unless it has
// grown large: an idle connection should not hold a big buffer.
func (s *session) keepReadBuf(body []byte) {
	if cap(body) <= 4<<10 {
		s.readBuf = body[:0]
	} else {
		s.readBuf = nil
	}
}

func (s *session) skipLongRecord(tooLarge *ports.FrameTooLargeError) error {
	if int64(tooLarge.Len) > HardMaxRecord {
		s.srv.metrics.Event(ports.CutOff, ports.ReasonHardCap)
		s.tell(domain.RecordOverHardCap(tooLarge.Len))
		return &finishError{reason: fmt.Sprintf("record of %d bytes over the hard limit", tooLarge.Len)}
	}
	// The body is left unread: the next read skips it.
	return &refusal{reason: domain.RecordTooLong(tooLarge.Max), metric: ports.ReasonRecordTooLong}
}

// pacer holds a connection to the rate limit by reading it more slowly:
// while the reader waits, the peer's records stay in the socket and TCP
// slows the peer down. Nothing is dropped and nobody is disconnected.
type pacer struct {
	limit *rate.Limiter // nil: no limit
	// ctx ends when the session does, so that no reader waits out its turn
	// on a connection being closed.
	ctx    context.Context
	stop   context.CancelFunc
	warned bool // the peer was told of in the log once; reader goroutine only
}

func newPacer(cfg Config) pacer {
	if cfg.RateLimit <= 0 {
		return pacer{stop: func() {}}
	}
	ctx, stop := context.WithCancel(context.Background())
	return pacer{limit: rate.NewLimiter(rate.Limit(cfg.RateLimit), cfg.RateBurst), ctx: ctx, stop: stop}
}

// wait returns when the next record may be read, or at once once the
// session is ending: the read that follows then fails or drains.
func (p *pacer) wait(log *slog.Logger) {
	if p.limit == nil {
		return
	}
	if !p.warned && p.limit.Tokens() < 1 {
		p.warned = true
		log.Info("rate limit reached; reading this connection more slowly",
			"limit", float64(p.limit.Limit()), "burst", p.limit.Burst())
	}
	_ = p.limit.Wait(p.ctx) // fails only when the session ends
}
