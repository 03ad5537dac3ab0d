package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"pcx/domain"
	"pcx/ports"
)

// Room joins a server to the other servers of one room (PROTOCOL.md
// section 9): the nil *Room is a single server, which uses none of it.
type Room struct {
	// Node is this server's name in the room, unique in it.
	Node  string
	Bus   ports.RoomBus
	Names ports.Names
	Nodes ports.Nodes
	// Timeout bounds each call to Names (a login's claim, a release).
	// Zero means 5 s.
	Timeout time.Duration
	// CheckEvery is how often the room's users are checked against the
	// registry (see reconcile). Zero means 30 s.
	CheckEvery time.Duration
	// Files moves attachments between the nodes (roomfiles.go); nil
	// drops the messages with attachments of other nodes.
	Files ports.FileShare
	// FileHold is how long an offered attachment stays fetchable at most
	// (zero: DefaultFileHold); FileFetches how many fetches run at once
	// (zero: DefaultFileFetches).
	FileHold    time.Duration
	FileFetches int
}

// What the server does with the room, in one place:
//
//   - Publish before relaying. A local user's message is encoded once;
//     those bytes are published on the bus first and, only once Publish
//     has taken them, appended to the local log. A Publish that fails
//     (the bus is down) refuses the message to its sender with
//     domain.ErrRoomMessageDown, and no one gets it: a message is never
//     relayed to the local half of the room only, and never twice. The
//     sender's reader goroutine does both steps, so its messages keep their
//     order on the bus and locally.
//   - Joins: the nickname is claimed in Names (bounded by Room.Timeout),
//     the join published with the claim's order, then the user joins
//     locally. Another node's join reaches only the members whose claim
//     came before it (remoteJoin). Leaves: the nickname released, the
//     leave published, then the local leave: in that order, so that the
//     name is free on every node once its leave notice is out.
//   - Remote events are appended to the local log as the bytes received,
//     in the order the bus gives them (each origin's order; a message with
//     an attachment, and its sender's later events, once the payload is
//     fetched: roomfiles.go). Every remote
//     user is known by (node, nickname as typed) from its join (or, for a
//     user whose join this node never heard, from its first message), so
//     that its leave is told once, whichever comes first of its leave, its
//     node's shutdown, its node seen gone, or a reconciliation.
//   - The link lost: logins and messages are refused until it is back and
//     every local user's nickname is claimed again. A user whose nickname
//     another server's user took meanwhile is told (domain.ErrNicknameLost)
//     and cut off: whoever stayed reachable keeps the name.
type roomState struct {
	Room
	srv *Server
	log *slog.Logger

	// origin marks the log entries of remote messages: they count as
	// messages for the metrics and are sent to every local member.
	origin *session

	// Guarded by Server.mu.
	remote map[string]map[string]*remoteUser // by node, then nickname as typed
	// leftAt has the remote users told gone while a reconciliation is
	// under way, with Server.joins then, so that it does not bring back one
	// whose leave came in while it read the registry.
	leftAt map[[2]string]uint64
	// leaving has the members whose leave has begun: their names are
	// being freed, and no check claims them again.
	leaving map[*session]bool
	down    bool   // the link is lost, or back but not yet recovered
	gen     uint64 // counts the link's losses; a recovery of an older one gives up

	// announced is set by start once this node is alive in the room, and
	// read by close, both on Serve's goroutine: a node refused because
	// another of its name is alive frees nothing of that other's.
	announced bool

	// stop ends the recovery and reconciliation goroutines (shutdown).
	stop    context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup
	// reconciling is set while a reconciliation is queued or running.
	reconciling atomic.Bool
	// attachments numbers the attachments this node offers the room.
	attachments atomic.Uint64
	// files holds other nodes' events behind their senders' attachments
	// being fetched (roomfiles.go).
	files fileQueues
}

// remoteUser is a user of another node, as this node knows it.
type remoteUser struct {
	nick    string
	joinSeq uint64 // when this node learned of it, in Server.joins order
}

