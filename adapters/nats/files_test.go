package nats_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gonats "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	pcxnats "pcx/adapters/nats"
	"pcx/internal/natstest"
	"pcx/ports"
	"pcx/ports/filesharetest"
)

// newFiles starts a file share per node, each on its own connection to
// the server at url.
func newFiles(t *testing.T, url string, opts pcxnats.FileOptions, nodes ...string) []*pcxnats.Files {
	t.Helper()
	out := make([]*pcxnats.Files, len(nodes))
	for i, n := range nodes {
		f, err := pcxnats.NewFiles(dial(t, n, url), room, opts)
		require.NoError(t, err)
		t.Cleanup(func() { _ = f.Close() })
		out[i] = f
	}
	return out
}

func TestFileShareContract(t *testing.T) {
	filesharetest.Run(t, func(t *testing.T, nodes ...string) filesharetest.Shares {
		s := natstest.Start(t)
		// A short chunk timeout: a node that no one serves is given up
		// after it.
		files := newFiles(t, s.URL(), pcxnats.FileOptions{Chunk: 64 << 10, Window: 4, ChunkTimeout: time.Second}, nodes...)
		out := filesharetest.Shares{Chunk: files[0].Chunk(), Window: files[0].Window()}
		for _, f := range files {
			out.Nodes = append(out.Nodes, f)
		}
		return out
	})
}

// fileSubject is the subject on which node serves its files (the adapter's
// encoding of the node's name, written out again here).
func fileSubject(node string) string {
	enc := base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)
	return "pcx." + room + ".files." + enc.EncodeToString([]byte(node))
}

// chunkRequest is a request as a fake origin reads it.
type chunkRequest struct {
	op             byte
	size, offset   int64
	length         int
	id, replyInbox string
}

// fakeOrigin serves node's files with answer, on a raw NATS connection of
// its own; it returns how many requests it got.
func fakeOrigin(t *testing.T, url, node string, answer func(nc *gonats.Conn, r chunkRequest)) *atomic.Int64 {
	t.Helper()
	nc, err := gonats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	var count atomic.Int64
	_, err = nc.Subscribe(fileSubject(node), func(m *gonats.Msg) {
		if len(m.Data) < 22 {
			return
		}
		r := chunkRequest{
			op: m.Data[1], size: int64(binary.BigEndian.Uint64(m.Data[2:])),
			offset: int64(binary.BigEndian.Uint64(m.Data[10:])), length: int(binary.BigEndian.Uint32(m.Data[18:])),
			id: string(m.Data[22:]), replyInbox: m.Reply,
		}
		if r.op != 1 {
			return // the end of a fetch
		}
		count.Add(1)
		answer(nc, r)
	})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	return &count
}

// chunkReply is a reply as the protocol has it.
func chunkReply(status byte, off int64, data []byte) []byte {
	b := []byte{status}
	b = binary.BigEndian.AppendUint64(b, uint64(off))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	return append(b, data...)
}

// honest answers r with the bytes of data it asks for.
func honest(nc *gonats.Conn, r chunkRequest, data []byte) {
	_ = nc.Publish(r.replyInbox, chunkReply(0, r.offset, data[r.offset:r.offset+int64(r.length)]))
}

