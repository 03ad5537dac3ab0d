package cluster_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/domain"
	"pcx/internal/natstest"
	"pcx/internal/testpeer"
)

// startRoom starts NATS and n nodes of one room on it.
func startRoom(t *testing.T, n int, flags ...string) (*natstest.Server, []*node) {
	t.Helper()
	ns := natstest.Start(t)
	nodes := make([]*node, n)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { nodes[i] = startNode(t, ns.URL(), fmt.Sprint("n", i), flags...) })
	}
	wg.Wait()
	require.NotContains(t, nodes, (*node)(nil))
	return ns, nodes
}

// loginEach logs user0, user1, … in, one on each node, and waits until
// each of them has who list them all.
func loginEach(t *testing.T, nodes []*node) []*testpeer.Peer {
	t.Helper()
	var peers []*testpeer.Peer
	var nicks []string
	for i, n := range nodes {
		nicks = append(nicks, fmt.Sprint("user", i))
		peers = append(peers, n.login(nicks[i]))
	}
	for _, p := range peers {
		whoEventually(t, p, nicks...)
	}
	return peers
}

// Clients on three nodes: each one's text reaches the two others, who
// lists all three everywhere, and a leave is seen everywhere.
func TestTextsAcrossThreeNodes(t *testing.T) {
	t.Parallel()
	_, nodes := startRoom(t, 3)
	peers := loginEach(t, nodes)
	for i, p := range peers {
		p.SendRecord("text", fmt.Sprint("hello from ", i))
	}
	// Two senders' messages may come in either order (PROTOCOL.md §5).
	for i, p := range peers {
		want := map[string]string{}
		for j := range peers {
			if j != i {
				want[fmt.Sprint("user", j)] = fmt.Sprint("hello from ", j)
			}
		}
		for len(want) > 0 {
			rec := p.Next()
			if text, ok := want[rec.Nickname.Str]; ok {
				require.Equal(t, text, rec.Text.Str)
				delete(want, rec.Nickname.Str)
			}
		}
	}
	require.NoError(t, peers[2].Conn.Close())
	until(t, peers[0], "SERVER", domain.LeaveText("user2"))
	until(t, peers[1], "SERVER", domain.LeaveText("user2"))
}

// The same nickname claimed on two nodes at once, many times: exactly
// one wins each round, and the loser hears that it is taken. The nodes
// reach NATS through two servers of a cluster, the buckets on three
// replicas: the race is decided across routes.
func TestSameNicknameOnTwoNodesOneWins(t *testing.T) {
	t.Parallel()
	nats := natstest.StartCluster(t, 3)
	nodes := []*node{
		startNode(t, nats[0].URL(), "n0", "--nats-replicas", "3"),
		startNode(t, nats[1].URL(), "n1", "--nats-replicas", "3"),
	}
	for round := range 25 {
		nick := "Racer" + strconv.Itoa(round)
		a, b := nodes[0].dial(), nodes[1].dial()
		var wg sync.WaitGroup
		status := make([]string, 2)
		for i, p := range []*testpeer.Peer{a, b} {
			wg.Go(func() {
				p.SendRecord("nickname", nick)
				for {
					rec := p.Next()
					if s, ok := rec.GetString("status"); ok {
						status[i] = s
						return
					}
				}
			})
		}
		wg.Wait()
		require.ElementsMatch(t, []string{"success", "error: this nickname is already taken"}, status, "round %d", round)
	}
}

// A node killed -9: its users' leave notices reach the other nodes within
// the node TTL (2 s here) and 5 s more, once each, and their nicknames are
// free again.
func TestKilledNodeUsersLeaveWithinTTL(t *testing.T) {
	t.Parallel()
	_, nodes := startRoom(t, 2, "--node-ttl", "2s")
	watcher := nodes[0].login("watcher")
	nodes[1].login("doomed1")
	nodes[1].login("doomed2")
	whoEventually(t, watcher, "watcher", "doomed1", "doomed2")

	killed := time.Now()
	nodes[1].kill()
	left := map[string]bool{}
	for len(left) < 2 {
		rec := watcher.Next()
		if strings.HasSuffix(rec.Text.Str, `" disconnected`) {
			require.False(t, left[rec.Text.Str], "a second leave notice: %s", rec.Body)
			left[rec.Text.Str] = true
		}
	}
	took := time.Since(killed)
	t.Logf("leave notices %v after the kill", took)
	require.Less(t, took, 7*time.Second, "node TTL 2 s + 5 s")
	watcher.ExpectSilence(500 * time.Millisecond)
	nodes[0].login("doomed1")
}