func newRoomState(srv *Server, r *Room) *roomState {
	if r == nil {
		return nil
	}
	rs := &roomState{Room: *r, srv: srv, remote: make(map[string]map[string]*remoteUser), leftAt: make(map[[2]string]uint64), leaving: make(map[*session]bool)}
	rs.Timeout = cmp.Or(rs.Timeout, 5*time.Second)
	rs.CheckEvery = cmp.Or(rs.CheckEvery, 30*time.Second)
	rs.log = srv.log // cmd/server names the node in every line
	rs.origin = &session{}
	rs.stop, rs.cancel = context.WithCancel(context.Background())
	rs.initFiles()
	return rs
}

// start joins the room: this node announces itself, which fails while a
// node of its name is alive (two live nodes of one name would free each
// other's nicknames and mix their users' events); then a name this node
// held in an earlier run that did not stop cleanly is freed (and the
// others told that its users left), and the users the room has now are
// learned from the registry, without notices.
func (r *roomState) start() error {
	// First, before anything is heard, freed or published: the
	// announcement is the check, so of two nodes of one name starting at
	// once only one passes.
	if err := r.Nodes.Watch(r.gone); err != nil {
		return fmt.Errorf("server: watch the room's nodes: %w", err)
	}
	r.announced = true
	if err := r.Bus.Listen(receiver{r}); err != nil {
		return fmt.Errorf("server: listen to the room: %w", err)
	}
	ctx, cancel := context.WithTimeout(r.stop, r.Timeout)
	defer cancel()
	holders, err := r.Names.List(ctx)
	if err != nil {
		return fmt.Errorf("server: list the room's nicknames: %w", err)
	}
	var stale int
	for _, h := range holders {
		if h.Node == r.Node {
			stale++
		}
	}
	if stale > 0 {
		r.log.Warn("freeing the nicknames of an earlier run of this node", "count", stale)
		if err := r.Names.ReleaseNode(ctx, r.Node); err != nil {
			return fmt.Errorf("server: free an earlier run's nicknames: %w", err)
		}
		// The others may still show that run's users: they leave now.
		if err := r.publish(ports.BusEvent{Kind: ports.BusShutdown}); err != nil {
			r.log.Warn("the others were not told that the earlier run's users left", "err", err)
		}
	}
	srv := r.srv
	srv.mu.Lock()
	for _, h := range holders {
		if h.Node != r.Node {
			r.learn(h.Node, h.Nickname.String())
		}
	}
	srv.mu.Unlock()
	r.running.Go(r.checkEvery)
	r.log.Info("joined the room", "users_elsewhere", len(holders)-stale)
	return nil
}

// checkEvery reconciles every CheckEvery until the server stops: what no
// event said (a node taken for gone that was not, and freed this node's
// names; a lost join or leave) is mended within that time.
func (r *roomState) checkEvery() {
	tick := time.NewTicker(r.CheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.stop.Done():
			return
		case <-tick.C:
			r.reconcileSoon(0)
		}
	}
}

// close leaves the room after a shutdown: the others see every user of
// this node leave at once (the shutdown was published when it began).
func (r *roomState) close() {
	r.cancel()
	r.running.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	defer cancel()
	// A node refused at start frees nothing: the names held under its
	// name are another live node's (or an earlier run's, for the next
	// start to free).
	if r.announced {
		if err := r.Names.ReleaseNode(ctx, r.Node); err != nil {
			r.log.Warn("freeing this node's nicknames", "err", err)
		}
	}
	if err := r.Nodes.Close(); err != nil {
		r.log.Warn("leaving the room's nodes", "err", err)
	}
	if err := r.Bus.Close(); err != nil {
		r.log.Warn("closing the room's bus", "err", err)
	}
	r.closeFiles()
}

// publish sends ev to the other nodes and counts it.
func (r *roomState) publish(ev ports.BusEvent) error {
	ctx, cancel := context.WithTimeout(r.stop, r.Timeout)
	defer cancel()
	if err := r.Bus.Publish(ctx, ev); err != nil {
		return err
	}
	r.srv.metrics.Add(ports.BusEventsOut, 1)
	return nil
}

