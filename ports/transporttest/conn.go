package transporttest

import (
	"crypto/sha256"
	"errors"
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
	t.Run("a record over the limit is refused and the next read skips it", func(t *testing.T) { recordOverLimit(t, pair) })
	t.Run("an unread payload is skipped by the next read", func(t *testing.T) { unreadPayloadSkipped(t, pair) })
	t.Run("Close unblocks a blocked reader", func(t *testing.T) { closeUnblocksReader(t, pair) })
	t.Run("Close unblocks a blocked writer", func(t *testing.T) { closeUnblocksWriter(t, pair) })
	t.Run("writes after Close fail", func(t *testing.T) { writesAfterCloseFail(t, pair) })
	t.Run("a read past its deadline fails and the connection stays usable", func(t *testing.T) { readDeadline(t, pair) })
	t.Run("a peer that closes between frames gives io.EOF", func(t *testing.T) { peerCloseGivesEOF(t, pair) })
	t.Run("the writer's writes do not move the reader's deadline", func(t *testing.T) { writesLeaveReadDeadline(t, pair) })
	t.Run("after CloseWrite the peer reads everything, then io.EOF", func(t *testing.T) { closeWriteDelivers(t, pair) })
	t.Run("the linger of CloseWrite is the writer's: the reader's deadline does not lift it", func(t *testing.T) { lingerOwnedByWriter(t, pair) })
	t.Run("a peer that closes ends the linger", func(t *testing.T) { peerCloseEndsLinger(t, pair) })
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
				if err := client.Writer().WriteFrames([][]byte{[]byte(`{"attachment":"f"}`)}); err != nil {
					return err
				}
				if err := client.Writer().WritePayload(int64(len(data)), strings.NewReader(string(data))); err != nil {
					return err
				}
				return client.Writer().WriteFrames([][]byte{[]byte("after")})
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

	sent := async(func() error { return client.Writer().WritePayload(int64(len(data)), f) })

	n, sum, err := readPayload(server)
	require.NoError(t, err)
	assert.Equal(t, int64(len(data)), n)
	assert.Equal(t, sha256.Sum256(data), sum)
	require.NoError(t, await(t, sent, "WritePayload"))
}

func recordOverLimit(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	sent := writeRecords(client, strings.Repeat("x", 1000), "next")

	_, err := server.Reader().ReadRecord(nil, 100)
	var tooLarge *ports.FrameTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	assert.Equal(t, ports.FrameTooLargeError{Len: 1000, Max: 100}, *tooLarge)

	assert.Equal(t, []string{"next"}, readRecords(t, server, 1), "the refused body is skipped, no caller's call needed")
	require.NoError(t, await(t, sent, "WriteFrames"))
}

func unreadPayloadSkipped(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	large := randomBytes(3<<20 + 5) // far larger than any read buffer
	sent := async(func() error {
		w := client.Writer()
		if err := w.WriteFrames([][]byte{[]byte("one")}); err != nil {
			return err
		}
		if err := w.WritePayload(int64(len(large)), strings.NewReader(string(large))); err != nil {
			return err
		}
		if err := w.WriteFrames([][]byte{[]byte("two")}); err != nil {
			return err
		}
		if err := w.WritePayload(100, strings.NewReader(strings.Repeat("p", 100))); err != nil {
			return err
		}
		return w.WriteFrames([][]byte{[]byte("three")})
	})

	assert.Equal(t, []string{"one"}, readRecords(t, server, 1))
	n, body, err := server.Reader().ReadPayload()
	require.NoError(t, err)
	require.Equal(t, int64(len(large)), n)
	head := make([]byte, 10)
	_, err = io.ReadFull(body, head)
	require.NoError(t, err)
	assert.Equal(t, large[:10], head)
	assert.Equal(t, []string{"two"}, readRecords(t, server, 1), "the rest of a payload read halfway is skipped")

	n, _, err = server.Reader().ReadPayload()
	require.NoError(t, err)
	require.Equal(t, int64(100), n)
	assert.Equal(t, []string{"three"}, readRecords(t, server, 1), "a payload not read at all is skipped")
	require.NoError(t, await(t, sent, "writes"))
}

