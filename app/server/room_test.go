package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/adapters/localroom"
	"pcx/adapters/memory"
	"pcx/adapters/sysclock"
	"pcx/app/server"
	"pcx/domain"
	"pcx/internal/testpeer"
	"pcx/ports"
)

// startNode starts a server that is node of room, on its own in-memory
// network, with bus as its bus (nil: the room's).
func startNode(t *testing.T, room *localroom.Room, node string, bus ports.RoomBus) *harness {
	t.Helper()
	return startNodeWith(t, room, node, bus, nil, 0)
}

func startNodeWith(t *testing.T, room *localroom.Room, node string, bus ports.RoomBus, metrics ports.Metrics, checkEvery time.Duration) *harness {
	t.Helper()
	if bus == nil {
		bus = room.Bus(node)
	}
	r := &server.Room{Node: node, Bus: bus, Names: room.Names(node), Nodes: room.Nodes(node), Timeout: time.Second, CheckEvery: checkEvery}
	return serveNode(t, r, nil, metrics)
}

// serveNode runs a server that is r's node, on its own in-memory network,
// with spool and metrics (either may be nil), until the test ends.
func serveNode(t *testing.T, r *server.Room, spool ports.Spool, metrics ports.Metrics) *harness {
	t.Helper()
	network := memory.NewNetwork()
	l, err := network.Listen("pcx")
	require.NoError(t, err)
	srv, err := server.New(server.Config{ShutdownGrace: time.Second}, l, dictcodec.New(), sysclock.New(), spool, metrics, r, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, network: network, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
			h.done <- nil
		case <-time.After(testpeer.Timeout):
			t.Error("the server did not stop")
		}
	})
	return h
}

// stopNode shuts a node down and waits for it.
func stopNode(t *testing.T, h *harness) {
	t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		require.NoError(t, err)
		h.done <- nil
	case <-time.After(testpeer.Timeout):
		t.Fatal("the server did not stop")
	}
}

// until reads p's records until one from nick saying text.
func until(t *testing.T, p *testpeer.Peer, nick, text string) {
	t.Helper()
	for {
		if rec := p.Next(); rec.Nickname.Str == nick && rec.Text.Str == text {
			return
		}
	}
}

// who asks p who is online and returns the users.
func who(t *testing.T, p *testpeer.Peer) []string {
	t.Helper()
	p.SendRecord("command", "who")
	for {
		rec := p.Next()
		if rec.HasUsers {
			return rec.Users
		}
	}
}

func TestRoomJoinMessageWhoAndLeaveAcrossServers(t *testing.T) {
	room := localroom.NewRoom()
	a := startNode(t, room, "a", nil)
	b := startNode(t, room, "b", nil)

	ivan := a.login("Ivan")
	maria := b.login("Maria")
	ivan.Expect("SERVER", domain.JoinText("Maria"))

	ivan.SendRecord("text", "Hello")
	// Maria logged in after Ivan: his join is not hers to see, however
	// late the bus brought it.
	maria.Expect("Ivan", "Hello")
	maria.SendRecord("text", "Hi")
	ivan.Expect("Maria", "Hi")

	require.Equal(t, []string{"Ivan", "Maria"}, who(t, maria))
	require.Equal(t, []string{"Ivan", "Maria"}, who(t, ivan))

	// The nickname is the room's: taken on the other server too, in any
	// case and look-alike.
	olga := b.dial()
	olga.SendRecord("nickname", "IVAN")
	olga.ExpectStatus("error: this nickname is already taken")

	require.NoError(t, ivan.Conn.Close())
	maria.Expect("SERVER", domain.LeaveText("Ivan"))
	require.Equal(t, []string{"Maria"}, who(t, maria))
	// Free again once its holder is gone, on any server.
	olga.Login("ivan")
	maria.Expect("SERVER", domain.JoinText("ivan"))
}

// A second server given a live node's name does not start, and leaves the
// room as it was: the first's users stay, on every node, and chat on; no
// leave is told. Once the first stops, the name starts at once.
func TestRoomNodeOfALiveNodesNameIsRefused(t *testing.T) {
	room := localroom.NewRoom()
	a := startNode(t, room, "a", nil)
	b := startNode(t, room, "b", nil)
	ivan := a.login("Ivan")
	maria := b.login("Maria")
	ivan.Expect("SERVER", domain.JoinText("Maria"))

	twin := startNode(t, room, "a", nil)
	select {
	case err := <-twin.done:
		twin.done <- nil // for the cleanup
		var alive *ports.NodeAliveError
		require.ErrorAs(t, err, &alive)
		require.Equal(t, "a", alive.Node)
	case <-time.After(testpeer.Timeout):
		t.Fatal("a server given a live node's name started")
	}
	maria.ExpectSilence(300 * time.Millisecond)
	require.Equal(t, []string{"Ivan", "Maria"}, who(t, maria))
	ivan.SendRecord("text", "still here")
	maria.Expect("Ivan", "still here")
	olga := b.dial()
	olga.SendRecord("nickname", "ivan")
	olga.ExpectStatus("error: this nickname is already taken")

	stopNode(t, a)
	maria.Expect("SERVER", domain.LeaveText("Ivan"))
	again := startNode(t, room, "a", nil)
	again.login("Ivan")
	maria.Expect("SERVER", domain.JoinText("Ivan"))
}