// isDown tells whether logins and messages are refused now: the link is
// down, or the server is closing (and has told the others or is about to).
func (r *roomState) isDown() bool {
	r.srv.mu.Lock()
	defer r.srv.mu.Unlock()
	return r.down || r.srv.closing
}

// claim takes nick in the room's registry for a login and returns the
// claim's order.
func (r *roomState) claim(nick domain.Nickname) (uint64, error) {
	if r.isDown() {
		return 0, domain.ErrRoomLoginDown
	}
	ctx, cancel := context.WithTimeout(r.stop, r.Timeout)
	defer cancel()
	order, err := r.Names.Claim(ctx, nick)
	if err != nil && !errors.Is(err, domain.ErrNicknameTaken) && !errors.Is(err, domain.ErrInvalidNickname) {
		r.log.Warn("claiming a nickname", "err", err)
		return 0, domain.ErrRoomLoginDown
	}
	return order, err
}

// release frees nick in the room's registry; a failure is logged, and the
// name is freed by the next recovery or by this node's end.
func (r *roomState) release(nick domain.Nickname) {
	ctx, cancel := context.WithTimeout(r.stop, r.Timeout)
	defer cancel()
	if err := r.Names.Release(ctx, nick); err != nil {
		r.log.Warn("freeing a nickname", "err", err)
	}
}

// joined publishes a local user's join with the order of its claim (0:
// told to every user of the other nodes who does not know the user; see
// remoteJoin). It fails when the bus is down.
func (r *roomState) joined(nick domain.Nickname, order uint64, notice []byte) error {
	return r.publish(ports.BusEvent{Kind: ports.BusJoin, Nickname: nick.String(), Order: order, Record: notice})
}

// left frees a local user's nickname and publishes the leave, unless the
// server is closing (the shutdown event says it for every user).
func (r *roomState) left(s *session, notice []byte) {
	nick := s.nick
	r.srv.mu.Lock()
	closing := r.srv.closing
	r.leaving[s] = true // until Server.leave removes the member
	r.srv.mu.Unlock()
	if closing {
		return
	}
	r.release(nick)
	if err := r.publish(ports.BusEvent{Kind: ports.BusLeave, Nickname: nick.String(), Record: notice}); err != nil {
		r.log.Warn("the other servers were not told of a leave", "nick", nick.String(), "err", err)
	}
}

// sent publishes a local user's message before it is relayed locally
// (see roomState). An attachment is offered under a handle of this node.
func (r *roomState) sent(s *session, record []byte, att ports.Attachment) error {
	if s.nickLost.Load() {
		return &finishError{reason: "nickname taken elsewhere"}
	}
	if r.isDown() {
		return &refusal{reason: domain.ErrRoomMessageDown, metric: ports.ReasonRoomUnreachable}
	}
	ev := ports.BusEvent{Kind: ports.BusMessage, Nickname: s.nick.String(), Record: record}
	if att != nil {
		var err error
		if ev.Attachment, err = r.offer(att); err != nil {
			s.logger().Warn("attachment not offered to the room", "err", err)
			return &refusal{reason: domain.ErrRoomMessageDown, metric: ports.ReasonRoomUnreachable}
		}
	}
	if err := r.publish(ev); err != nil {
		s.logger().Warn("message not published", "err", err)
		r.withdraw(ev.Attachment)
		return &refusal{reason: domain.ErrRoomMessageDown, metric: ports.ReasonRoomUnreachable}
	}
	return nil
}

// shutdown tells the others that every user of this node is gone.
func (r *roomState) shutdown() {
	if err := r.publish(ports.BusEvent{Kind: ports.BusShutdown}); err != nil {
		r.log.Warn("the other servers were not told of the shutdown; they see this node gone after its TTL", "err", err)
	}
}

