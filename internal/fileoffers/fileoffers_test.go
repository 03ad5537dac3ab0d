package fileoffers_test

import (
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/internal/fileoffers"
	"pcx/ports"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// slowAttachment is an on-disk-like attachment whose reads at an offset
// wait for release, and which counts its references and closes.
type slowAttachment struct {
	data    []byte
	refs    atomic.Int64
	closed  atomic.Int64
	reading chan struct{} // a read has begun
	release chan struct{} // reads go on
}

func newSlow(data []byte) *slowAttachment {
	a := &slowAttachment{data: data, reading: make(chan struct{}, 10), release: make(chan struct{})}
	a.refs.Store(1)
	return a
}

func (a *slowAttachment) Size() int64   { return int64(len(a.data)) }
func (a *slowAttachment) Bytes() []byte { return nil }
func (a *slowAttachment) Retain()       { a.refs.Add(1) }
func (a *slowAttachment) Release()      { a.refs.Add(-1) }
func (a *slowAttachment) Open() (io.ReadCloser, error) {
	return &slowReader{a: a}, nil
}

type slowReader struct{ a *slowAttachment }

func (r *slowReader) Read([]byte) (int, error) { return 0, io.EOF }
func (r *slowReader) Close() error             { r.a.closed.Add(1); return nil }
func (r *slowReader) ReadAt(p []byte, off int64) (int, error) {
	r.a.reading <- struct{}{}
	<-r.a.release
	return copy(p, r.a.data[off:]), nil
}

// A read under way when the offer ends finishes with the payload still
// there; the reference goes, and the file closes, once it is done.
func TestAnOfferEndsAfterTheReadsUnderWay(t *testing.T) {
	tab := fileoffers.New()
	a := newSlow([]byte("0123456789"))
	require.NoError(t, tab.Add("f", a, ports.FileOffer{}))
	require.Equal(t, int64(2), a.refs.Load())
	done := make(chan error, 1)
	buf := make([]byte, 4)
	go func() {
		_, err := tab.ReadAt("f", 10, buf, 3)
		done <- err
	}()
	<-a.reading
	tab.Withdraw("f")
	assert.Equal(t, int64(2), a.refs.Load(), "released under a read")
	assert.Zero(t, a.closed.Load(), "closed under a read")
	_, err := tab.ReadAt("f", 10, buf, 0)
	require.ErrorIs(t, err, ports.ErrFileUnknown, "no read starts once it ended")
	close(a.release)
	require.NoError(t, <-done)
	assert.Equal(t, "3456", string(buf))
	assert.Equal(t, int64(1), a.refs.Load())
	assert.Equal(t, int64(1), a.closed.Load())
	tab.Withdraw("f") // again: nothing
	assert.Equal(t, int64(1), a.refs.Load())
}

// The last expected fetch ends the offer; fetches of an offer without a
// count do not; the deadline ends it whatever the count.
func TestReadersAndDeadline(t *testing.T) {
	tab := fileoffers.New()
	counted, uncounted, timed := newSlow([]byte("a")), newSlow([]byte("b")), newSlow([]byte("c"))
	require.NoError(t, tab.Add("counted", counted, ports.FileOffer{Readers: 2}))
	require.NoError(t, tab.Add("uncounted", uncounted, ports.FileOffer{}))
	require.NoError(t, tab.Add("timed", timed, ports.FileOffer{Readers: 5, Until: time.Now().Add(50 * time.Millisecond)}))
	for _, id := range []string{"counted", "uncounted", "unknown"} {
		tab.FetchEnded(id)
	}
	assert.Equal(t, int64(2), counted.refs.Load())
	tab.FetchEnded("counted")
	assert.Equal(t, int64(1), counted.refs.Load())
	tab.FetchEnded("counted")
	assert.Equal(t, int64(1), counted.refs.Load(), "an ended offer is not ended twice")
	assert.Equal(t, int64(2), uncounted.refs.Load())
	require.Eventually(t, func() bool { return timed.refs.Load() == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 1, tab.Len())
	tab.Close()
	assert.Equal(t, int64(1), uncounted.refs.Load())
	assert.Equal(t, 0, tab.Len())
	require.ErrorIs(t, tab.Add("late", newSlow(nil), ports.FileOffer{}), ports.ErrFileShareClosed)
}

// A payload shorter than its size is an error, not a short chunk served as
// whole.
func TestAShortPayloadIsAnError(t *testing.T) {
	tab := fileoffers.New()
	a := newSlow([]byte("abc"))
	close(a.release)
	go func() {
		for range a.reading {
		}
	}()
	require.NoError(t, tab.Add("f", shortBy{a}, ports.FileOffer{}))
	_, err := tab.ReadAt("f", 5, make([]byte, 5), 0)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	tab.Close()
	close(a.reading)
}

// shortBy claims two bytes more than it has.
type shortBy struct{ *slowAttachment }

func (s shortBy) Size() int64 { return int64(len(s.data)) + 2 }