// A server that stops: its users get the shutdown notice; the others see
// each of them leave, once (the shutdown event and the node's end both
// say it).
func TestRoomServerShutdownIsEachUserLeavingOnce(t *testing.T) {
	room := localroom.NewRoom()
	a := startNode(t, room, "a", nil)
	b := startNode(t, room, "b", nil)
	ivan := a.login("Ivan")
	maria := b.login("Maria")
	ivan.Expect("SERVER", domain.JoinText("Maria"))
	b.login("Olga")
	ivan.Expect("SERVER", domain.JoinText("Olga"))
	maria.Expect("SERVER", domain.JoinText("Olga"))

	stopNode(t, b)
	got := []string{ivan.Next().Text.Str, ivan.Next().Text.Str}
	slices.Sort(got)
	require.Equal(t, []string{domain.LeaveText("Maria"), domain.LeaveText("Olga")}, got)
	ivan.ExpectSilence(300 * time.Millisecond)
	require.Equal(t, []string{"Ivan"}, who(t, ivan))

	// Their nicknames are free.
	a.login("Maria")
}

// A node that dies without a word: once the room sees it gone, its users
// leave, once each, and their nicknames are free.
func TestRoomNodeGoneIsItsUsersLeaving(t *testing.T) {
	room := localroom.NewRoom()
	a := startNode(t, room, "a", nil)
	ivan := a.login("Ivan")

	// A node driven by hand: a user Olga joins, then the node dies.
	ghostBus, ghostNodes, ghostNames := room.Bus("ghost"), room.Nodes("ghost"), room.Names("ghost")
	require.NoError(t, ghostBus.Listen(nopReceiver{}))
	require.NoError(t, ghostNodes.Watch(func(string) {}))
	olga, err := domain.ParseNickname("Olga")
	require.NoError(t, err)
	order, err := ghostNames.Claim(context.Background(), olga)
	require.NoError(t, err)
	join := encodeNotice(t, domain.JoinText("Olga"))
	require.NoError(t, ghostBus.Publish(context.Background(), ports.BusEvent{Kind: ports.BusJoin, Nickname: "Olga", Order: order, Record: join}))
	ivan.Expect("SERVER", domain.JoinText("Olga"))
	require.Equal(t, []string{"Ivan", "Olga"}, who(t, ivan))

	require.NoError(t, ghostBus.Close())
	require.NoError(t, ghostNodes.Close())
	ivan.Expect("SERVER", domain.LeaveText("Olga"))
	ivan.ExpectSilence(300 * time.Millisecond)
	a.login("olga")
	ivan.Expect("SERVER", domain.JoinText("olga"))
}

func encodeNotice(t *testing.T, text string) []byte {
	t.Helper()
	n := domain.Notice(time.Now(), text)
	return dictcodec.New().AppendRelay(nil, &n)
}

// heldBus is a node's bus whose deliveries the test holds back, as a
// slow bus would: the events come in later, in their order.
type heldBus struct {
	ports.RoomBus
	mu      sync.Mutex // guards rcv, holding, held; held while delivering
	rcv     ports.BusReceiver
	holding bool
	held    []ports.BusEvent
}

func (h *heldBus) Listen(r ports.BusReceiver) error {
	h.mu.Lock()
	h.rcv = r
	h.mu.Unlock()
	return h.RoomBus.Listen(heldReceiver{h})
}

// hold keeps every event from now on until release.
func (h *heldBus) hold() {
	h.mu.Lock()
	h.holding = true
	h.mu.Unlock()
}

// release delivers what was held, in order, and lets the next through.
func (h *heldBus) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ev := range h.held {
		h.rcv.Receive(ev)
	}
	h.held, h.holding = nil, false
}

type heldReceiver struct{ h *heldBus }