// receiver is what the bus calls: one goroutine at a time, in each
// origin's order.
type receiver struct{ r *roomState }

// Receive appends another node's event to the local log.
func (rc receiver) Receive(ev ports.BusEvent) {
	r := rc.r
	r.srv.metrics.Add(ports.BusEventsIn, 1)
	if r.hold(ev) {
		return // behind its sender's attachment (roomfiles.go)
	}
	r.apply(ev)
}

// apply relays an event of another node, in its turn.
func (r *roomState) apply(ev ports.BusEvent) {
	switch ev.Kind {
	case ports.BusJoin:
		r.remoteJoin(ev)
	case ports.BusMessage:
		r.remoteMessage(ev, nil)
	case ports.BusLeave:
		r.remoteLeave(ev.Node, ev.Nickname, ev.Record)
	case ports.BusShutdown:
		r.nodeGone(ev.Node, "shut down")
	default:
		r.log.Warn("dropped a bus event of an unknown kind", "from", ev.Node, "kind", ev.Kind)
	}
}

// Missed logs and counts a hole in a node's events, and has the room's
// users checked against the registry: a leave may be among the lost.
func (rc receiver) Missed(node string, count uint64) {
	r := rc.r
	r.srv.metrics.Add(ports.BusEventsMissed, int(min(count, 1<<31)))
	r.log.Warn("events of another node never arrived; the room as this node sees it may differ until its users reconnect",
		"from", node, "missed", count)
	r.reconcileSoon(0)
}

// Link follows the link to the bus: lost, the local users are told and
// logins and messages refused; back, the room is recovered first.
func (rc receiver) Link(up bool) {
	r := rc.r
	srv := r.srv
	srv.mu.Lock()
	if !up {
		if r.down {
			srv.mu.Unlock()
			return
		}
		r.down = true
		r.gen++
		r.notice(domain.RoomLostText)
		srv.unlockAndCut()
		r.log.Warn("room link lost; refusing logins and messages until it is back")
		return
	}
	if !r.down || srv.closing {
		srv.mu.Unlock()
		return // the first Link(true), or a shutdown under way
	}
	gen := r.gen
	srv.mu.Unlock()
	r.log.Info("room link back; claiming this node's nicknames again")
	r.running.Go(func() { r.recover(gen) })
}

// notice appends a SERVER notice for every local member. Server.mu must be
// held.
func (r *roomState) notice(text string) {
	r.srv.fanOut(outFrame{record: r.srv.noticeFrame(text)}, nil)
}

// learn records a remote user unless it is known. Server.mu must be held.
func (r *roomState) learn(node, nick string) (*remoteUser, bool) {
	users := r.remote[node]
	if users == nil {
		users = make(map[string]*remoteUser)
		r.remote[node] = users
	}
	if u := users[nick]; u != nil {
		return u, false
	}
	u := &remoteUser{nick: nick, joinSeq: r.srv.joins}
	r.srv.joins++
	users[nick] = u
	return u, true
}

// forget removes a remote user and appends its leave notice (received, or
// made here when record is nil); a user not known is not told of twice.
// Server.mu must be held.
func (r *roomState) forget(node, nick string, record []byte) {
	users := r.remote[node]
	if users[nick] == nil {
		return
	}
	delete(users, nick)
	if len(users) == 0 {
		delete(r.remote, node)
	}
	if r.reconciling.Load() {
		r.leftAt[[2]string{node, nick}] = r.srv.joins
	}
	r.srv.joins++
	if record == nil {
		record = r.srv.noticeFrame(domain.LeaveText(nick))
	}
	if !r.srv.closing {
		r.srv.fanOut(outFrame{record: record}, nil)
	}
}

