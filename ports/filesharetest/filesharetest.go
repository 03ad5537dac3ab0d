// Package filesharetest holds the contract suite of the file share port
// (ports.FileShare): every adapter of the port runs it from its own tests,
// so that the application may rely on one behaviour whichever share moves
// files between its nodes.
package filesharetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/ports"
)

// patience bounds how long the suite waits for what must happen; it turns a
// hang into a failure, it is not a performance bound.
const patience = 20 * time.Second

// Shares are the file shares of the nodes of one room, serving already,
// and what their fetches do: Chunk bytes at a time, at most Window chunks
// asked for and not yet written (a fetch that reads the origin directly
// has a window of 1).
type Shares struct {
	Nodes  []ports.FileShare
	Chunk  int
	Window int
}

// Factory returns one share per node name, all of one room. The suite
// closes them; the factory cleans up what is behind them.
type Factory func(t *testing.T, nodes ...string) Shares

// Run runs the contract suite against the shares f makes.
func Run(t *testing.T, f Factory) {
	t.Run("a fetch gets the file byte for byte, whatever its size", func(t *testing.T) { testSizes(t, f) })
	t.Run("a file in memory is fetched like one on disk", func(t *testing.T) { testInMemory(t, f) })
	t.Run("several nodes fetch and serve at once", func(t *testing.T) { testConcurrent(t, f) })
	t.Run("an unknown file, size or node is an error at once", func(t *testing.T) { testUnknown(t, f) })
	t.Run("the origin closing mid-fetch fails the fetch", func(t *testing.T) { testOriginClosed(t, f) })
	t.Run("a withdrawal mid-fetch fails the fetch", func(t *testing.T) { testWithdrawn(t, f) })
	t.Run("a cancelled fetch ends", func(t *testing.T) { testCancel(t, f) })
	t.Run("a failing writer ends the fetch", func(t *testing.T) { testWriterFails(t, f) })
	t.Run("the offer ends when its readers are done", func(t *testing.T) { testReaders(t, f) })
	t.Run("the offer ends at its deadline", func(t *testing.T) { testDeadline(t, f) })
	t.Run("close ends the offers and refuses more", func(t *testing.T) { testClose(t, f) })
	t.Run("a stalled fetch holds at most a window", func(t *testing.T) { testWindow(t, f) })
}

// Attachment is a ports.Attachment for the suite: its payload in a file
// (or in memory), its references counted, the bytes read at offsets from
// the file counted too.
type Attachment struct {
	data   []byte // the payload
	path   string // the payload's file; "" when in memory
	refs   atomic.Int64
	readAt atomic.Int64 // bytes read with ReadAt from what Open gave
}

// NewAttachment returns an attachment of data, kept in a file under dir
// (dir "": in memory), with one reference.
func NewAttachment(t *testing.T, data []byte, dir string) *Attachment {
	a := &Attachment{data: data}
	if dir != "" {
		f, err := os.CreateTemp(dir, "payload-")
		require.NoError(t, err)
		_, err = f.Write(data)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		a.path = f.Name()
	}
	a.refs.Store(1)
	return a
}

// Payload returns a file of n bytes that differ from chunk to chunk and
// from one payload to the next (seed), so that a chunk in the wrong place
// shows.
func Payload(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = byte(x >> 24)
	}
	return b
}

// Size implements ports.Attachment.
func (a *Attachment) Size() int64 { return int64(len(a.data)) }

// Bytes implements ports.Attachment.
func (a *Attachment) Bytes() []byte {
	if a.path != "" {
		return nil
	}
	return a.data
}

// Open implements ports.Attachment: a file that counts what is read from
// it at offsets.
func (a *Attachment) Open() (io.ReadCloser, error) {
	if a.refs.Load() <= 0 {
		return nil, errors.New("filesharetest: open of a released attachment")
	}
	if a.path == "" {
		return io.NopCloser(bytes.NewReader(a.data)), nil
	}
	f, err := os.Open(a.path)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, count: &a.readAt}, nil
}

// Retain implements ports.Attachment.
func (a *Attachment) Retain() {
	if a.refs.Add(1) <= 1 {
		panic("filesharetest: Retain of a released attachment")
	}
}

// Release implements ports.Attachment.
func (a *Attachment) Release() {
	if a.refs.Add(-1) < 0 {
		panic("filesharetest: Release of an attachment with no references")
	}
}

// Refs returns the references held now.
func (a *Attachment) Refs() int64 { return a.refs.Load() }

// ReadAtBytes returns the bytes read at offsets so far.
func (a *Attachment) ReadAtBytes() int64 { return a.readAt.Load() }

type countingFile struct {
	*os.File
	count *atomic.Int64
}

