// Package bustest holds the contract suite of the room bus port
// (ports.RoomBus): every adapter of the port runs it from its own tests, so
// that the application may rely on one behaviour whichever bus joins its
// nodes.
package bustest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/ports"
)

// patience bounds how long the suite waits for what must happen; it turns a
// hang into a failure, it is not a performance bound.
const patience = 10 * time.Second

// Factory returns one bus per node name, all of one room, none listening
// yet. The suite closes them; the factory cleans up what is behind them.
type Factory func(t *testing.T, nodes ...string) []ports.RoomBus

// Run runs the contract suite against the buses f makes.
func Run(t *testing.T, f Factory) {
	t.Run("others receive every event in order, never their own", func(t *testing.T) { testOthersReceive(t, f) })
	t.Run("concurrent publishers keep each node's order", func(t *testing.T) { testConcurrentOrder(t, f) })
	t.Run("close stops delivery and publishing", func(t *testing.T) { testClose(t, f) })
	t.Run("a stuck receiver holds up neither publisher nor others", func(t *testing.T) { testStuckReceiver(t, f) })
}

// Recorder is a ports.BusReceiver that keeps what it is given.
type Recorder struct {
	mu     sync.Mutex // guards events, missed, links, closed
	events []ports.BusEvent
	missed map[string]uint64
	links  []bool
	// closed is set by the test once Close returned; a call after it fails.
	closed  bool
	changed chan struct{} // one slot: something was recorded
	t       *testing.T
}

// NewRecorder returns an empty recorder.
func NewRecorder(t *testing.T) *Recorder {
	return &Recorder{missed: make(map[string]uint64), changed: make(chan struct{}, 1), t: t}
}

func (r *Recorder) record(f func()) {
	r.mu.Lock()
	if r.closed {
		r.t.Error("the bus called its receiver after Close returned")
	}
	f()
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Receive implements ports.BusReceiver.
func (r *Recorder) Receive(ev ports.BusEvent) {
	r.record(func() { r.events = append(r.events, ev) })
}

// Missed implements ports.BusReceiver.
func (r *Recorder) Missed(node string, count uint64) {
	r.record(func() { r.missed[node] += count })
}

// Link implements ports.BusReceiver.
func (r *Recorder) Link(up bool) {
	r.record(func() { r.links = append(r.links, up) })
}

// MarkClosed records that the bus's Close returned.
func (r *Recorder) MarkClosed() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

// Events returns a copy of the events received so far.
func (r *Recorder) Events() []ports.BusEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// Missed returns the holes reported so far, by node.
func (r *Recorder) MissedCounts() map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]uint64, len(r.missed))
	for k, v := range r.missed {
		out[k] = v
	}
	return out
}

// Links returns the link states reported so far.
func (r *Recorder) Links() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.links)
}

// WaitFor waits until cond, called under the recorder's lock, holds.
func (r *Recorder) WaitFor(t *testing.T, what string, cond func(events []ports.BusEvent, missed map[string]uint64, links []bool) bool) {
	t.Helper()
	deadline := time.After(patience)
	for {
		r.mu.Lock()
		ok := cond(r.events, r.missed, r.links)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("waited %v for %s", patience, what)
		}
	}
}

// WaitEvents waits until n events are received.
func (r *Recorder) WaitEvents(t *testing.T, n int) []ports.BusEvent {
	t.Helper()
	r.WaitFor(t, fmt.Sprintf("%d events", n), func(ev []ports.BusEvent, _ map[string]uint64, _ []bool) bool { return len(ev) >= n })
	return r.Events()
}

// WaitLink waits until the last link state reported is up.
func (r *Recorder) WaitLink(t *testing.T, up bool) {
	t.Helper()
	r.WaitFor(t, fmt.Sprintf("link up=%v", up), func(_ []ports.BusEvent, _ map[string]uint64, l []bool) bool {
		return len(l) > 0 && l[len(l)-1] == up
	})
}

// listen starts every bus with its own recorder, closes them at the end,
// and waits until each reports its link up.
func listen(t *testing.T, buses []ports.RoomBus) []*Recorder {
	t.Helper()
	recs := make([]*Recorder, len(buses))
	for i, b := range buses {
		recs[i] = NewRecorder(t)
		require.NoError(t, b.Listen(recs[i]))
		t.Cleanup(func() { _ = b.Close() })
	}
	for _, r := range recs {
		r.WaitLink(t, true)
	}
	return recs
}

// Message returns a message event of nick with text as its record.
func Message(nick, text string) ports.BusEvent {
	return ports.BusEvent{Kind: ports.BusMessage, Nickname: nick, Record: []byte(text)}
}