// remoteJoin tells the local members of another node's user, once: a
// join heard again (a node re-announces its users when its link is back)
// goes to no one, since whoever knows the user has heard it. It goes only
// to the members whose own claim order is below the join's: one whose
// claim came later logged in after the user did (the bus brought the join
// late), and sees the user in who and its messages and leave, but no
// join notice. A join of order 0 goes to every member.
func (r *roomState) remoteJoin(ev ports.BusEvent) {
	srv := r.srv
	srv.mu.Lock()
	defer srv.unlockAndCut()
	if _, fresh := r.learn(ev.Node, ev.Nickname); fresh && !srv.closing {
		srv.fanOutOrdered(outFrame{record: ev.Record}, nil, ev.Order)
	}
}

// remoteMessage relays another node's message to the local members, with
// its payload once fetched whole (roomfiles.go). It is the one place where
// remote messages enter the log.
func (r *roomState) remoteMessage(ev ports.BusEvent, payload ports.Attachment) {
	srv := r.srv
	srv.mu.Lock()
	defer srv.unlockAndCut()
	if srv.closing {
		return
	}
	// A sender this node does not know: its join was lost, or its node was
	// taken for gone and is not. Its join notice, made here, comes first.
	if _, fresh := r.learn(ev.Node, ev.Nickname); fresh {
		srv.fanOut(outFrame{record: srv.noticeFrame(domain.JoinText(ev.Nickname))}, nil)
	}
	srv.fanOut(outFrame{record: ev.Record, payload: payload}, r.origin)
}

func (r *roomState) remoteLeave(node, nick string, record []byte) {
	srv := r.srv
	srv.mu.Lock()
	r.forget(node, nick, record)
	srv.unlockAndCut()
}

// gone is what Nodes.Watch calls for a node that stopped announcing
// itself: its nicknames are freed, then its users leave.
func (r *roomState) gone(node string) {
	ctx, cancel := context.WithTimeout(r.stop, r.Timeout)
	defer cancel()
	// A heartbeat late under load must not free a live node's names: the
	// registry is asked once more.
	if alive, err := r.Nodes.Alive(ctx); err == nil && slices.Contains(alive, node) {
		r.log.Warn("a node reported gone is alive; kept", "other", node)
		return
	}
	if err := r.Names.ReleaseNode(ctx, node); err != nil {
		r.log.Warn("freeing a gone node's nicknames", "gone", node, "err", err)
	}
	r.afterFiles(node, func() { r.nodeGone(node, "gone") })
}

// nodeGone tells the local members that each user of node left.
func (r *roomState) nodeGone(node, how string) {
	srv := r.srv
	srv.mu.Lock()
	n := len(r.remote[node])
	for nick := range r.remote[node] {
		r.forget(node, nick, nil)
	}
	srv.unlockAndCut()
	r.log.Info("node left the room", "other", node, "how", how, "users", n)
}

// recover runs once the link is back: it claims every local user's
// nickname again (cutting off those another server's user took), frees
// the names of users who left meanwhile, announces the users again (the
// others skip joins they know), lets logins and messages in, and checks
// the remote users against the registry. It gives up, to be run again,
// when the link is lost meanwhile.
func (r *roomState) recover(gen uint64) {
	pause := 100 * time.Millisecond
	for !r.recoverOnce(gen) {
		select {
		case <-r.stop.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 2*time.Second)
		if r.stale(gen) {
			return
		}
	}
	// A node that was cut off as long as this one may free its names
	// after this look: look again once its recovery is surely done.
	r.reconcileSoon(r.Timeout)
}

// stale tells whether the link was lost again since gen.
func (r *roomState) stale(gen uint64) bool {
	r.srv.mu.Lock()
	defer r.srv.mu.Unlock()
	return r.gen != gen || r.srv.closing
}

