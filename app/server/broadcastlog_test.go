package server

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"weak"

	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"pcx/adapters/dictcodec"
	"pcx/adapters/sysclock"
	"pcx/domain"
	"pcx/ports"
	"pcx/ports/mocks"
)

// These tests drive the shared log and the sessions' cursors directly,
// without writer goroutines: take and written stand for the writer.

type quietConn struct{ ports.Conn }

func (quietConn) RemoteAddr() string        { return "192.0.2.1:4000" }
func (quietConn) Close() error              { return nil }
func (quietConn) Reader() ports.FrameReader { return nil }
func (quietConn) Writer() ports.FrameWriter { return nil }

func logServer(cfg Config) *Server {
	return &Server{
		cfg:      cfg.Defaults(),
		feed:     newBroadcastLog(),
		log:      slog.New(slog.DiscardHandler),
		codec:    dictcodec.New(),
		clock:    sysclock.New(),
		names:    domain.NewRegistry(),
		metrics:  discardMetrics{},
		sessions: make(map[*session]struct{}),
	}
}

// member joins a session as the server's join does, without a notice.
func (srv *Server) member() *session {
	s := newSession(srv, quietConn{})
	srv.mu.Lock()
	defer srv.mu.Unlock()
	s.startReading(srv.feed.end())
	s.memberIndex = len(srv.members)
	srv.members = append(srv.members, s)
	return s
}

// drain plays the writer: it takes and "writes" until nothing is left and
// returns the records in wire order.
func drain(s *session) []string {
	var got []string
	for {
		t := s.take(nil)
		for _, f := range t.frames {
			got = append(got, string(f.record))
		}
		s.written(&t)
		s.release(t.frames)
		if !t.more {
			return got
		}
	}
}

func say(srv *Server, from *session, text string) {
	srv.broadcast(outFrame{record: []byte(text)}, from)
}

func TestLogCursorReadsEveryEntryInOrderAcrossChunks(t *testing.T) {
	srv := logServer(Config{})
	sender, r := srv.member(), srv.member()
	var want []string
	for i := range 3*chunkLen + 5 {
		text := fmt.Sprint("m", i)
		say(srv, sender, text)
		want = append(want, text)
	}
	require.Equal(t, want, drain(r))
	require.Empty(t, drain(sender), "a sender is never sent its own messages")
	head := srv.feed.headPos()
	require.Equal(t, head, r.cursor.pos)
	require.Equal(t, head, r.held, "after a write the receiver holds nothing")
	require.Equal(t, int64(len(want)), head.seq)
}

func TestPrivateFramesKeepTheirPlace(t *testing.T) {
	srv := logServer(Config{})
	sender, r := srv.member(), srv.member()
	say(srv, sender, "m1")
	r.enqueue(outFrame{record: []byte("p1")})
	say(srv, sender, "m2")
	r.enqueue(outFrame{record: []byte("p2")})
	r.enqueue(outFrame{record: []byte("p3")})
	say(srv, sender, "m3")
	require.Equal(t, []string{"m1", "p1", "m2", "p2", "p3", "m3"}, drain(r))
}

// An idle connection keeps no private queue sized for the last storm of
// refusals: it goes once the writer has taken it.
func TestAStormOfPrivateFramesLeavesNoQueueBehind(t *testing.T) {
	srv := logServer(Config{})
	r := srv.member()
	for range 10 * maxKeptPrivate {
		r.enqueue(outFrame{record: []byte("refused")})
	}
	require.Len(t, drain(r), 10*maxKeptPrivate)
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Zero(t, cap(r.private), "the private queue of the storm is let go")
	require.Zero(t, cap(r.pending))
}

func TestBatchesAreBounded(t *testing.T) {
	srv := logServer(Config{})
	sender, r := srv.member(), srv.member()
	for range 3 * maxBatchFrames {
		say(srv, sender, "x")
	}
	tk := r.take(nil)
	require.Len(t, tk.frames, maxBatchFrames)
	require.True(t, tk.more)
}

func TestOwnMessagesDoNotCountAgainstTheSender(t *testing.T) {
	srv := logServer(Config{})
	a, b := srv.member(), srv.member()
	say(srv, a, "own")
	head := srv.feed.headPos()
	require.Equal(t, head.mem, a.ownBehind.mem)
	require.Zero(t, a.behindLocked(head), "the log keeps a's message for b, not for a")
	// a's writer is busy with b's message when a speaks again.
	say(srv, b, "from b")
	busy := a.take(nil)
	require.Len(t, busy.frames, 1)
	say(srv, b, "from b again")
	say(srv, a, "own again")
	head = srv.feed.headPos()
	require.Equal(t, head.mem-a.held.mem-a.ownBehind.mem, a.behindLocked(head))
	a.written(&busy)
	require.Equal(t, []string{"from b again"}, drain(a))
	require.Zero(t, a.ownBehind)
	require.Equal(t, head, a.held)
	require.Zero(t, a.behindLocked(head))
}