// Two live servers of one node name would free each other's nicknames and
// mix their users' events: the second exits 1 with a line saying so, and
// the room is untouched. The name of a node killed -9 is refused until its
// heartbeat expires (node TTL 2 s here), then starts, within 5 s more;
// after a clean stop it starts at once.
func TestNodeNameOfALiveNodeIsRefused(t *testing.T) {
	t.Parallel()
	const ttl = "2s"
	ns, nodes := startRoom(t, 3, "--node-ttl", ttl)
	peers := loginEach(t, nodes)
	refusal := `pcx-server: joining the room over NATS: another server is running as node "n0" (its heartbeat is `
	advice := `old); give this one another --node-name, or wait --node-ttl (2s) if it was this server that stopped without cleaning up`

	twin, listening := tryNode(t, ns.URL(), "n0", "--node-ttl", ttl)
	require.False(t, listening, "a second server as node n0 started:\n%s", twin.log)
	require.Equal(t, 1, twin.cmd.ProcessState.ExitCode())
	require.Contains(t, twin.log.String(), refusal)
	require.Contains(t, twin.log.String(), advice)
	require.Equal(t, 1, strings.Count(twin.log.String(), "pcx-server:"), "one line:\n%s", twin.log)
	t.Logf("the twin said: %s", twin.log.String()[strings.Index(twin.log.String(), "pcx-server:"):])

	// n0's users are still there for the other nodes, and chat on.
	peers[2].ExpectSilence(500 * time.Millisecond)
	whoEventually(t, peers[2], "user0", "user1", "user2")
	peers[0].SendRecord("text", "still here")
	until(t, peers[1], "user0", "still here")
	until(t, peers[2], "user0", "still here")
	olga := nodes[2].dial()
	olga.SendRecord("nickname", "user0")
	olga.ExpectStatus("error: this nickname is already taken")

	killed := time.Now()
	nodes[0].kill()
	var again *node
	var refused int
	for again == nil {
		n, listening := tryNode(t, ns.URL(), "n0", "--node-ttl", ttl)
		if listening {
			again = n
			break
		}
		refused++
		time.Sleep(100 * time.Millisecond)
		require.Contains(t, n.log.String(), refusal, "a refusal for another reason")
		require.Less(t, time.Since(killed), 7*time.Second, "still refused: node TTL 2 s + 5 s")
	}
	took := time.Since(killed)
	t.Logf("node n0 started again %v after the kill (node TTL %s), refused %d times before", took, ttl, refused)
	// Its earlier run's user left, and the nickname is free.
	whoEventually(t, peers[2], "user1", "user2")
	again.login("user0")
	whoEventually(t, peers[1], "user0", "user1", "user2")

	// A clean stop deletes the heartbeat: the name is free at once.
	again.stop()
	whoEventually(t, peers[1], "user1", "user2")
	_, listening = tryNode(t, ns.URL(), "n0", "--node-ttl", ttl)
	require.True(t, listening, "node n0 refused right after a clean stop")
}

// NATS killed and restarted: every node's users are told, logins and
// messages are refused with a clear reason, and once NATS is back the room
// works again with the same users.
func TestNATSRestart(t *testing.T) {
	t.Parallel()
	ns := natstest.Start(t)
	a := startNode(t, ns.URL(), "a")
	b := startNode(t, ns.URL(), "b")
	ivan := a.login("Ivan")
	maria := b.login("Maria")
	whoEventually(t, ivan, "Ivan", "Maria")

	ns.Stop()
	until(t, ivan, "SERVER", domain.RoomLostText)
	until(t, maria, "SERVER", domain.RoomLostText)
	a.expectLog("room link lost")
	ivan.SendRecord("text", "anyone?")
	until(t, ivan, "SERVER", domain.ErrorText(domain.ErrRoomMessageDown))
	late := a.dial()
	late.SendRecord("nickname", "Late")
	late.ExpectStatus(domain.ErrorText(domain.ErrRoomLoginDown))

	ns.Restart()
	until(t, ivan, "SERVER", domain.RoomBackText)
	until(t, maria, "SERVER", domain.RoomBackText)
	ivan.SendRecord("text", "back")
	until(t, maria, "Ivan", "back")
	late.SendRecord("nickname", "Late")
	late.ExpectStatus("success")
	whoEventually(t, maria, "Ivan", "Maria", "Late")
}

