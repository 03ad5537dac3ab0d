package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/adapters/diskspool"
	"pcx/adapters/localroom"
	"pcx/adapters/memory"
	"pcx/adapters/sysclock"
	"pcx/app/server"
	"pcx/domain"
	"pcx/internal/testpeer"
	"pcx/ports"
)

// fileNode is a node of a room with a spool and a file share.
type fileNode struct {
	*harness
	spool *diskspool.Spool
}

// startFileNode starts node with its own spool (payloads over 1 KiB on
// disk) and files as its share (nil: the room's, with 16 KiB chunks).
func startFileNode(t *testing.T, room *localroom.Room, node string, files ports.FileShare) *fileNode {
	return startFileNodeOn(t, room, node, files, room.Bus(node))
}

func startFileNodeOn(t *testing.T, room *localroom.Room, node string, files ports.FileShare, bus ports.RoomBus) *fileNode {
	t.Helper()
	spool, err := diskspool.New(diskspool.Options{Dir: t.TempDir(), MemoryThreshold: 1 << 10})
	require.NoError(t, err)
	t.Cleanup(func() { spool.Close() }) // after the server's own cleanup: cleanups run last first
	if files == nil {
		files = room.Files(node, 16<<10)
	}
	r := &server.Room{Node: node, Bus: bus, Names: room.Names(node), Nodes: room.Nodes(node),
		Files: files, Timeout: time.Second}
	return &fileNode{harness: serveNode(t, r, spool, nil), spool: spool}
}

// gatedShare is a node's share whose fetches wait for the gate to open,
// and then fail with fail when it is set.
type gatedShare struct {
	ports.FileShare
	gate    chan struct{}
	fail    error
	started atomic.Int64
}

func gated(share ports.FileShare) *gatedShare {
	return &gatedShare{FileShare: share, gate: make(chan struct{})}
}

func (g *gatedShare) Fetch(ctx context.Context, node, id string, size int64, w io.Writer) error {
	g.started.Add(1)
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	if g.fail != nil {
		return g.fail
	}
	return g.FileShare.Fetch(ctx, node, id, size, w)
}

// waitFetch waits until n fetches have started.
func (g *gatedShare) waitFetch(t *testing.T, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return g.started.Load() >= n }, testpeer.Timeout, time.Millisecond)
}

// expectFile requires a message of nick saying text with attachment name
// and then, adjacent, its payload data.
func expectFile(t *testing.T, p *testpeer.Peer, nick, text, name string, data []byte) {
	t.Helper()
	rec := p.Next()
	if rec.Nickname.Str == "SERVER" && rec.Text.Str == domain.JoinText(nick) {
		rec = p.Next()
	}
	require.Equal(t, [2]string{nick, text}, [2]string{rec.Nickname.Str, rec.Text.Str}, "record %s", rec.Body)
	att, _ := rec.GetString("attachment")
	require.Equal(t, name, att)
	require.True(t, bytes.Equal(data, p.NextPayload()), "the payload changed on the way")
}

func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed ^ byte(i>>10)
	}
	return b
}

// A file sent on one node reaches the users of the others whole, right
// after its record, in every size; the origin's spool is empty again once
// everyone has it.
func TestRoomFilesReachEveryNode(t *testing.T) {
	room := localroom.NewRoom()
	a := startFileNode(t, room, "a", nil)
	b := startFileNode(t, room, "b", nil)
	c := startFileNode(t, room, "c", nil)
	ivan := a.login("Ivan")
	maria := b.login("Maria")
	olga := c.login("Olga")
	ivan.Expect("SERVER", domain.JoinText("Maria"))
	ivan.Expect("SERVER", domain.JoinText("Olga"))
	maria.Expect("SERVER", domain.JoinText("Olga"))
	local := a.login("Local")
	maria.Expect("SERVER", domain.JoinText("Local"))
	olga.Expect("SERVER", domain.JoinText("Local"))

	for i, size := range []int{0, 1, 1000, 16<<10 - 1, 16 << 10, 16<<10 + 1, 3<<20 + 5} {
		data := payload(size, byte(i))
		ivan.SendRaw(testpeer.Encode("text", "file", "attachment", "f.bin"), data)
		for _, p := range []*testpeer.Peer{local, maria, olga} {
			expectFile(t, p, "Ivan", "file", "f.bin", data)
		}
	}
	ivan.SendRecord("text", "after the files")
	for _, p := range []*testpeer.Peer{local, maria, olga} {
		p.Expect("Ivan", "after the files")
	}
	for _, n := range []*fileNode{a, b, c} {
		require.Eventually(t, func() bool { return n.spool.Used() == 0 }, testpeer.Timeout, 10*time.Millisecond,
			"a spool still holds files once every node and user has them")
	}
}

// While a sender's file is being fetched, its later messages and its leave
// wait behind it; other senders' messages do not.
func TestRoomFileHoldsUpOnlyItsSender(t *testing.T) {
	room := localroom.NewRoom()
	a := startFileNode(t, room, "a", nil)
	share := gated(room.Files("b", 16<<10))
	b := startFileNode(t, room, "b", share)
	c := startFileNode(t, room, "c", nil)
	maria := b.login("Maria")
	ivan := a.login("Ivan")
	maria.Expect("SERVER", domain.JoinText("Ivan"))
	olga := c.login("Olga")
	maria.Expect("SERVER", domain.JoinText("Olga"))

	data := payload(100<<10, 1)
	ivan.SendRaw(testpeer.Encode("text", "the file", "attachment", "f.bin"), data)
	ivan.SendRecord("text", "after the file")
	share.waitFetch(t, 1)
	olga.SendRecord("text", "meanwhile")
	maria.Expect("Olga", "meanwhile")
	require.NoError(t, ivan.Conn.Close())
	// Olga's node is not held up: she has it all, the leave last.
	expectFile(t, olga, "Ivan", "the file", "f.bin", data)
	olga.Expect("Ivan", "after the file")
	olga.Expect("SERVER", domain.LeaveText("Ivan"))
	maria.ExpectSilence(100 * time.Millisecond)

	close(share.gate)
	expectFile(t, maria, "Ivan", "the file", "f.bin", data)
	maria.Expect("Ivan", "after the file")
	maria.Expect("SERVER", domain.LeaveText("Ivan"))
}