// recoverOnce is one try of recover; false means try again.
func (r *roomState) recoverOnce(gen uint64) bool {
	srv := r.srv
	ctx, cancel := context.WithTimeout(r.stop, r.Timeout)
	defer cancel()
	// The members before the list: each claimed its name before it joined,
	// so the list has every name of theirs still held.
	members := r.members()
	holders, err := r.Names.List(ctx)
	if err != nil {
		r.log.Warn("recovering the room: list nicknames", "err", err)
		return false
	}
	mine := make(map[string]domain.Nickname)
	for _, h := range holders {
		if h.Node == r.Node {
			mine[h.Nickname.Key()] = h.Nickname
		}
	}

	var kept []*session
	reclaimed := make(map[*session]uint64) // the new claim's order
	for _, s := range members {
		if _, held := mine[s.nick.Key()]; held {
			delete(mine, s.nick.Key())
			kept = append(kept, s)
			continue
		}
		order, err := r.Names.Claim(ctx, s.nick)
		switch {
		case err == nil:
			kept = append(kept, s)
			reclaimed[s] = order
		case errors.Is(err, domain.ErrNicknameTaken):
			r.lose(s)
		default:
			r.log.Warn("recovering the room: claim a nickname again", "nick", s.nick.String(), "err", err)
			return false
		}
	}
	for _, n := range mine { // held for users who left while the link was down
		if err := r.Names.Release(ctx, n); err != nil {
			r.log.Warn("recovering the room: free a nickname", "err", err)
			return false
		}
	}
	// A kept name's user is announced with order 0: a node that knows it
	// skips the join, and one that had seen it leave (took this node for
	// gone) tells it to every member, since none of them has it in view.
	// A user claimed again is announced with its new order, as a login.
	for _, s := range kept {
		notice := srv.noticeFrame(domain.JoinText(s.nick.String()))
		if err := r.joined(s.nick, reclaimed[s], notice); err != nil {
			r.log.Warn("recovering the room: announce a user again", "err", err)
			return false
		}
	}
	srv.mu.Lock()
	if r.gen != gen || srv.closing {
		srv.mu.Unlock()
		return true // lost again: the next Link(true) starts over
	}
	r.down = false
	r.notice(domain.RoomBackText)
	srv.unlockAndCut()
	r.log.Info("room recovered", "users", len(kept), "cut_off", len(members)-len(kept))
	r.reconcileSoon(0)
	return true
}

// lose cuts off a local user whose nickname another node's user holds
// now, telling it why; its leave follows as for any session that ends.
func (r *roomState) lose(s *session) {
	s.logger().Warn("nickname taken on another server while the room was out of reach; cutting the user off")
	s.nickLost.Store(true)
	r.srv.metrics.Event(ports.CutOff, ports.ReasonNicknameLost)
	s.enqueue(outFrame{record: r.srv.noticeFrame(domain.ErrorText(domain.ErrNicknameLost))})
	s.finish()
}

// reconcileSoon checks, after delay, the remote users against the
// registry: one whose node no longer holds its nickname left while a
// leave was lost; one held by another live node that this node does not
// know joined while a join was lost. At most one is queued at a time.
func (r *roomState) reconcileSoon(delay time.Duration) {
	if !r.reconciling.CompareAndSwap(false, true) {
		return
	}
	r.running.Go(func() {
		defer r.reconciling.Store(false)
		select {
		case <-r.stop.Done():
			return
		case <-time.After(delay):
		}
		r.reconcile()
	})
}

func (r *roomState) reconcile() {
	srv := r.srv
	srv.mu.Lock()
	before := srv.joins // users learned from now on are not judged by this list
	down := r.down
	srv.mu.Unlock()
	if down {
		return // the recovery does it when the link is back
	}
	ctx, cancel := context.WithTimeout(r.stop, r.Timeout)
	defer cancel()
	members := r.members()
	holders, err := r.Names.List(ctx)
	if err != nil {
		r.log.Warn("checking the room's users", "err", err)
		return
	}
	alive, err := r.Nodes.Alive(ctx)
	if err != nil {
		r.log.Warn("checking the room's nodes", "err", err)
		return
	}
	r.reclaimFreed(ctx, members, holders)
	held := make(map[[2]string]bool, len(holders))
	for _, h := range holders {
		held[[2]string{h.Node, h.Nickname.String()}] = true
	}
	srv.mu.Lock()
	defer srv.unlockAndCut()
	for node, users := range r.remote {
		for nick, u := range users {
			if u.joinSeq < before && !held[[2]string{node, nick}] {
				r.log.Info("a user of another node left unheard", "other", node)
				r.forget(node, nick, nil)
			}
		}
	}
	for _, h := range holders {
		who := [2]string{h.Node, h.Nickname.String()}
		if h.Node == r.Node || !slices.Contains(alive, h.Node) || r.remote[h.Node][who[1]] != nil {
			continue
		}
		if seq, ok := r.leftAt[who]; ok && seq >= before {
			continue // its leave came in after the read
		}
		r.log.Info("a user of another node joined unheard", "other", h.Node)
		r.learn(h.Node, who[1])
		if !srv.closing {
			srv.fanOut(outFrame{record: srv.noticeFrame(domain.JoinText(who[1]))}, nil)
		}
	}
	clear(r.leftAt)
}

