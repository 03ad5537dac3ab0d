package nats_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	gonats "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pcxnats "pcx/adapters/nats"
	"pcx/internal/natstest"
	"pcx/ports"
	"pcx/ports/bustest"
	"pcx/ports/namestest"
)

func listenBus(t *testing.T, c *pcxnats.Conn) (*pcxnats.Bus, *bustest.Recorder) {
	t.Helper()
	b, err := pcxnats.NewBus(c, room)
	require.NoError(t, err)
	rec := bustest.NewRecorder(t)
	require.NoError(t, b.Listen(rec))
	t.Cleanup(func() { _ = b.Close() })
	rec.WaitLink(t, true)
	return b, rec
}

// Many senders on three nodes, each node on its own server of a cluster:
// every receiver gets each sender's messages in order, and each node's.
func TestPerSenderOrderAcrossServers(t *testing.T) {
	const (
		senders   = 20
		perSender = 100
	)
	cluster := natstest.StartCluster(t, 3)
	names := []string{"a", "b", "c"}
	buses := make([]*pcxnats.Bus, 3)
	recs := make([]*bustest.Recorder, 3)
	for i, s := range cluster {
		buses[i], recs[i] = listenBus(t, dial(t, names[i], s.URL()))
	}
	// Routes carry interest a moment after the subscription, and core
	// NATS drops what no one is known to want: say hello until every node
	// has heard every other one.
	heardAll := func() bool {
		for _, r := range recs {
			from := make(map[string]bool)
			for _, ev := range r.Events() {
				from[ev.Node] = true
			}
			if len(from) < 2 {
				return false
			}
		}
		return true
	}
	require.Eventually(t, func() bool {
		for i, b := range buses {
			require.NoError(t, b.Publish(context.Background(), bustest.Message(names[i], "hello")))
		}
		return heardAll()
	}, 10*time.Second, 50*time.Millisecond)
	var wg sync.WaitGroup
	for i, b := range buses {
		for s := range senders {
			wg.Go(func() {
				nick := fmt.Sprintf("%s%d", names[i], s)
				for k := range perSender {
					assert.NoError(t, b.Publish(context.Background(), bustest.Message(nick, fmt.Sprint(k))))
				}
			})
		}
	}
	wg.Wait()
	for i, r := range recs {
		// Hellos still in flight may come after warm: count the messages.
		var got []ports.BusEvent
		r.WaitFor(t, "every message", func(evs []ports.BusEvent, _ map[string]uint64, _ []bool) bool {
			n := 0
			for _, ev := range evs {
				if string(ev.Record) != "hello" {
					n++
				}
			}
			got = slices.Clone(evs)
			return n == 2*senders*perSender
		})
		next := make(map[string]int)
		seq := make(map[string]uint64)
		for _, ev := range got {
			if last, ok := seq[ev.Node]; ok {
				require.Equal(t, last+1, ev.Seq, "%s's numbers on %s", ev.Node, names[i])
			}
			seq[ev.Node] = ev.Seq
			if string(ev.Record) == "hello" {
				continue
			}
			require.Equal(t, fmt.Sprint(next[ev.Nickname]), string(ev.Record), "%s's order on %s", ev.Nickname, names[i])
			next[ev.Nickname]++
		}
		assert.Len(t, next, 2*senders)
		assert.Empty(t, r.MissedCounts())
	}
}

