package transporttest

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/ports"
)

// RunConnContract checks that the connections made by newPair behave as
// ports.Conn promises. newPair returns the two ends of a fresh connection;
// the suite closes them.
func RunConnContract(t *testing.T, newPair func(t *testing.T) (client, server ports.Conn)) {
	pair := func(t *testing.T) (ports.Conn, ports.Conn) {
		client, server := newPair(t)
		closeOnCleanup(t, client, server)
		return client, server
	}
	t.Run("records round-trip both ways", func(t *testing.T) { recordsRoundTrip(t, pair) })
	t.Run("many frames in one WriteFrames arrive in order", func(t *testing.T) { manyFramesInOrder(t, pair) })
	t.Run("payloads round-trip", func(t *testing.T) { payloadsRoundTrip(t, pair) })
	t.Run("a file payload round-trips", func(t *testing.T) { filePayloadRoundTrips(t, pair) })
	t.Run("a record over the limit is refused and SkipFrame resynchronises", func(t *testing.T) { recordOverLimit(t, pair) })
	t.Run("Close unblocks a blocked reader", func(t *testing.T) { closeUnblocksReader(t, pair) })
	t.Run("Close unblocks a blocked writer", func(t *testing.T) { closeUnblocksWriter(t, pair) })
	t.Run("writes after Close fail", func(t *testing.T) { writesAfterCloseFail(t, pair) })
	t.Run("a read past its deadline fails and the connection stays usable", func(t *testing.T) { readDeadline(t, pair) })
	t.Run("a peer that closes between frames gives io.EOF", func(t *testing.T) { peerCloseGivesEOF(t, pair) })
	t.Run("after CloseWrite the peer reads everything, then io.EOF", func(t *testing.T) { closeWriteDelivers(t, pair) })
	t.Run("a truncated frame gives io.ErrUnexpectedEOF", func(t *testing.T) { truncatedFrame(t, pair) })
	t.Run("a reader and a writer on each end run at once", func(t *testing.T) { concurrentReaderAndWriter(t, pair) })
	t.Run("RemoteAddr names the peer", func(t *testing.T) {
		client, server := pair(t)
		assert.NotEmpty(t, client.RemoteAddr())
		assert.NotEmpty(t, server.RemoteAddr())
	})
}

type pairFunc = func(t *testing.T) (client, server ports.Conn)

func recordsRoundTrip(t *testing.T, pair pairFunc) {
	client, server := pair(t)

	sent := writeRecords(client, `{"nickname":"Ivan"}`, `{"text":"Hello"}`)
	assert.Equal(t, []string{`{"nickname":"Ivan"}`, `{"text":"Hello"}`}, readRecords(t, server, 2))
	require.NoError(t, await(t, sent, "client WriteFrames"))

	sent = writeRecords(server, `{"status":"success"}`)
	assert.Equal(t, []string{`{"status":"success"}`}, readRecords(t, client, 1))
	require.NoError(t, await(t, sent, "server WriteFrames"))
}

func manyFramesInOrder(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	bodies := make([]string, 2000)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("%d:%s", i, strings.Repeat("x", i%300))
	}
	bodies[7] = "" // an empty frame in the middle

	sent := writeRecords(client, bodies...)

	assert.Equal(t, bodies, readRecords(t, server, len(bodies)))
	require.NoError(t, await(t, sent, "WriteFrames"))
}

func payloadsRoundTrip(t *testing.T, pair pairFunc) {
	cases := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"one byte", 1},
		{"several MiB", 5<<20 + 123},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := pair(t)
			data := randomBytes(tc.size)

			sent := async(func() error {
				if err := client.WriteFrames([][]byte{[]byte(`{"attachment":"f"}`)}); err != nil {
					return err
				}
				if err := client.WritePayload(int64(len(data)), strings.NewReader(string(data))); err != nil {
					return err
				}
				return client.WriteFrames([][]byte{[]byte("after")})
			})

			assert.Equal(t, []string{`{"attachment":"f"}`}, readRecords(t, server, 1))
			n, sum, err := readPayload(server)
			require.NoError(t, err)
			assert.Equal(t, int64(len(data)), n)
			assert.Equal(t, sha256.Sum256(data), sum)
			assert.Equal(t, []string{"after"}, readRecords(t, server, 1), "the stream is in step after the payload")
			require.NoError(t, await(t, sent, "writes"))
		})
	}
}

func filePayloadRoundTrips(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	data := randomBytes(3<<20 + 17)
	path := filepath.Join(t.TempDir(), "attachment.bin")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })

	sent := async(func() error { return client.WritePayload(int64(len(data)), f) })

	n, sum, err := readPayload(server)
	require.NoError(t, err)
	assert.Equal(t, int64(len(data)), n)
	assert.Equal(t, sha256.Sum256(data), sum)
	require.NoError(t, await(t, sent, "WritePayload"))
}