// Many senders on three nodes at once: every receiver gets each sender's
// messages complete and in the order sent, wherever the sender is.
func TestPerSenderOrderAcrossNodes(t *testing.T) {
	t.Parallel()
	const sendersPerNode, messages = 4, 150
	_, nodes := startRoom(t, 3)
	var receivers []*testpeer.Peer
	var everyone []string
	for i, n := range nodes {
		receivers = append(receivers, n.login(fmt.Sprint("recv", i)))
		everyone = append(everyone, fmt.Sprint("recv", i))
	}
	var senders []*testpeer.Peer
	for i, n := range nodes {
		for j := range sendersPerNode {
			nick := fmt.Sprintf("s%d_%d", i, j)
			senders = append(senders, n.login(nick))
			everyone = append(everyone, nick)
		}
	}
	for _, r := range receivers {
		whoEventually(t, r, everyone...)
	}
	// The senders read nothing; their writers hold what they are sent.
	var wg sync.WaitGroup
	for k, s := range senders {
		wg.Go(func() {
			for m := range messages {
				if err := s.Conn.Writer().WriteFrames([][]byte{testpeer.Encode("text", strconv.Itoa(m))}); err != nil {
					t.Errorf("sender %d: %v", k, err)
					return
				}
			}
		})
	}
	for _, r := range receivers {
		wg.Go(func() {
			next := map[string]int{}
			done := 0
			for done < len(senders) {
				rec, err := nextRecord(r)
				if err != nil {
					t.Error(err)
					return
				}
				if rec.Nickname.Str == "SERVER" || strings.HasPrefix(rec.Nickname.Str, "recv") {
					continue
				}
				n, err := strconv.Atoi(rec.Text.Str)
				if err != nil || n != next[rec.Nickname.Str] {
					t.Errorf("from %s: got %q, want %d", rec.Nickname.Str, rec.Text.Str, next[rec.Nickname.Str])
					return
				}
				next[rec.Nickname.Str]++
				if next[rec.Nickname.Str] == messages {
					done++
				}
			}
		})
	}
	wg.Wait()
}

// nextRecord reads p's next record as a relay; safe from any goroutine.
func nextRecord(p *testpeer.Peer) (domain.RelayRecord, error) {
	if err := p.Conn.Reader().SetReadDeadline(time.Now().Add(wait)); err != nil {
		return domain.RelayRecord{}, err
	}
	body, err := p.Conn.Reader().ReadRecord(nil, domain.HardMaxRecord)
	if err != nil {
		return domain.RelayRecord{}, err
	}
	return dictcodec.DecodeRelay(body)
}

// A NATS server of a cluster lost: the node that used it reconnects to
// another (it was given two URLs), its users see the link lost and back,
// and the room goes on with the same users and nicknames (three replicas).
func TestNATSServerOfClusterLost(t *testing.T) {
	t.Parallel()
	nats := natstest.StartCluster(t, 3)
	a := startNode(t, nats[0].URL()+","+nats[2].URL(), "a", "--nats-replicas", "3")
	b := startNode(t, nats[1].URL(), "b", "--nats-replicas", "3")
	ivan := a.login("Ivan")
	maria := b.login("Maria")
	whoEventually(t, maria, "Ivan", "Maria")

	// Stop the NATS server node a's room link is connected to, whichever it
	// chose. Its files travel on a second connection of the same name,
	// maybe to the other server, which subscribes to file subjects only.
	used := slices.IndexFunc(nats, func(s *natstest.Server) bool {
		conns, err := s.Connz(&natsserver.ConnzOptions{Subscriptions: true})
		require.NoError(t, err)
		return slices.ContainsFunc(conns.Conns, func(c *natsserver.ConnInfo) bool {
			files := slices.ContainsFunc(c.Subs, func(sub string) bool { return strings.Contains(sub, ".files.") })
			return c.Name == "pcx a" && !files
		})
	})
	require.Contains(t, []int{0, 2}, used)
	nats[used].Stop()
	until(t, ivan, "SERVER", domain.RoomLostText)
	until(t, ivan, "SERVER", domain.RoomBackText)
	ivan.SendRecord("text", "still here")
	until(t, maria, "Ivan", "still here")
	other := b.dial()
	other.SendRecord("nickname", "ivan")
	other.ExpectStatus("error: this nickname is already taken")
}

// A node stopped cleanly (SIGTERM): its users get the shutdown notice, the
// others see each of them leave at once (well within the node TTL), once.
func TestNodeShutdownIsItsUsersLeaving(t *testing.T) {
	t.Parallel()
	_, nodes := startRoom(t, 2, "--node-ttl", "30s")
	watcher := nodes[0].login("watcher")
	leaving := nodes[1].login("leaving")
	whoEventually(t, watcher, "watcher", "leaving")

	stopped := time.Now()
	nodes[1].stop()
	until(t, leaving, "SERVER", domain.ShutdownText)
	until(t, watcher, "SERVER", domain.LeaveText("leaving"))
	require.Less(t, time.Since(stopped), 10*time.Second, "told at once, not after the 30 s TTL")
	watcher.ExpectSilence(500 * time.Millisecond)
	nodes[0].expectLog(`how="shut down"`)
	nodes[0].login("leaving")
}