func TestEmptyTextsAreNotFree(t *testing.T) {
	// Each empty record costs entryOverhead: a receiver that reads nothing
	// is cut off after MaxQueue/entryOverhead of them, not never.
	const n = 1000
	srv := logServer(Config{MaxRecord: 16, MaxQueue: n * entryOverhead})
	metrics := mocks.NewMockMetrics(gomock.NewController(t))
	metrics.EXPECT().Event(ports.CutOff, ports.ReasonSlowQueue) // once, and nothing else
	srv.metrics = metrics
	sender, sleeper := srv.member(), srv.member()
	for i := range n {
		say(srv, sender, "")
		require.False(t, sleeper.killed, "cut off after %d empty records", i+1)
	}
	say(srv, sender, "")
	require.True(t, sleeper.killed)
	require.EqualValues(t, 1, srv.counters.SlowConsumer.Load())
}

func TestMaxMemoryCutsTheFurthestBehindFirst(t *testing.T) {
	srv := logServer(Config{MaxMemory: 64 << 10})
	sender := srv.member()
	far, near, reader := srv.member(), srv.member(), srv.member()
	text := string(make([]byte, 1000))
	for i := 0; !near.killed; i++ {
		require.Less(t, i, 1000, "nobody was cut off")
		say(srv, sender, text)
		drain(sender)
		drain(reader)
		if i < 20 {
			drain(near) // near falls behind 20 messages after far
		}
		if far.killed && !near.killed {
			require.Less(t, srv.feed.headPos().mem-near.held.mem, int64(64<<10))
		}
	}
	require.True(t, far.killed, "the furthest behind goes first")
	require.False(t, reader.killed)
	require.False(t, sender.killed)
	require.EqualValues(t, 2, srv.counters.MaxMemory.Load())
	require.Zero(t, srv.counters.SlowConsumer.Load())
}

// diskAttachment is an attachment held on disk, counting its references.
type diskAttachment struct {
	size int64
	refs atomic.Int64
}

func (a *diskAttachment) Size() int64                  { return a.size }
func (a *diskAttachment) Bytes() []byte                { return nil }
func (a *diskAttachment) Open() (io.ReadCloser, error) { return nil, io.EOF }
func (a *diskAttachment) Retain()                      { a.refs.Add(1) }
func (a *diskAttachment) Release()                     { a.refs.Add(-1) }

func TestBacklogOnDiskCutsOffAndReleasesEveryReference(t *testing.T) {
	srv := logServer(Config{MaxBacklog: 10 << 20})
	sender, reader, sleeper := srv.member(), srv.member(), srv.member()
	var atts []*diskAttachment
	for i := 0; !sleeper.killed; i++ {
		require.Less(t, i, 20)
		a := &diskAttachment{size: 3 << 20}
		a.Retain() // the sender's own reference
		srv.broadcast(outFrame{record: []byte("file"), payload: a}, sender)
		a.Release()
		atts = append(atts, a)
		drain(reader)
	}
	require.Len(t, atts, 4, "cut off when over 10 MiB waiting on disk")
	require.False(t, reader.killed)
	require.EqualValues(t, 1, srv.counters.Backlog.Load())
	srv.leave(sleeper)
	for i, a := range atts {
		require.Zero(t, a.refs.Load(), "attachment %d still referenced", i)
	}
}

func TestLogChunksAreFreedOnceEveryCursorHasPassed(t *testing.T) {
	srv := logServer(Config{})
	sender, r := srv.member(), srv.member()
	first := weak.Make(srv.feed.headChunk)
	for range 2 * chunkLen {
		say(srv, sender, "x")
	}
	runtime.GC()
	require.NotNil(t, first.Value(), "r still needs the first chunk")
	drain(r)
	drain(sender)
	runtime.GC()
	require.Nil(t, first.Value(), "no cursor needs the first chunk any more")
	runtime.KeepAlive(srv) // its members and their cursors stay live
}

// visibilityCheck is an attachment that fails the test when a reference
// is taken once its log entry is visible to the writers: a writer could
// by then have sent it and dropped the last reference.
type visibilityCheck struct {
	diskAttachment
	t      *testing.T
	feed   *broadcastLog
	before int64
}

func (a *visibilityCheck) Retain() {
	if a.feed.headSeq.Load() != a.before {
		a.t.Error("a receiver's reference was taken after the entry was visible")
	}
	a.diskAttachment.Retain()
}

func TestReferencesAreTakenBeforeTheEntryIsVisible(t *testing.T) {
	srv := logServer(Config{})
	sender, r1, r2 := srv.member(), srv.member(), srv.member()
	a := &visibilityCheck{diskAttachment: diskAttachment{size: 1 << 20}, t: t, feed: srv.feed, before: srv.feed.headSeq.Load()}
	a.diskAttachment.Retain() // the sender's
	srv.broadcast(outFrame{record: []byte("file"), payload: a}, sender)
	require.EqualValues(t, 3, a.refs.Load(), "the sender's and one for each receiver")
	a.diskAttachment.Release()
	drain(r1)
	drain(r2)
	drain(sender)
	require.Zero(t, a.refs.Load())
}