// A file that cannot be fetched is not relayed in part: the users are told,
// and the sender's later messages follow.
func TestRoomFileThatCannotBeFetchedIsANotice(t *testing.T) {
	room := localroom.NewRoom()
	a := startFileNode(t, room, "a", nil)
	share := gated(room.Files("b", 16<<10))
	share.fail = ports.ErrFileOriginGone
	close(share.gate)
	b := startFileNode(t, room, "b", share)
	maria := b.login("Maria")
	ivan := a.login("Ivan")
	maria.Expect("SERVER", domain.JoinText("Ivan"))

	ivan.SendRaw(testpeer.Encode("text", "the file", "attachment", "f.bin"), payload(50<<10, 2))
	ivan.SendRecord("text", "after the file")
	maria.Expect("SERVER", domain.RoomFileLostText("Ivan"))
	maria.Expect("Ivan", "after the file")
	require.Eventually(t, func() bool { return b.spool.Used() == 0 }, testpeer.Timeout, 10*time.Millisecond)
}

// A file over the receiving node's spool is refused there, with the
// notice; the node goes on.
func TestRoomFileOverTheSpoolIsANotice(t *testing.T) {
	room := localroom.NewRoom()
	a := startFileNode(t, room, "a", nil)
	network := memory.NewNetwork()
	l, err := network.Listen("pcx")
	require.NoError(t, err)
	spool, err := diskspool.New(diskspool.Options{Dir: t.TempDir(), MemoryThreshold: 1 << 10, MaxBytes: 64 << 10})
	require.NoError(t, err)
	defer spool.Close()
	r := &server.Room{Node: "b", Bus: room.Bus("b"), Names: room.Names("b"), Nodes: room.Nodes("b"),
		Files: room.Files("b", 16<<10), Timeout: time.Second}
	srv, err := server.New(server.Config{ShutdownGrace: time.Second}, l, dictcodec.New(), sysclock.New(), spool, nil, r, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	b := &harness{t: t, network: network}

	maria := b.login("Maria")
	ivan := a.login("Ivan")
	maria.Expect("SERVER", domain.JoinText("Ivan"))
	ivan.SendRaw(testpeer.Encode("text", "too big there", "attachment", "f.bin"), payload(100<<10, 3))
	maria.Expect("SERVER", domain.RoomFileLostText("Ivan"))
	small := payload(10<<10, 4)
	ivan.SendRaw(testpeer.Encode("text", "fits", "attachment", "g.bin"), small)
	expectFile(t, maria, "Ivan", "fits", "g.bin", small)
}

// A node that shuts down while its user's file is being fetched: the file
// (or the notice that it was lost) comes before that user's leave.
func TestRoomNodeEndWaitsForItsFiles(t *testing.T) {
	room := localroom.NewRoom()
	a := startFileNode(t, room, "a", nil)
	share := gated(room.Files("b", 16<<10))
	b := startFileNode(t, room, "b", share)
	maria := b.login("Maria")
	ivan := a.login("Ivan")
	maria.Expect("SERVER", domain.JoinText("Ivan"))
	a.login("Pavel")
	maria.Expect("SERVER", domain.JoinText("Pavel"))

	ivan.SendRaw(testpeer.Encode("text", "the file", "attachment", "f.bin"), payload(40<<10, 5))
	share.waitFetch(t, 1)
	stopNode(t, a.harness)
	maria.ExpectSilence(100 * time.Millisecond)
	close(share.gate)
	maria.Expect("SERVER", domain.RoomFileLostText("Ivan")) // its origin is gone
	var left []string
	for range 2 {
		rec := maria.Next()
		require.Equal(t, "SERVER", rec.Nickname.Str)
		left = append(left, rec.Text.Str)
	}
	require.ElementsMatch(t, []string{domain.LeaveText("Ivan"), domain.LeaveText("Pavel")}, left)
}

// fileRefusingBus refuses to publish messages with an attachment, as a
// bus that is down would.
type fileRefusingBus struct{ ports.RoomBus }

func (f fileRefusingBus) Publish(ctx context.Context, ev ports.BusEvent) error {
	if ev.Attachment != nil {
		return ports.ErrBusDown
	}
	return f.RoomBus.Publish(ctx, ev)
}

// A file whose message the bus refused is not kept for the other nodes:
// the sender is told, and the origin's spool lets it go at once.
func TestRoomFileNotPublishedIsNotKept(t *testing.T) {
	room := localroom.NewRoom()
	a := startFileNodeOn(t, room, "a", nil, fileRefusingBus{room.Bus("a")})
	b := startFileNode(t, room, "b", nil)
	maria := b.login("Maria")
	ivan := a.login("Ivan")
	maria.Expect("SERVER", domain.JoinText("Ivan"))
	ivan.SendRaw(testpeer.Encode("text", "the file", "attachment", "f.bin"), payload(50<<10, 6))
	ivan.Expect("SERVER", domain.ErrorText(domain.ErrRoomMessageDown))
	require.Eventually(t, func() bool { return a.spool.Used() == 0 }, testpeer.Timeout, 10*time.Millisecond,
		"the origin keeps a file no one will fetch")
	ivan.SendRecord("text", "then a text")
	maria.Expect("Ivan", "then a text")
}