func (r heldReceiver) Receive(ev ports.BusEvent) {
	r.h.mu.Lock()
	defer r.h.mu.Unlock()
	if r.h.holding {
		r.h.held = append(r.h.held, ev)
		return
	}
	r.h.rcv.Receive(ev)
}

func (r heldReceiver) Missed(node string, count uint64) { r.h.rcv.Missed(node, count) }
func (r heldReceiver) Link(up bool)                     { r.h.rcv.Link(up) }

// A join reaches the members of another node in the room's order of
// nickname claims, however late the bus brings it: Xavier logs in on a
// before Mia does on b, but b hears of him only after Mia is in. Old, who
// came before both, sees both joins; Mia does not see Xavier's (he was
// there when she came), yet has him in who and gets his messages and his
// leave. The same holds the other way round: Mia's join reaches Xavier.
func TestRoomJoinGoesOnlyToThoseWhoClaimedBefore(t *testing.T) {
	room := localroom.NewRoom()
	bus := &heldBus{RoomBus: room.Bus("b")}
	a := startNode(t, room, "a", nil)
	b := startNode(t, room, "b", bus)
	old := b.login("Old")

	bus.hold()
	xavier := a.login("Xavier") // after Old: no join notice of Old
	mia := b.login("Mia")
	old.Expect("SERVER", domain.JoinText("Mia"))
	// On a, Mia's join comes after Xavier's login: she claimed later.
	xavier.Expect("SERVER", domain.JoinText("Mia"))
	bus.release()
	old.Expect("SERVER", domain.JoinText("Xavier"))

	xavier.SendRecord("text", "hello")
	mia.Expect("Xavier", "hello") // the next record: no join notice before it
	old.Expect("Xavier", "hello")
	users := who(t, mia)
	slices.Sort(users)
	require.Equal(t, []string{"Mia", "Old", "Xavier"}, users)
	mia.SendRecord("text", "hi")
	xavier.Expect("Mia", "hi")
	old.Expect("Mia", "hi")

	require.NoError(t, xavier.Conn.Close())
	mia.Expect("SERVER", domain.LeaveText("Xavier"))
	old.Expect("SERVER", domain.LeaveText("Xavier"))
	mia.ExpectSilence(100 * time.Millisecond)
}

type nopReceiver struct{}

func (nopReceiver) Receive(ports.BusEvent) {}
func (nopReceiver) Missed(string, uint64)  {}
func (nopReceiver) Link(bool)              {}

// flakyBus is a node's bus whose link the test cuts and restores.
type flakyBus struct {
	ports.RoomBus
	mu   sync.Mutex
	rcv  ports.BusReceiver
	down bool
}

func (f *flakyBus) Listen(r ports.BusReceiver) error {
	f.mu.Lock()
	f.rcv = r
	f.mu.Unlock()
	return f.RoomBus.Listen(r)
}

func (f *flakyBus) Publish(ctx context.Context, ev ports.BusEvent) error {
	f.mu.Lock()
	down := f.down
	f.mu.Unlock()
	if down {
		return fmt.Errorf("flaky: %w", ports.ErrBusDown)
	}
	return f.RoomBus.Publish(ctx, ev)
}

func (f *flakyBus) link(up bool) {
	f.mu.Lock()
	f.down = !up
	r := f.rcv
	f.mu.Unlock()
	r.Link(up)
}

// The link lost: the node's users are told, its logins and messages
// refused (no one gets such a message, not even the users of the same
// node); back, the nicknames are claimed again, and a user whose nickname
// another server's user took meanwhile is told and cut off, while the
// others go on.
func TestRoomLinkLostAndBack(t *testing.T) {
	room := localroom.NewRoom()
	bus := &flakyBus{RoomBus: room.Bus("a")}
	a := startNode(t, room, "a", bus)
	b := startNode(t, room, "b", nil)
	ivan := a.login("Ivan")
	olga := a.login("Olga")
	ivan.Expect("SERVER", domain.JoinText("Olga"))
	maria := b.login("Maria")
	ivan.Expect("SERVER", domain.JoinText("Maria"))
	olga.Expect("SERVER", domain.JoinText("Maria"))

	bus.link(false)
	ivan.Expect("SERVER", domain.RoomLostText)
	olga.Expect("SERVER", domain.RoomLostText)
	ivan.SendRecord("text", "anyone?")
	ivan.Expect("SERVER", domain.ErrorText(domain.ErrRoomMessageDown))
	newcomer := a.dial()
	newcomer.SendRecord("nickname", "Nina")
	newcomer.ExpectStatus("error: " + domain.ErrRoomLoginDown.Error())

	// Meanwhile the others saw node a gone (as they would once its
	// heartbeat expired) and freed its names; Ivan's is taken on b.
	require.NoError(t, room.Names("b").ReleaseNode(context.Background(), "a"))
	ivan2 := b.login("Ivan")

	bus.link(true)
	// Ivan hears of the new Ivan (events from the others came in all
	// along), then that he lost the name.
	recs := ivan.ExpectClosed()
	require.NotEmpty(t, recs)
	require.Equal(t, domain.ErrorText(domain.ErrNicknameLost), recs[len(recs)-1].Text.Str)
	until(t, olga, "SERVER", domain.RoomBackText)
	olga.SendRecord("text", "back")
	until(t, maria, "Olga", "back")
	until(t, ivan2, "Olga", "back")
	// Logins are open again; the nickname Ivan stays b's user's.
	newcomer.SendRecord("nickname", "Nina")
	newcomer.ExpectStatus("success")
	// Node a's Ivan leaves b's list once his session's end is through.
	want := []string{"Ivan", "Maria", "Nina", "Olga"}
	var users []string
	for deadline := time.Now().Add(testpeer.Timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		users = who(t, maria)
		slices.Sort(users)
		if slices.Equal(users, want) {
			break
		}
	}
	require.Equal(t, want, users)
}