func TestFetchRefusesGarbledChunks(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	fetcher := newFiles(t, s.URL(), pcxnats.FileOptions{Chunk: 1 << 10, Window: 4}, "b")[0]
	data := filesharetest.Payload(10<<10, 1)
	cases := []struct {
		name   string
		answer func(nc *gonats.Conn, r chunkRequest)
	}{
		{"a checksum that does not match", func(nc *gonats.Conn, r chunkRequest) {
			reply := chunkReply(0, r.offset, data[r.offset:r.offset+int64(r.length)])
			if r.offset == 3<<10 {
				reply[len(reply)-1] ^= 1
			}
			_ = nc.Publish(r.replyInbox, reply)
		}},
		{"a short chunk", func(nc *gonats.Conn, r chunkRequest) {
			_ = nc.Publish(r.replyInbox, chunkReply(0, r.offset, data[r.offset:r.offset+int64(r.length)-1]))
		}},
		{"a long chunk", func(nc *gonats.Conn, r chunkRequest) {
			_ = nc.Publish(r.replyInbox, chunkReply(0, r.offset, data[r.offset:r.offset+int64(r.length)+1]))
		}},
		{"a reply shorter than its header", func(nc *gonats.Conn, r chunkRequest) {
			_ = nc.Publish(r.replyInbox, []byte{0, 0, 0})
		}},
	}
	for i, c := range cases {
		node := fmt.Sprintf("evil%d", i)
		fakeOrigin(t, s.URL(), node, c.answer)
		t.Run(c.name, func(t *testing.T) {
			var got bytes.Buffer
			err := fetcher.Fetch(context.Background(), node, "f", int64(len(data)), &got)
			require.ErrorIs(t, err, ports.ErrFileCorrupt)
			require.True(t, bytes.HasPrefix(data, got.Bytes()), "what was written is the start of the file")
			require.Less(t, got.Len(), len(data))
		})
	}
}

// An origin that answers some requests late, twice, in any order, or not
// at all the first time: the fetch asks again and writes the file as it
// is.
func TestFetchSurvivesLostLateAndDuplicateReplies(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	fetcher := newFiles(t, s.URL(), pcxnats.FileOptions{Chunk: 1 << 10, Window: 8, ChunkTimeout: 100 * time.Millisecond}, "b")[0]
	data := filesharetest.Payload(64<<10+5, 2)
	var mu sync.Mutex
	asked := map[int64]int{}
	count := fakeOrigin(t, s.URL(), "flaky", func(nc *gonats.Conn, r chunkRequest) {
		mu.Lock()
		asked[r.offset]++
		n := asked[r.offset]
		mu.Unlock()
		k := r.offset >> 10
		switch {
		case k%7 == 3 && n == 1: // lost: the fetch must ask again
		case k%5 == 1: // answered twice
			honest(nc, r, data)
			honest(nc, r, data)
		case k%3 == 2: // answered late, after later chunks
			time.AfterFunc(20*time.Millisecond, func() { honest(nc, r, data) })
		default:
			honest(nc, r, data)
		}
	})
	var got bytes.Buffer
	require.NoError(t, fetcher.Fetch(context.Background(), "flaky", "f", int64(len(data)), &got))
	require.True(t, bytes.Equal(data, got.Bytes()))
	chunks := int64(len(data)+1023) >> 10
	require.Greater(t, count.Load(), chunks, "the lost chunks were asked for again")
}

// An origin that never answers fails the fetch after the timeout of a
// chunk times its tries, not later.
func TestFetchGivesUpOnASilentOrigin(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	fetcher := newFiles(t, s.URL(), pcxnats.FileOptions{Chunk: 1 << 10, Window: 2, ChunkTimeout: 100 * time.Millisecond, Retries: 2}, "b")[0]
	count := fakeOrigin(t, s.URL(), "silent", func(*gonats.Conn, chunkRequest) {})
	start := time.Now()
	err := fetcher.Fetch(context.Background(), "silent", "f", 10<<10, io.Discard)
	require.ErrorIs(t, err, ports.ErrFileOriginGone)
	require.Less(t, time.Since(start), 10*time.Second, "a bounded wait")
	require.Equal(t, int64(2+2), count.Load(), "the window, then the first chunk asked again twice")
}