// members returns the local members now.
func (r *roomState) members() []*session {
	r.srv.mu.Lock()
	defer r.srv.mu.Unlock()
	return slices.Clone(r.srv.members)
}

// reclaimFreed claims again the names of local members that the registry
// no longer has as this node's (another node took this one for gone and
// freed them), and announces those members again; a member whose name
// another node's user holds now is cut off, as after a lost link. members
// must have been read before holders.
func (r *roomState) reclaimFreed(ctx context.Context, members []*session, holders []ports.NameHolder) {
	mine := make(map[string]bool)
	for _, h := range holders {
		if h.Node == r.Node {
			mine[h.Nickname.Key()] = true
		}
	}
	for _, s := range members {
		if mine[s.nick.Key()] || !r.stays(s) {
			continue
		}
		r.log.Warn("a user's nickname was freed by another node; claiming it again", "nick", s.nick.String())
		switch order, err := r.Names.Claim(ctx, s.nick); {
		case err == nil && !r.stays(s):
			r.release(s.nick) // it left meanwhile
		case err == nil:
			if err := r.joined(s.nick, order, r.srv.noticeFrame(domain.JoinText(s.nick.String()))); err != nil {
				r.log.Warn("announcing a user again", "err", err)
			}
		case errors.Is(err, domain.ErrNicknameTaken):
			r.lose(s)
		default:
			r.log.Warn("claiming a freed nickname again", "err", err)
		}
	}
}

// stays tells whether s is a member whose leave has not begun.
func (r *roomState) stays(s *session) bool {
	srv := r.srv
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return !r.leaving[s] && s.memberIndex < len(srv.members) && srv.members[s.memberIndex] == s
}

// remoteUsers appends the remote users with the order they were learned
// in. Server.mu must be held.
func (r *roomState) remoteUsers(add func(seq uint64, nick string)) {
	for _, users := range r.remote {
		for _, u := range users {
			add(u.joinSeq, u.nick)
		}
	}
}

// claim takes nick for a login: in the room's registry (with the claim's
// order), or in this server's (order 0).
func (srv *Server) claim(nick domain.Nickname) (uint64, error) {
	if srv.room == nil {
		return 0, srv.names.Claim(nick)
	}
	return srv.room.claim(nick)
}

// unclaim gives back a nickname claimed for a login that did not join.
func (srv *Server) unclaim(nick domain.Nickname) {
	if srv.room == nil {
		srv.names.Release(nick)
		return
	}
	srv.room.release(nick)
}

// announce encodes the join notice of nick and, in a room, publishes it
// first with the order of its claim: a join the other servers could not
// be told of is refused (the nickname given back).
func (srv *Server) announce(nick domain.Nickname, order uint64) ([]byte, error) {
	notice := srv.noticeFrame(domain.JoinText(nick.String()))
	if srv.room == nil {
		return notice, nil
	}
	if err := srv.room.joined(nick, order, notice); err != nil {
		srv.room.log.Warn("a join not published; login refused", "err", err)
		srv.room.release(nick)
		return nil, domain.ErrRoomLoginDown
	}
	return notice, nil
}