// countingMetrics keeps the counters.
type countingMetrics struct {
	mu       sync.Mutex
	counters [ports.NumCounters]int
	events   map[ports.Reason]int
}

func (m *countingMetrics) Add(c ports.Counter, n int) {
	m.mu.Lock()
	m.counters[c] += n
	m.mu.Unlock()
}

func (m *countingMetrics) Event(_ ports.MetricEvent, r ports.Reason) {
	m.mu.Lock()
	if m.events == nil {
		m.events = map[ports.Reason]int{}
	}
	m.events[r]++
	m.mu.Unlock()
}

func (m *countingMetrics) ObserveDelivery(time.Duration) {}

func (m *countingMetrics) get(c ports.Counter) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counters[c]
}

// Holes in another node's events are counted; a remote message with an
// attachment is skipped (files between nodes are not relayed yet); a
// message of a remote user never announced comes after a join notice made
// here; bus events in and out are counted.
func TestRoomHolesAttachmentsAndUnknownSenders(t *testing.T) {
	room := localroom.NewRoom()
	bus := &flakyBus{RoomBus: room.Bus("a")}
	metrics := &countingMetrics{}
	a := startNodeWith(t, room, "a", bus, metrics, 0)
	ivan := a.login("Ivan")
	require.Equal(t, 1, metrics.get(ports.BusEventsOut), "Ivan's join")

	bus.mu.Lock()
	rcv := bus.rcv
	bus.mu.Unlock()
	rcv.Missed("ghost", 3)
	require.Equal(t, 3, metrics.get(ports.BusEventsMissed))

	hello := func(nick, text string) []byte {
		rel := domain.Relayed(time.Now(), nick, domain.ChatMessage{Text: text})
		return dictcodec.New().AppendRelay(nil, &rel)
	}
	// Zed holds his name, as a user of another node does before any event
	// of his (the reconciliation that Missed started may look).
	zed, err := domain.ParseNickname("Zed")
	require.NoError(t, err)
	ghostNames := room.Names("ghost")
	_, err = ghostNames.Claim(context.Background(), zed)
	require.NoError(t, err)
	rcv.Receive(ports.BusEvent{Kind: ports.BusMessage, Node: "ghost", Seq: 4, Nickname: "Zed", Record: hello("Zed", "a file"),
		Attachment: &ports.BusAttachment{ID: "1", Size: 10}})
	rcv.Receive(ports.BusEvent{Kind: ports.BusMessage, Node: "ghost", Seq: 5, Nickname: "Zed", Record: hello("Zed", "hi")})
	ivan.Expect("SERVER", domain.JoinText("Zed"))
	ivan.Expect("Zed", "hi")
	require.Equal(t, 2, metrics.get(ports.BusEventsIn))
	// Zed's join heard late is not told twice; his leave is told once.
	rcv.Receive(ports.BusEvent{Kind: ports.BusJoin, Node: "ghost", Seq: 6, Nickname: "Zed", Record: encodeNotice(t, domain.JoinText("Zed"))})
	require.NoError(t, ghostNames.Release(context.Background(), zed))
	rcv.Receive(ports.BusEvent{Kind: ports.BusLeave, Node: "ghost", Seq: 7, Nickname: "Zed", Record: encodeNotice(t, domain.LeaveText("Zed"))})
	rcv.Receive(ports.BusEvent{Kind: ports.BusShutdown, Node: "ghost", Seq: 8})
	ivan.Expect("SERVER", domain.LeaveText("Zed"))
	ivan.ExpectSilence(200 * time.Millisecond)

	ivan.SendRecord("text", "out")
	require.Eventually(t, func() bool { return metrics.get(ports.BusEventsOut) == 2 }, testpeer.Timeout, time.Millisecond)
}