func (c *countingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.File.ReadAt(p, off)
	c.count.Add(int64(n))
	return n, err
}

// closeAll closes the shares at the end of the test.
func closeAll(t *testing.T, s Shares) {
	t.Cleanup(func() {
		for _, n := range s.Nodes {
			assert.NoError(t, n.Close())
		}
	})
}

// fetch fetches id of node into memory.
func fetch(ctx context.Context, s ports.FileShare, node, id string, size int64) ([]byte, error) {
	var buf bytes.Buffer
	err := s.Fetch(ctx, node, id, size, &buf)
	return buf.Bytes(), err
}

// eventually waits until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, patience, 5*time.Millisecond, what)
}

func testSizes(t *testing.T, f Factory) {
	s := f(t, "a", "b")
	closeAll(t, s)
	a, b := s.Nodes[0], s.Nodes[1]
	dir := t.TempDir()
	sizes := []int{0, 1, s.Chunk - 1, s.Chunk, s.Chunk + 1, 2*s.Window*s.Chunk + 12345, 3<<20 + 7}
	for i, n := range sizes {
		t.Run(fmt.Sprintf("%d bytes", n), func(t *testing.T) {
			data := Payload(n, byte(i))
			att := NewAttachment(t, data, dir)
			id := fmt.Sprintf("file-%d", i)
			require.NoError(t, a.Offer(id, att, ports.FileOffer{}))
			assert.Equal(t, int64(2), att.Refs(), "the offer holds a reference")
			got, err := fetch(context.Background(), b, "a", id, int64(n))
			require.NoError(t, err)
			require.Len(t, got, n)
			require.True(t, bytes.Equal(data, got), "the payload changed on the way")
			// A second fetch of the same offer gets it again.
			got, err = fetch(context.Background(), b, "a", id, int64(n))
			require.NoError(t, err)
			require.True(t, bytes.Equal(data, got))
			a.Withdraw(id)
			eventually(t, "the reference given back", func() bool { return att.Refs() == 1 })
		})
	}
}

func testInMemory(t *testing.T, f Factory) {
	s := f(t, "a", "b")
	closeAll(t, s)
	for i, n := range []int{0, 5, s.Chunk + 3} {
		data := Payload(n, byte(i))
		att := NewAttachment(t, data, "")
		id := fmt.Sprintf("mem-%d", i)
		require.NoError(t, s.Nodes[0].Offer(id, att, ports.FileOffer{Readers: 1}))
		got, err := fetch(context.Background(), s.Nodes[1], "a", id, int64(n))
		require.NoError(t, err)
		require.True(t, bytes.Equal(data, got), "%d bytes", n)
		eventually(t, "the reference given back", func() bool { return att.Refs() == 1 })
	}
}

// testConcurrent has every node offer a file and fetch every other node's
// at once, each file several times.
func testConcurrent(t *testing.T, f Factory) {
	nodes := []string{"a", "b", "c", "d"}
	s := f(t, nodes...)
	closeAll(t, s)
	dir := t.TempDir()
	const files = 3
	payloads := make(map[string][]byte)
	for i, origin := range nodes {
		for j := range files {
			data := Payload(s.Window*s.Chunk+s.Chunk/2+1000*j+i, byte(10*i+j))
			id := fmt.Sprintf("f%d", j)
			payloads[origin+"/"+id] = data
			require.NoError(t, s.Nodes[i].Offer(id, NewAttachment(t, data, dir), ports.FileOffer{}))
		}
	}
	var wg sync.WaitGroup
	for i := range nodes {
		for _, origin := range nodes {
			if origin == nodes[i] {
				continue
			}
			for j := range files {
				id := fmt.Sprintf("f%d", j)
				want := payloads[origin+"/"+id]
				wg.Go(func() {
					got, err := fetch(context.Background(), s.Nodes[i], origin, id, int64(len(want)))
					if assert.NoError(t, err, "%s fetching %s/%s", nodes[i], origin, id) {
						assert.True(t, bytes.Equal(want, got), "%s fetching %s/%s", nodes[i], origin, id)
					}
				})
			}
		}
	}
	wg.Wait()
}

