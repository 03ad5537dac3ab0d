package server

import (
	"cmp"
	"slices"

	"pcx/domain"
)

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
	if srv.room != nil {
		srv.room.remoteUsers(func(seq uint64, nick string) { members = append(members, member{seq, nick}) })
	}
	srv.mu.Unlock()
	slices.SortFunc(members, func(a, b member) int { return cmp.Compare(a.seq, b.seq) })
	users := make([]string, len(members))
	for i, m := range members {
		users[i] = m.nick
	}
	answer := domain.WhoAnswer(srv.clock.Now(), users)
	return srv.codec.AppendRelay(nil, &answer)
}