// Another node took this one for gone (a late heartbeat) and freed its
// users' names: the periodic check claims them again and announces the
// users again; a user whose name was taken meanwhile is told and cut off.
func TestRoomNamesFreedByAnotherNodeAreClaimedAgain(t *testing.T) {
	room := localroom.NewRoom()
	a := startNodeWith(t, room, "a", nil, nil, 20*time.Millisecond)
	b := startNode(t, room, "b", nil)
	ivan := a.login("Ivan")
	maria := b.login("Maria")
	ivan.Expect("SERVER", domain.JoinText("Maria"))

	require.NoError(t, room.Names("b").ReleaseNode(context.Background(), "a"))
	require.Eventually(t, func() bool {
		holders, err := room.Names("b").List(context.Background())
		return err == nil && slices.Contains(holders, ports.NameHolder{Node: "a", Nickname: mustNick(t, "Ivan")})
	}, testpeer.Timeout, 5*time.Millisecond)
	other := b.dial()
	other.SendRecord("nickname", "ivan")
	other.ExpectStatus("error: this nickname is already taken")
	ivan.SendRecord("text", "still mine")
	until(t, maria, "Ivan", "still mine")
}

func TestRoomNameFreedAndTakenElsewhereCutsTheLocalUserOff(t *testing.T) {
	room := localroom.NewRoom()
	bus := &flakyBus{RoomBus: room.Bus("a")}
	a := startNodeWith(t, room, "a", bus, nil, time.Hour)
	b := startNode(t, room, "b", nil)
	ivan := a.login("Ivan")
	b.login("Maria")
	ivan.Expect("SERVER", domain.JoinText("Maria"))

	require.NoError(t, room.Names("b").ReleaseNode(context.Background(), "a"))
	b.login("IVAN")
	bus.mu.Lock()
	rcv := bus.rcv
	bus.mu.Unlock()
	rcv.Missed("b", 1) // a check now
	recs := ivan.ExpectClosed()
	require.NotEmpty(t, recs)
	require.Equal(t, domain.ErrorText(domain.ErrNicknameLost), recs[len(recs)-1].Text.Str)
}

func mustNick(t *testing.T, s string) domain.Nickname {
	t.Helper()
	n, err := domain.ParseNickname(s)
	require.NoError(t, err)
	return n
}

// A user claimed again after a lost link has a new order: a node that had
// seen it leave (it took the user's node for gone) tells its join to the
// members who claimed before the new claim, once; a member who claimed
// after it gets no join notice, but the user's messages.
func TestRoomUserClaimedAgainIsAnnouncedByItsNewOrder(t *testing.T) {
	room := localroom.NewRoom()
	busA, busB := &flakyBus{RoomBus: room.Bus("a")}, &heldBus{RoomBus: room.Bus("b")}
	a := startNodeWith(t, room, "a", busA, nil, time.Hour)
	b := startNodeWith(t, room, "b", busB, nil, time.Hour)
	ivan := a.login("Ivan")
	maria := b.login("Maria")
	ivan.Expect("SERVER", domain.JoinText("Maria"))

	busA.link(false)
	ivan.Expect("SERVER", domain.RoomLostText)
	// Node b takes a for gone: Ivan leaves, his name is freed.
	require.NoError(t, room.Names("b").ReleaseNode(context.Background(), "a"))
	heldReceiver{busB}.Receive(ports.BusEvent{Kind: ports.BusShutdown, Node: "a", Seq: 1 << 40})
	maria.Expect("SERVER", domain.LeaveText("Ivan"))

	busB.hold()
	busA.link(true) // Ivan's name is claimed again, his join published
	ivan.Expect("SERVER", domain.RoomBackText)
	nina := b.login("Nina") // claims after Ivan's new claim
	maria.Expect("SERVER", domain.JoinText("Nina"))
	busB.release()
	maria.Expect("SERVER", domain.JoinText("Ivan"))
	ivan.Expect("SERVER", domain.JoinText("Nina"))

	ivan.SendRecord("text", "back")
	nina.Expect("Ivan", "back") // no join notice before it
	maria.Expect("Ivan", "back")
	maria.ExpectSilence(100 * time.Millisecond)
	users := who(t, nina)
	slices.Sort(users)
	require.Equal(t, []string{"Ivan", "Maria", "Nina"}, users)
}