// A forged event that skips numbers is reported as a hole, then delivered;
// one that repeats a number, one in the receiver's own name and bytes that
// are no event are dropped.
func TestGapIsReported(t *testing.T) {
	s := natstest.Start(t)
	_, rec := listenBus(t, dial(t, "a", s.URL()))
	raw, err := gonats.Connect(s.URL())
	require.NoError(t, err)
	t.Cleanup(raw.Close)

	const subject = "pcx." + room + ".events"
	forge := func(seq uint64, node, text string) {
		ev := ports.BusEvent{Kind: ports.BusMessage, Node: node, Seq: seq, Nickname: "ghost", Record: []byte(text)}
		require.NoError(t, raw.Publish(subject, pcxnats.EncodeForTest(ev, 9)))
	}
	forge(1, "x", "one")
	forge(2, "x", "two")
	forge(6, "x", "six")             // 3, 4 and 5 lost
	forge(6, "x", "six again")       // a repeat: dropped
	forge(4, "x", "late four")       // too late: dropped
	forge(1, "a", "in a's own name") // dropped
	require.NoError(t, raw.Publish(subject, []byte("not an event")))
	forge(7, "x", "seven")
	require.NoError(t, raw.Flush())

	got := rec.WaitEvents(t, 4)
	var texts []string
	for _, ev := range got {
		texts = append(texts, string(ev.Record))
	}
	assert.Equal(t, []string{"one", "two", "six", "seven"}, texts)
	assert.Equal(t, map[string]uint64{"x": 3}, rec.MissedCounts())

	// A new run of x (another epoch) starts again at 1: no hole.
	ev := ports.BusEvent{Kind: ports.BusJoin, Node: "x", Seq: 1, Nickname: "ghost", Record: []byte("rejoined")}
	require.NoError(t, raw.Publish(subject, pcxnats.EncodeForTest(ev, 10)))
	rec.WaitEvents(t, 5)
	assert.Equal(t, map[string]uint64{"x": 3}, rec.MissedCounts())
}

// A node that stops putting its heartbeat (its process killed: its
// connection drops without deleting the key) is seen gone by the others
// within the TTL and a third of it, plus the server's expiry timer.
func TestNodeHeartbeatExpires(t *testing.T) {
	const ttl = time.Second
	s := natstest.Start(t)
	a, err := pcxnats.NewNodes(context.Background(), dial(t, "a", s.URL()), room, ttl, pcxnats.StoreOptions{})
	require.NoError(t, err)
	bConn := dial(t, "b", s.URL())
	b, err := pcxnats.NewNodes(context.Background(), bConn, room, ttl, pcxnats.StoreOptions{})
	require.NoError(t, err)
	waitGone := namestest.WatchNodes(t, []ports.Nodes{a, b})
	namestest.WaitAlive(t, a, "a", "b")
	time.Sleep(ttl) // b has beaten since: its key is fresher than at start

	bConn.Close() // b's heartbeats fail from now on; its key stays
	took := waitGone(0, "b", 3*ttl)
	t.Logf("b seen gone %v after its connection closed (ttl %v)", took, ttl)
	namestest.WaitAlive(t, a, "a")
}

// A node killed (its key left to expire) is restarted with its name: it is
// refused while the old heartbeat lives (by Check, the first look, and by
// Watch), told how old it is, and starts once it expired, within the TTL
// plus the server's expiry timer.
func TestNodeNameFreedByExpiry(t *testing.T) {
	const ttl = time.Second
	s := natstest.Start(t)
	oldConn := dial(t, "a", s.URL())
	old, err := pcxnats.NewNodes(context.Background(), oldConn, room, ttl, pcxnats.StoreOptions{})
	require.NoError(t, err)
	require.NoError(t, old.Check(context.Background()), "a name never used")
	require.NoError(t, old.Watch(func(string) {}))
	t.Cleanup(func() { _ = old.Close() })
	oldConn.Close() // killed: no more heartbeats, its key stays
	killed := time.Now()

	again, err := pcxnats.NewNodes(context.Background(), dial(t, "a", s.URL()), room, ttl, pcxnats.StoreOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = again.Close() })
	var alive *ports.NodeAliveError
	require.ErrorAs(t, again.Check(context.Background()), &alive, "the first look")
	err = again.Watch(func(string) {})
	require.ErrorAs(t, err, &alive)
	assert.Equal(t, "a", alive.Node)
	assert.Less(t, alive.Age, ttl)
	for deadline := time.Now().Add(3 * ttl); ; time.Sleep(50 * time.Millisecond) {
		err = again.Watch(func(string) {})
		if err == nil {
			break
		}
		require.ErrorAs(t, err, &alive)
		require.True(t, time.Now().Before(deadline), "still refused %v after the kill", time.Since(killed))
	}
	t.Logf("the name was free %v after the kill (ttl %v)", time.Since(killed), ttl)
	namestest.WaitAlive(t, again, "a")
}