func recordOverLimit(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	sent := writeRecords(client, strings.Repeat("x", 1000), "next")

	_, err := server.ReadRecord(nil, 100)
	var tooLarge *ports.FrameTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	assert.Equal(t, ports.FrameTooLargeError{Len: 1000, Max: 100}, *tooLarge)
	require.NoError(t, server.SkipFrame())

	assert.Equal(t, []string{"next"}, readRecords(t, server, 1))
	require.NoError(t, await(t, sent, "WriteFrames"))
}

func closeUnblocksReader(t *testing.T, pair pairFunc) {
	_, server := pair(t)
	read := async(func() error {
		_, err := server.ReadRecord(nil, recordLimit)
		return err
	})
	time.Sleep(20 * time.Millisecond) // give the read time to block; it must fail either way

	require.NoError(t, server.Close())

	assert.Error(t, await(t, read, "ReadRecord after Close"))
}

func closeUnblocksWriter(t *testing.T, pair pairFunc) {
	client, _ := pair(t)
	// Far more than any socket buffer holds, so the write blocks while the
	// peer reads nothing; it must fail either way.
	const size = 256 << 20
	write := async(func() error { return client.WritePayload(size, io.LimitReader(zeroReader{}, size)) })
	time.Sleep(20 * time.Millisecond)

	require.NoError(t, client.Close())

	assert.Error(t, await(t, write, "WritePayload after Close"))
}

func writesAfterCloseFail(t *testing.T, pair pairFunc) {
	client, _ := pair(t)
	require.NoError(t, client.Close())

	assert.Error(t, client.WriteFrames([][]byte{[]byte("late")}))
	assert.Error(t, client.WritePayload(4, strings.NewReader("late")))
}

func readDeadline(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	require.NoError(t, server.SetReadDeadline(time.Now().Add(50*time.Millisecond)))

	_, err := server.ReadRecord(nil, recordLimit)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)

	require.NoError(t, server.SetReadDeadline(time.Time{}))
	sent := writeRecords(client, "still here")
	assert.Equal(t, []string{"still here"}, readRecords(t, server, 1))
	require.NoError(t, await(t, sent, "WriteFrames"))
}

func peerCloseGivesEOF(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	sent := async(func() error {
		if err := client.WriteFrames([][]byte{[]byte("last words")}); err != nil {
			return err
		}
		return client.Close()
	})

	assert.Equal(t, []string{"last words"}, readRecords(t, server, 1))
	_, err := server.ReadRecord(nil, recordLimit)
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, await(t, sent, "write and Close"))
}

func closeWriteDelivers(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	sent := async(func() error {
		if err := client.WriteFrames([][]byte{[]byte("one"), []byte("two")}); err != nil {
			return err
		}
		return client.CloseWrite()
	})

	assert.Equal(t, []string{"one", "two"}, readRecords(t, server, 2))
	_, err := server.ReadRecord(nil, recordLimit)
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, await(t, sent, "write and CloseWrite"))
}

func truncatedFrame(t *testing.T, pair pairFunc) {
	// A payload source shorter than announced is the one way the port
	// offers to put a frame cut short on the wire.
	cutShort := func(client ports.Conn) <-chan error {
		return async(func() error {
			err := client.WritePayload(100, strings.NewReader("only ten b"))
			if err == nil {
				return fmt.Errorf("WritePayload of a short source succeeded")
			}
			return client.Close()
		})
	}
	t.Run("in a record", func(t *testing.T) {
		client, server := pair(t)
		sent := cutShort(client)

		_, err := server.ReadRecord(nil, recordLimit)

		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		require.NoError(t, await(t, sent, "write and Close"))
	})
	t.Run("in a payload", func(t *testing.T) {
		client, server := pair(t)
		sent := cutShort(client)

		n, _, err := readPayload(server)

		assert.Equal(t, int64(100), n)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		require.NoError(t, await(t, sent, "write and Close"))
	})
}

func concurrentReaderAndWriter(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	const n = 500
	bodies := func(from string) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = fmt.Appendf(nil, "%s %d", from, i)
		}
		return out
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, end := range []struct {
		name string
		conn ports.Conn
	}{{"client", client}, {"server", server}} {
		wg.Go(func() {
			for _, b := range bodies(end.name) {
				if err := end.conn.WriteFrames([][]byte{b}); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			peer := map[string]string{"client": "server", "server": "client"}[end.name]
			want := bodies(peer)
			for i := range n {
				got, err := end.conn.ReadRecord(nil, recordLimit)
				if err != nil {
					errs <- err
					return
				}
				if string(got) != string(want[i]) {
					errs <- fmt.Errorf("%s read %q, want %q", end.name, got, want[i])
					return
				}
			}
		})
	}
	require.NoError(t, await(t, async(func() error { wg.Wait(); close(errs); return nil }), "both ends"))
	for err := range errs {
		assert.NoError(t, err)
	}
}

// randomBytes returns n bytes from a fixed seed, so failures repeat.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{'p', 'c', 'x'})
	_, _ = rng.Read(b)
	return b
}

// zeroReader yields zero bytes forever.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