func testOthersReceive(t *testing.T, f Factory) {
	buses := f(t, "a", "b", "c")
	recs := listen(t, buses)
	ctx := context.Background()

	sent := []ports.BusEvent{
		{Kind: ports.BusJoin, Nickname: "Ivan", Order: 1<<40 + 3, Record: []byte("joined")},
		Message("Ivan", "first"),
		{Kind: ports.BusMessage, Nickname: "Ivan", Record: []byte("a file"), Attachment: &ports.BusAttachment{ID: "spool-7", Size: 1 << 30}},
		{Kind: ports.BusMessage, Nickname: "Ivan", Record: []byte{}},
		{Kind: ports.BusLeave, Nickname: "Ivan", Record: []byte("left")},
		{Kind: ports.BusShutdown, Node: "forged", Seq: 99},
	}
	for _, ev := range sent {
		require.NoError(t, buses[0].Publish(ctx, ev))
	}
	for _, r := range recs[1:] {
		got := r.WaitEvents(t, len(sent))
		require.Len(t, got, len(sent))
		for i, ev := range got {
			want := sent[i]
			want.Node, want.Seq = "a", uint64(i+1)
			assert.Equal(t, want.Kind, ev.Kind, "event %d", i)
			assert.Equal(t, want.Node, ev.Node, "event %d", i)
			assert.Equal(t, want.Seq, ev.Seq, "event %d", i)
			assert.Equal(t, want.Nickname, ev.Nickname, "event %d", i)
			assert.Equal(t, want.Order, ev.Order, "event %d: a join's claim order", i)
			assert.Equal(t, string(want.Record), string(ev.Record), "event %d", i)
			assert.Equal(t, want.Attachment, ev.Attachment, "event %d", i)
		}
		assert.Empty(t, r.MissedCounts())
	}

	// Node a never hears itself: once it has b's marker, which b sent
	// after a's events were delivered everywhere, it would have them.
	require.NoError(t, buses[1].Publish(ctx, Message("Olga", "marker")))
	got := recs[0].WaitEvents(t, 1)
	require.Len(t, got, 1)
	assert.Equal(t, "b", got[0].Node)
	assert.Equal(t, uint64(1), got[0].Seq)
	assert.Equal(t, "marker", string(got[0].Record))
	assert.Empty(t, recs[0].MissedCounts())
}

func testConcurrentOrder(t *testing.T, f Factory) {
	const (
		nodes     = 3
		senders   = 4  // goroutines publishing on each node
		perSender = 50 // events each
	)
	names := []string{"n0", "n1", "n2"}
	buses := f(t, names...)
	recs := listen(t, buses)
	ctx := context.Background()

	var wg sync.WaitGroup
	for i, b := range buses {
		for s := range senders {
			wg.Go(func() {
				nick := fmt.Sprintf("%s-user%d", names[i], s)
				for k := range perSender {
					if err := b.Publish(ctx, Message(nick, fmt.Sprint(k))); err != nil {
						t.Errorf("publish: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()

	for i, r := range recs {
		got := r.WaitEvents(t, (nodes-1)*senders*perSender)
		require.Len(t, got, (nodes-1)*senders*perSender, "receiver %s", names[i])
		lastSeq := make(map[string]uint64)
		lastText := make(map[string]int)
		for _, ev := range got {
			require.NotEqual(t, names[i], ev.Node, "a node received its own event")
			require.Equal(t, lastSeq[ev.Node]+1, ev.Seq, "events of %s out of order on %s", ev.Node, names[i])
			lastSeq[ev.Node] = ev.Seq
			var k int
			_, err := fmt.Sscan(string(ev.Record), &k)
			require.NoError(t, err)
			prev, seen := lastText[ev.Nickname]
			if !seen {
				prev = -1
			}
			require.Equal(t, prev+1, k, "messages of %s out of order on %s", ev.Nickname, names[i])
			lastText[ev.Nickname] = k
		}
		assert.Empty(t, r.MissedCounts())
	}
}

func testClose(t *testing.T, f Factory) {
	buses := f(t, "a", "b")
	recs := listen(t, buses)
	ctx := context.Background()

	require.NoError(t, buses[0].Publish(ctx, Message("Ivan", "before")))
	recs[1].WaitEvents(t, 1)

	require.NoError(t, buses[1].Close())
	recs[1].MarkClosed()
	for range 20 {
		require.NoError(t, buses[0].Publish(ctx, Message("Ivan", "after")))
	}
	require.ErrorIs(t, buses[1].Publish(ctx, Message("Olga", "x")), ports.ErrBusClosed)

	require.NoError(t, buses[0].Close())
	require.ErrorIs(t, buses[0].Publish(ctx, Message("Ivan", "x")), ports.ErrBusClosed)
	recs[0].MarkClosed()
	require.NoError(t, buses[0].Close(), "Close twice")
}

// stuckReceiver blocks in its first Receive until released.
type stuckReceiver struct {
	*Recorder
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *stuckReceiver) Receive(ev ports.BusEvent) {
	s.once.Do(func() {
		close(s.entered)
		<-s.release
	})
	s.Recorder.Receive(ev)
}

func testStuckReceiver(t *testing.T, f Factory) {
	const n = 1000
	buses := f(t, "a", "b", "c")
	stuck := &stuckReceiver{Recorder: NewRecorder(t), entered: make(chan struct{}), release: make(chan struct{})}
	require.NoError(t, buses[1].Listen(stuck))
	other := NewRecorder(t)
	require.NoError(t, buses[2].Listen(other))
	require.NoError(t, buses[0].Listen(NewRecorder(t)))
	for _, b := range buses {
		t.Cleanup(func() { _ = b.Close() })
	}
	stuck.WaitLink(t, true)
	other.WaitLink(t, true)
	ctx := context.Background()

	require.NoError(t, buses[0].Publish(ctx, Message("Ivan", "first")))
	select {
	case <-stuck.entered:
	case <-time.After(patience):
		t.Fatal("the first event never reached b")
	}
	done := make(chan error, 1)
	go func() {
		for k := range n {
			if err := buses[0].Publish(ctx, Message("Ivan", fmt.Sprint(k))); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(patience):
		t.Fatal("publishing waited for a stuck receiver")
	}
	other.WaitEvents(t, n+1)

	close(stuck.release)
	got := stuck.WaitEvents(t, n+1)
	for i, ev := range got {
		require.Equal(t, uint64(i+1), ev.Seq)
	}
	assert.Empty(t, stuck.MissedCounts())
}