// Whatever anyone sends to a node's file subject, it answers what it
// can and goes on serving.
func TestOriginAnswersHostileRequests(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	files := newFiles(t, s.URL(), pcxnats.FileOptions{}, "a", "b")
	data := filesharetest.Payload(100<<10, 3)
	require.NoError(t, files[0].Offer("f", filesharetest.NewAttachment(t, data, t.TempDir()), ports.FileOffer{}))

	nc, err := gonats.Connect(s.URL())
	require.NoError(t, err)
	defer nc.Close()
	req := func(op byte, size, off int64, length uint32, id string) []byte {
		b := []byte{1, op}
		b = binary.BigEndian.AppendUint64(b, uint64(size))
		b = binary.BigEndian.AppendUint64(b, uint64(off))
		b = binary.BigEndian.AppendUint32(b, length)
		return append(b, id...)
	}
	size := int64(len(data))
	cases := []struct {
		name   string
		req    []byte
		status byte
	}{
		{"empty", nil, 2},
		{"short", []byte{1, 1, 0}, 2},
		{"another version", append([]byte{9}, req(1, size, 0, 10, "f")[1:]...), 2},
		{"an unknown operation", req(7, size, 0, 10, "f"), 2},
		{"no id", req(1, size, 0, 10, ""), 2},
		{"a negative size", req(1, -1, 0, 10, "f"), 2},
		{"a negative offset", req(1, size, -5, 10, "f"), 2},
		{"past the end", req(1, size, size-5, 10, "f"), 2},
		{"longer than a message", req(1, size, 0, 1<<31, "f"), 2},
		{"an unknown id", req(1, size, 0, 10, "g"), 1},
		{"another size", req(1, size+1, 0, 10, "f"), 1},
		{"the last byte", req(1, size, size-1, 1, "f"), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := nc.Request(fileSubject("a"), c.req, 5*time.Second)
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(m.Data), 13)
			require.Equal(t, c.status, m.Data[0])
		})
	}
	// An end of fetch with no one to count it is harmless too.
	require.NoError(t, nc.Publish(fileSubject("a"), req(2, 0, 0, 0, "nothing")))
	var got bytes.Buffer
	require.NoError(t, files[1].Fetch(context.Background(), "a", "f", size, &got))
	require.True(t, bytes.Equal(data, got.Bytes()))
}

// An origin that no one serves for a moment (its link to NATS is coming
// back, say) is asked again, and the fetch goes on when it is back.
func TestFetchWaitsForAnOriginBackInAMoment(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	fetcher := newFiles(t, s.URL(), pcxnats.FileOptions{Chunk: 1 << 10, Window: 4, ChunkTimeout: 3 * time.Second}, "b")[0]
	data := filesharetest.Payload(20<<10, 5)
	done := make(chan error, 1)
	var got bytes.Buffer
	go func() { done <- fetcher.Fetch(context.Background(), "late", "f", int64(len(data)), &got) }()
	time.Sleep(500 * time.Millisecond) // several rounds of "no responders"
	fakeOrigin(t, s.URL(), "late", func(nc *gonats.Conn, r chunkRequest) { honest(nc, r, data) })
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("the fetch did not end")
	}
	require.True(t, bytes.Equal(data, got.Bytes()))
}

// An origin whose connection goes mid-fetch (its process killed): the
// fetch fails as the origin gone, within about its chunk timeout.
func TestFetchFromAnOriginThatDiesMidFetch(t *testing.T) {
	t.Parallel()
	s := natstest.Start(t)
	fetcher := newFiles(t, s.URL(), pcxnats.FileOptions{Chunk: 1 << 10, Window: 4, ChunkTimeout: time.Second}, "b")[0]
	data := filesharetest.Payload(100<<10, 6)
	nc, err := gonats.Connect(s.URL())
	require.NoError(t, err)
	defer nc.Close()
	var served atomic.Int64
	_, err = nc.Subscribe(fileSubject("dying"), func(m *gonats.Msg) {
		if len(m.Data) < 22 || m.Data[1] != 1 {
			return
		}
		off := int64(binary.BigEndian.Uint64(m.Data[10:]))
		n := int64(binary.BigEndian.Uint32(m.Data[18:]))
		if served.Add(1) == 10 {
			go nc.Close() // dies, with requests in flight
			return
		}
		_ = nc.Publish(m.Reply, chunkReply(0, off, data[off:off+n]))
	})
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	start := time.Now()
	err = fetcher.Fetch(context.Background(), "dying", "f", int64(len(data)), io.Discard)
	require.ErrorIs(t, err, ports.ErrFileOriginGone)
	t.Logf("failed after %v: %v", time.Since(start), err)
	require.Less(t, time.Since(start), 5*time.Second)
}
