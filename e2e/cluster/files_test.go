package cluster_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pcx/domain"
	"pcx/internal/testpeer"
	"pcx/ports/filesharetest"
)

// expectFile reads p's records until nick's message saying text, and
// requires its attachment name and, right after it, its payload.
func expectFile(t *testing.T, p *testpeer.Peer, nick, text, name string, data []byte) {
	t.Helper()
	until(t, p, nick, text)
	require.Equal(t, sha256.Sum256(data), sha256.Sum256(p.NextPayload()), "the payload of %q changed on the way", text)
}

// A file sent on one node reaches the clients of the two others byte for
// byte, right after its record, and a text its sender sends after it
// comes after it; meanwhile another node's sender is not held up.
func TestFilesAcrossThreeNodes(t *testing.T) {
	t.Parallel()
	_, nodes := startRoom(t, 3)
	peers := loginEach(t, nodes)
	sender := peers[0]
	big := filesharetest.Payload(6<<20+123, 1)
	small := filesharetest.Payload(1000, 2)
	sender.SendRaw(testpeer.Encode("text", "the big file", "attachment", "big.bin"), big)
	sender.SendRaw(testpeer.Encode("text", "the small file", "attachment", "small.bin"), small)
	sender.SendRaw(testpeer.Encode("text", "an empty file", "attachment", "empty.bin"), nil)
	sender.SendRecord("text", "after the files")

	var wg sync.WaitGroup
	for _, p := range peers[1:] {
		wg.Go(func() {
			// Each record and its payload are adjacent, in the order sent.
			rec := nextFrom(t, p, "user0")
			require.Equal(t, "the big file", rec.Text.Str)
			att, _ := rec.GetString("attachment")
			require.Equal(t, "big.bin", att)
			got := p.NextPayload()
			require.Len(t, got, len(big))
			require.True(t, bytes.Equal(big, got), "the big file changed on the way")
			rec = nextFrom(t, p, "user0")
			require.Equal(t, "the small file", rec.Text.Str)
			require.Equal(t, small, p.NextPayload())
			rec = nextFrom(t, p, "user0")
			require.Equal(t, "an empty file", rec.Text.Str)
			require.Empty(t, p.NextPayload())
			rec = nextFrom(t, p, "user0")
			require.Equal(t, "after the files", rec.Text.Str)
		})
	}
	wg.Wait()

	// Files go every way, and one from a node's own user reaches its
	// other clients too.
	local := nodes[2].login("local")
	for _, p := range peers {
		until(t, p, "SERVER", domain.JoinText("local"))
	}
	data := filesharetest.Payload(300<<10, 3)
	peers[2].SendRaw(testpeer.Encode("text", "from n2", "attachment", "c.bin"), data)
	for _, p := range []*testpeer.Peer{peers[0], peers[1], local} {
		expectFile(t, p, "user2", "from n2", "c.bin", data)
	}
}

// nextFrom returns p's next record of nick, skipping SERVER notices.
func nextFrom(t *testing.T, p *testpeer.Peer, nick string) testpeer.Record {
	t.Helper()
	for {
		rec := p.Next()
		if rec.Nickname.Str == nick {
			return rec
		}
		require.Equal(t, "SERVER", rec.Nickname.Str, "a record of %s came between: %s", rec.Nickname.Str, rec.Body)
	}
}

// spoolDir is the --spool-dir the node was started with.
func (n *node) spoolDir() string {
	for i, a := range n.cmd.Args {
		if a == "--spool-dir" && i+1 < len(n.cmd.Args) {
			return n.cmd.Args[i+1]
		}
	}
	return ""
}

// spooling tells whether a payload file in n's spool has begun to fill.
func (n *node) spooling() bool {
	files, _ := filepath.Glob(filepath.Join(n.spoolDir(), "pcx-spool-*", "payload-*"))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
			return true
		}
	}
	return false
}

// A node killed while another fetches its user's file: the other node's
// users never get part of it; they are told it is lost, and then that the
// sender left, and the node's spool holds nothing of it.
func TestFileOfANodeKilledMidFetchIsANotice(t *testing.T) {
	t.Parallel()
	_, nodes := startRoom(t, 2)
	receiver := nodes[1].login("receiver")
	sender := nodes[0].login("sender")
	until(t, receiver, "SERVER", domain.JoinText("sender"))

	big := filesharetest.Payload(1<<20, 9)
	go func() {
		// Errors are expected: the node dies under it.
		_ = sender.Conn.Writer().WriteFrames([][]byte{testpeer.Encode("text", "the file", "attachment", "big.bin")})
		_ = sender.Conn.Writer().WritePayload(512<<20, io.LimitReader(&repeat{block: big}, 512<<20))
	}()
	deadline := time.Now().Add(2 * time.Minute)
	for !nodes[1].spooling() {
		require.True(t, time.Now().Before(deadline), "the file never began to come to n1")
		time.Sleep(2 * time.Millisecond)
	}
	nodes[0].kill()
	for _, rec := range until(t, receiver, "SERVER", domain.RoomFileLostText("sender")) {
		require.NotEqual(t, "sender", rec.Nickname.Str, "a record of the sender came before the notice: %s", rec.Body)
	}
	until(t, receiver, "SERVER", domain.LeaveText("sender"))
	nodes[1].expectLog("an attachment from another node could not be fetched")
	require.Eventually(t, func() bool { return !nodes[1].spooling() }, wait, 10*time.Millisecond,
		"the spool of n1 still holds part of the file")
}
