package cluster_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"pcx/domain"
	"pcx/internal/testpeer"
)

// filePayload is n bytes that differ from place to place, so that a chunk
// out of place shows.
func filePayload(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

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
	var peers []*testpeer.Peer
	for i, n := range nodes {
		peers = append(peers, n.login(fmt.Sprint("user", i)))
	}
	for _, p := range peers {
		whoEventually(t, p, "user0", "user1", "user2")
	}
	sender := peers[0]
	big := filePayload(6<<20+123, 1)
	small := filePayload(1000, 2)
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
	data := filePayload(300<<10, 3)
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