func testUnknown(t *testing.T, f Factory) {
	s := f(t, "a", "b")
	closeAll(t, s)
	data := Payload(s.Chunk*2, 1)
	require.NoError(t, s.Nodes[0].Offer("known", NewAttachment(t, data, t.TempDir()), ports.FileOffer{}))
	ctx := context.Background()

	_, err := fetch(ctx, s.Nodes[1], "a", "unknown", 10)
	require.ErrorIs(t, err, ports.ErrFileUnknown)
	_, err = fetch(ctx, s.Nodes[1], "a", "unknown", 0)
	require.ErrorIs(t, err, ports.ErrFileUnknown, "an empty file is asked for too")
	_, err = fetch(ctx, s.Nodes[1], "a", "known", int64(len(data))+1)
	require.ErrorIs(t, err, ports.ErrFileUnknown, "a file of another size is another file")
	_, err = fetch(ctx, s.Nodes[1], "a", "known", int64(len(data))-1)
	require.ErrorIs(t, err, ports.ErrFileUnknown, "a file of another size is another file")
	_, err = fetch(ctx, s.Nodes[1], "nowhere", "known", int64(len(data)))
	require.ErrorIs(t, err, ports.ErrFileOriginGone)

	// None of it harmed the offer.
	got, err := fetch(ctx, s.Nodes[1], "a", "known", int64(len(data)))
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))

	// Offering an id twice is refused; the first offer stays.
	require.Error(t, s.Nodes[0].Offer("known", NewAttachment(t, data, ""), ports.FileOffer{}))
	for _, id := range []string{"", string(make([]byte, 256))} {
		require.Error(t, s.Nodes[0].Offer(id, NewAttachment(t, data, ""), ports.FileOffer{}), "id of %d bytes", len(id))
	}
}

// gate is a writer that lets the first open bytes through, then blocks
// each write until released (or fails it, when fail is set).
type gate struct {
	mu      sync.Mutex // guards buf and open
	buf     bytes.Buffer
	open    int
	stalled chan struct{} // closed when a write first blocks
	release chan struct{} // closed by the test: writes go on
	once    sync.Once
	fail    error // returned instead of writing, once released
}

func newGate(open int) *gate {
	return &gate{open: open, stalled: make(chan struct{}), release: make(chan struct{})}
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	pass := g.buf.Len()+len(p) <= g.open
	g.mu.Unlock()
	if !pass {
		g.once.Do(func() { close(g.stalled) })
		<-g.release
		if g.fail != nil {
			return 0, g.fail
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

func (g *gate) waitStalled(t *testing.T) {
	t.Helper()
	select {
	case <-g.stalled:
	case <-time.After(patience):
		t.Fatal("the fetch never wrote past the gate")
	}
}

// stalledFetch offers a file of several windows on node 0 and starts node
// 1's fetch of it, which stalls after the first chunk; the fetch's error
// comes on the channel.
func stalledFetch(t *testing.T, s Shares, ctx context.Context, g *gate) (*Attachment, <-chan error) {
	data := Payload((s.Window+4)*s.Chunk+99, 7)
	att := NewAttachment(t, data, t.TempDir())
	require.NoError(t, s.Nodes[0].Offer("big", att, ports.FileOffer{}))
	done := make(chan error, 1)
	go func() { done <- s.Nodes[1].Fetch(ctx, "a", "big", int64(len(data)), g) }()
	g.waitStalled(t)
	return att, done
}

func waitErr(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(patience):
		t.Fatal("the fetch did not end")
		return nil
	}
}

func testOriginClosed(t *testing.T, f Factory) {
	s := f(t, "a", "b")
	closeAll(t, s)
	g := newGate(s.Chunk)
	att, done := stalledFetch(t, s, context.Background(), g)
	require.NoError(t, s.Nodes[0].Close())
	assert.Equal(t, int64(1), att.Refs(), "close gives the offer's reference back")
	close(g.release)
	require.ErrorIs(t, waitErr(t, done), ports.ErrFileOriginGone)
}

func testWithdrawn(t *testing.T, f Factory) {
	s := f(t, "a", "b")
	closeAll(t, s)
	g := newGate(s.Chunk)
	att, done := stalledFetch(t, s, context.Background(), g)
	s.Nodes[0].Withdraw("big")
	close(g.release)
	require.ErrorIs(t, waitErr(t, done), ports.ErrFileUnknown)
	eventually(t, "the reference given back", func() bool { return att.Refs() == 1 })
}

func testCancel(t *testing.T, f Factory) {
	s := f(t, "a", "b")
	closeAll(t, s)
	g := newGate(s.Chunk)
	ctx, cancel := context.WithCancel(context.Background())
	_, done := stalledFetch(t, s, ctx, g)
	cancel()
	close(g.release)
	require.ErrorIs(t, waitErr(t, done), context.Canceled)

	// A fetch cancelled before it starts does not start.
	_, err := fetch(ctx, s.Nodes[1], "a", "big", 1)
	require.ErrorIs(t, err, context.Canceled)
}

func testWriterFails(t *testing.T, f Factory) {
	s := f(t, "a", "b")
	closeAll(t, s)
	g := newGate(s.Chunk)
	g.fail = errors.New("disk full")
	_, done := stalledFetch(t, s, context.Background(), g)
	close(g.release)
	require.ErrorIs(t, waitErr(t, done), g.fail)
}

func testReaders(t *testing.T, f Factory) {
	s := f(t, "a", "b", "c", "d")
	closeAll(t, s)
	data := Payload(s.Chunk*2+5, 3)
	att := NewAttachment(t, data, t.TempDir())
	require.NoError(t, s.Nodes[0].Offer("two", att, ports.FileOffer{Readers: 2}))
	ctx := context.Background()

	// A failed fetch counts as one that ended: it will not ask again.
	cancelled, cancel := context.WithCancel(ctx)
	g := newGate(0)
	done := make(chan error, 1)
	go func() { done <- s.Nodes[1].Fetch(cancelled, "a", "two", int64(len(data)), g) }()
	g.waitStalled(t)
	cancel()
	close(g.release)
	require.ErrorIs(t, waitErr(t, done), context.Canceled)

	got, err := fetch(ctx, s.Nodes[2], "a", "two", int64(len(data)))
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))
	eventually(t, "the offer ended with its second reader", func() bool { return att.Refs() == 1 })
	_, err = fetch(ctx, s.Nodes[3], "a", "two", int64(len(data)))
	require.ErrorIs(t, err, ports.ErrFileUnknown)
}