// NATS restarted on the same port and store: the bus reports the link lost
// and back, publishing fails meanwhile (nothing is held to be sent late),
// the nicknames survive, and the numbers go on without a hole.
func TestNATSRestart(t *testing.T) {
	s := natstest.Start(t)
	ca, cb := dial(t, "a", s.URL()), dial(t, "b", s.URL())
	busA, recA := listenBus(t, ca)
	_, recB := listenBus(t, cb)
	names, err := pcxnats.NewNames(context.Background(), ca, room, pcxnats.StoreOptions{})
	require.NoError(t, err)
	ctx := context.Background()
	before, err := names.Claim(ctx, namestest.Nick(t, "Ivan"))
	require.NoError(t, err)
	require.NoError(t, busA.Publish(ctx, bustest.Message("Ivan", "before")))
	recB.WaitEvents(t, 1)

	s.Stop()
	recA.WaitLink(t, false)
	recB.WaitLink(t, false)
	require.ErrorIs(t, busA.Publish(ctx, bustest.Message("Ivan", "while down")), ports.ErrBusDown)
	claimCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = names.Claim(claimCtx, namestest.Nick(t, "Olga"))
	require.ErrorIs(t, err, ports.ErrNamesDown)

	s.Restart()
	recA.WaitLink(t, true)
	recB.WaitLink(t, true)
	held, err := names.List(ctx)
	require.NoError(t, err)
	require.Len(t, held, 1)
	assert.Equal(t, "a", held[0].Node)
	assert.Equal(t, "Ivan", held[0].Nickname.String())
	_, err = names.Claim(ctx, namestest.Nick(t, "ivan"))
	require.ErrorIs(t, err, domainTaken)
	// The store kept its revisions: a claim after the restart is ordered
	// after the one before it.
	after, err := names.Claim(ctx, namestest.Nick(t, "Olga"))
	require.NoError(t, err)
	assert.Greater(t, after, before)

	require.NoError(t, busA.Publish(ctx, bustest.Message("Ivan", "after")))
	got := recB.WaitEvents(t, 2)
	assert.Equal(t, "after", string(got[1].Record))
	assert.Equal(t, uint64(2), got[1].Seq)
	assert.Empty(t, recB.MissedCounts())
}

// One server of three killed: a node on it reconnects to another (learnt
// from the cluster), its bus link comes back, and nicknames kept on three
// replicas are all still there.
func TestServerOfClusterLost(t *testing.T) {
	cluster := natstest.StartCluster(t, 3)
	ca, cb := dial(t, "a", cluster[0].URL()), dial(t, "b", cluster[1].URL())
	busA, recA := listenBus(t, ca)
	_, recB := listenBus(t, cb)
	ctx := context.Background()
	opts := pcxnats.StoreOptions{Replicas: 3}
	namesA, err := pcxnats.NewNames(ctx, ca, room, opts)
	require.NoError(t, err)
	namesB, err := pcxnats.NewNames(ctx, cb, room, opts)
	require.NoError(t, err)
	_, err = namesA.Claim(ctx, namestest.Nick(t, "Ivan"))
	require.NoError(t, err)

	cluster[0].Stop()
	recA.WaitFor(t, "the link lost", func(_ []ports.BusEvent, _ map[string]uint64, l []bool) bool {
		return slices.Contains(l, false)
	})
	recA.WaitLink(t, true)
	assert.Empty(t, recB.Links()[1:], "b's server stayed up")

	// The bucket may be electing a new leader for a moment.
	require.Eventually(t, func() bool {
		_, err := namesA.Claim(ctx, namestest.Nick(t, "Olga"))
		return err == nil
	}, 10*time.Second, 100*time.Millisecond)
	_, err = namesB.Claim(ctx, namestest.Nick(t, "ivan"))
	require.ErrorIs(t, err, domainTaken)
	// A list is a new consumer, which the cluster may place on the
	// server lost until it knows better: callers retry.
	var held []ports.NameHolder
	require.Eventually(t, func() bool {
		var err error
		held, err = namesB.List(ctx)
		return err == nil
	}, 20*time.Second, 100*time.Millisecond)
	var got []string
	for _, h := range held {
		got = append(got, h.Node+":"+h.Nickname.String())
	}
	assert.ElementsMatch(t, []string{"a:Ivan", "a:Olga"}, got)

	require.Eventually(t, func() bool {
		require.NoError(t, busA.Publish(ctx, bustest.Message("Ivan", "after")))
		return len(recB.Events()) > 0
	}, 10*time.Second, 50*time.Millisecond)
	assert.Empty(t, recB.MissedCounts())
}