func closeUnblocksReader(t *testing.T, pair pairFunc) {
	_, server := pair(t)
	read := async(func() error {
		_, err := server.Reader().ReadRecord(nil, recordLimit)
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
	write := async(func() error { return client.Writer().WritePayload(size, io.LimitReader(zeroReader{}, size)) })
	time.Sleep(20 * time.Millisecond)

	require.NoError(t, client.Close())

	assert.Error(t, await(t, write, "WritePayload after Close"))
}

func writesAfterCloseFail(t *testing.T, pair pairFunc) {
	client, _ := pair(t)
	require.NoError(t, client.Close())

	assert.Error(t, client.Writer().WriteFrames([][]byte{[]byte("late")}))
	assert.Error(t, client.Writer().WritePayload(4, strings.NewReader("late")))
}

func readDeadline(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	require.NoError(t, server.Reader().SetReadDeadline(time.Now().Add(50*time.Millisecond)))

	_, err := server.Reader().ReadRecord(nil, recordLimit)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)

	require.NoError(t, server.Reader().SetReadDeadline(time.Time{}))
	sent := writeRecords(client, "still here")
	assert.Equal(t, []string{"still here"}, readRecords(t, server, 1))
	require.NoError(t, await(t, sent, "WriteFrames"))
}

func writesLeaveReadDeadline(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	require.NoError(t, server.Reader().SetReadDeadline(time.Now().Add(100*time.Millisecond)))
	read := async(func() error {
		_, err := server.Reader().ReadRecord(nil, recordLimit)
		return err
	})
	// The client reads all the server writes, so no write ever waits.
	received := async(func() error {
		for {
			if _, err := client.Reader().ReadRecord(nil, recordLimit); err != nil {
				return err
			}
		}
	})

	// The server's writer keeps writing, through the reader's deadline and
	// past it, until the read has failed: a transport whose writes moved
	// the read deadline would keep the read waiting.
	var readErr error
	giveUp := time.After(patience)
writing:
	for {
		require.NoError(t, server.Writer().WriteFrames([][]byte{[]byte("tick")}), "a write is not bounded by the reader's deadline")
		select {
		case readErr = <-read:
			break writing
		case <-giveUp:
			t.Fatal("the read outlived its deadline while the writer wrote")
		case <-time.After(5 * time.Millisecond):
		}
	}
	require.ErrorIs(t, readErr, os.ErrDeadlineExceeded)
	require.NoError(t, server.Writer().WriteFrames([][]byte{[]byte("after")}), "writing goes on after a read timed out")
	require.NoError(t, client.Close())
	assert.Error(t, await(t, received, "the client's reads"))
}

func lingerOwnedByWriter(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	peerSawEnd := async(func() error {
		_, err := client.Reader().ReadRecord(nil, recordLimit)
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("the peer read %v, want the end of the stream", err)
		}
		return nil // and the peer stays open: only the linger ends the server's reading
	})
	require.NoError(t, server.Reader().SetReadDeadline(time.Now().Add(patience)))

	require.NoError(t, server.Writer().CloseWrite(100*time.Millisecond))
	// The reading goroutine lifts its own deadline, as the server does
	// after a login, just after the writer half-closed at a shutdown. (A
	// transport that cannot half-close has closed instead, and may refuse.)
	_ = server.Reader().SetReadDeadline(time.Time{})

	read := async(func() error {
		_, err := server.Reader().ReadRecord(nil, recordLimit)
		return err
	})
	assert.Error(t, await(t, read, "a read after the linger"), "the linger bounds the read")
	require.NoError(t, await(t, peerSawEnd, "the peer's read"))
}

func peerCloseEndsLinger(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	peer := async(func() error {
		_, err := client.Reader().ReadRecord(nil, recordLimit)
		if err == nil {
			return fmt.Errorf("the peer read a record after CloseWrite")
		}
		return client.Close() // the answer a client gives to a half-close
	})

	require.NoError(t, server.Writer().CloseWrite(10*patience))

	read := async(func() error {
		_, err := server.Reader().ReadRecord(nil, recordLimit)
		return err
	})
	assert.Error(t, await(t, read, "a read once the peer closed"), "the peer's close ends the read, long before the linger")
	require.NoError(t, await(t, peer, "the peer"))
}

func peerCloseGivesEOF(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	sent := async(func() error {
		if err := client.Writer().WriteFrames([][]byte{[]byte("last words")}); err != nil {
			return err
		}
		return client.Close()
	})

	assert.Equal(t, []string{"last words"}, readRecords(t, server, 1))
	_, err := server.Reader().ReadRecord(nil, recordLimit)
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, await(t, sent, "write and Close"))
}

func closeWriteDelivers(t *testing.T, pair pairFunc) {
	client, server := pair(t)
	sent := async(func() error {
		if err := client.Writer().WriteFrames([][]byte{[]byte("one"), []byte("two")}); err != nil {
			return err
		}
		return client.Writer().CloseWrite(patience)
	})

	assert.Equal(t, []string{"one", "two"}, readRecords(t, server, 2))
	_, err := server.Reader().ReadRecord(nil, recordLimit)
	assert.ErrorIs(t, err, io.EOF)
	require.NoError(t, await(t, sent, "write and CloseWrite"))
}

func truncatedFrame(t *testing.T, pair pairFunc) {
	// A payload source shorter than announced is the one way the port
	// offers to put a frame cut short on the wire.
	cutShort := func(client ports.Conn) <-chan error {
		return async(func() error {
			err := client.Writer().WritePayload(100, strings.NewReader("only ten b"))
			if err == nil {
				return fmt.Errorf("WritePayload of a short source succeeded")
			}
			return client.Close()
		})
	}
	t.Run("in a record", func(t *testing.T) {
		client, server := pair(t)
		sent := cutShort(client)

		_, err := server.Reader().ReadRecord(nil, recordLimit)

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
				if err := end.conn.Writer().WriteFrames([][]byte{b}); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			peer := map[string]string{"client": "server", "server": "client"}[end.name]
			want := bodies(peer)
			for i := range n {
				got, err := end.conn.Reader().ReadRecord(nil, recordLimit)
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