func testDeadline(t *testing.T, f Factory) {
	s := f(t, "a", "b")
	closeAll(t, s)
	data := Payload(100, 4)
	att := NewAttachment(t, data, t.TempDir())
	require.NoError(t, s.Nodes[0].Offer("soon", att, ports.FileOffer{Until: time.Now().Add(300 * time.Millisecond)}))
	ctx := context.Background()
	got, err := fetch(ctx, s.Nodes[1], "a", "soon", 100)
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got))
	eventually(t, "the offer ended at its deadline", func() bool { return att.Refs() == 1 })
	_, err = fetch(ctx, s.Nodes[1], "a", "soon", 100)
	require.ErrorIs(t, err, ports.ErrFileUnknown)
}

func testClose(t *testing.T, f Factory) {
	s := f(t, "a", "b")
	closeAll(t, s)
	dir := t.TempDir()
	atts := []*Attachment{NewAttachment(t, Payload(10, 1), dir), NewAttachment(t, Payload(s.Chunk*3, 2), ""), NewAttachment(t, Payload(7, 3), dir)}
	for i, att := range atts {
		require.NoError(t, s.Nodes[0].Offer(fmt.Sprint(i), att, ports.FileOffer{Readers: 3, Until: time.Now().Add(time.Hour)}))
	}
	require.NoError(t, s.Nodes[0].Close())
	for i, att := range atts {
		assert.Equal(t, int64(1), att.Refs(), "attachment %d", i)
	}
	require.NoError(t, s.Nodes[0].Close(), "a second Close does nothing")
	require.ErrorIs(t, s.Nodes[0].Offer("late", NewAttachment(t, Payload(1, 1), ""), ports.FileOffer{}), ports.ErrFileShareClosed)
	_, err := fetch(context.Background(), s.Nodes[0], "b", "x", 1)
	require.ErrorIs(t, err, ports.ErrFileShareClosed)
	_, err = fetch(context.Background(), s.Nodes[1], "a", "0", 10)
	require.ErrorIs(t, err, ports.ErrFileOriginGone)
}

// testWindow stalls a fetch's writer and checks that the origin has read
// no more than the fetch's window (and the chunk being written) meanwhile.
func testWindow(t *testing.T, f Factory) {
	s := f(t, "a", "b")
	closeAll(t, s)
	g := newGate(0)
	data := Payload((s.Window+20)*s.Chunk, 9)
	att := NewAttachment(t, data, t.TempDir())
	require.NoError(t, s.Nodes[0].Offer("big", att, ports.FileOffer{}))
	done := make(chan error, 1)
	go func() { done <- s.Nodes[1].Fetch(context.Background(), "a", "big", int64(len(data)), g) }()
	g.waitStalled(t)
	// Wait until the origin reads no more (it may be serving the window
	// still), then check how far it went.
	last, still := int64(-1), 0
	eventually(t, "the origin to stop reading", func() bool {
		n := att.ReadAtBytes()
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
		return still >= 40 // 200 ms without a read
	})
	assert.LessOrEqual(t, att.ReadAtBytes(), int64((s.Window+1)*s.Chunk),
		"a stalled fetch of a window of %d chunks of %d bytes", s.Window, s.Chunk)
	close(g.release)
	require.NoError(t, waitErr(t, done))
	require.True(t, bytes.Equal(data, g.buf.Bytes()))
}
