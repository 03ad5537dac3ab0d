package server

import (
	"cmp"
	"slices"

	"pcx/domain"
)

// command answers a record that asks the server something instead of
// carrying a message (PROTOCOL.md section 7). handled is false for a
// message, which the caller relays as usual. The answer goes to the asker
// alone, queued like an error notice; an unknown command is refused.
func (s *session) command(rec *domain.Record) (handled bool, err error) {
	cmd, invalid := domain.ParseCommand(rec)
	if invalid == nil && cmd == domain.NoCommand {
		return false, nil
	}
	if domain.HasAttachmentKey(rec) {
		// No command takes a file, but its payload frame follows anyway.
		if _, _, err := s.conn.ReadPayload(); err != nil {
			return true, err
		}
		if err := s.conn.SkipFrame(); err != nil {
			return true, err
		}
	}
	if invalid != nil {
		return true, &refusal{reason: invalid}
	}
	s.enqueue(outFrame{record: s.srv.whoFrame()})
	return true, nil
}

// whoFrame encodes the list of members, in the order they logged in.
func (srv *Server) whoFrame() []byte {
	type member struct {
		seq  uint64
		nick string
	}
	srv.mu.Lock()
	members := make([]member, len(srv.members))
	for i, m := range srv.members {
		members[i] = member{m.joinSeq, m.nick.String()}
	}
	srv.mu.Unlock()
	slices.SortFunc(members, func(a, b member) int { return cmp.Compare(a.seq, b.seq) })
	users := make([]string, len(members))
	for i, m := range members {
		users[i] = m.nick
	}
	var rec domain.Record
	domain.BuildWhoReply(&rec, srv.clock.Now(), users)
	return srv.codec.AppendRecord(nil, &rec)
}
