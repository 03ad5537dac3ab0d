package diskspool_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/adapters/diskspool"
	"pcx/ports"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newSpool(t *testing.T, opts diskspool.Options) *diskspool.Spool {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := diskspool.New(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func payload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + i>>8)
	}
	return p
}

func files(t *testing.T, s *diskspool.Spool) []string {
	t.Helper()
	entries, err := os.ReadDir(s.Dir())
	require.NoError(t, err)
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readAll(t *testing.T, a ports.Attachment) []byte {
	t.Helper()
	rc, err := a.Open()
	require.NoError(t, err)
	defer rc.Close()
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	return got
}

func TestStoreRoundTrip(t *testing.T) {
	const threshold = 1 << 10
	for _, tt := range []struct {
		name   string
		size   int
		onDisk bool
	}{
		{"empty payload in memory", 0, false},
		{"small payload in memory", 100, false},
		{"threshold in memory", threshold, false},
		{"one over threshold on disk", threshold + 1, true},
		{"large payload on disk", 1<<20 + 3, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpool(t, diskspool.Options{MemoryThreshold: threshold})
			want := payload(tt.size)
			a, err := s.Store(int64(tt.size), bytes.NewReader(append(want, "next frame"...)))
			require.NoError(t, err)
			assert.Equal(t, int64(tt.size), a.Size())
			assert.Equal(t, want, readAll(t, a))
			if tt.onDisk {
				assert.Nil(t, a.Bytes())
				assert.Len(t, files(t, s), 1)
				assert.Equal(t, int64(tt.size), s.Used())
			} else {
				assert.Equal(t, want, a.Bytes())
				assert.NotNil(t, a.Bytes(), "in memory even when empty")
				assert.Empty(t, files(t, s))
				assert.Zero(t, s.Used())
			}
			a.Release()
			assert.Empty(t, files(t, s))
			assert.Zero(t, s.Used())
		})
	}
}

func TestStoreLeavesTheRestOfTheReader(t *testing.T) {
	for _, threshold := range []int64{-1, 1 << 10} {
		s := newSpool(t, diskspool.Options{MemoryThreshold: threshold})
		r := bytes.NewReader([]byte("payloadNEXT"))
		a, err := s.Store(7, r)
		require.NoError(t, err)
		rest, _ := io.ReadAll(r)
		assert.Equal(t, "NEXT", string(rest), "threshold %d", threshold)
		assert.Equal(t, "payload", string(readAll(t, a)))
		a.Release()
	}
}

func TestDefaultThresholdIs64KiB(t *testing.T) {
	s := newSpool(t, diskspool.Options{})
	small, err := s.Store(64<<10, bytes.NewReader(payload(64<<10)))
	require.NoError(t, err)
	defer small.Release()
	assert.NotNil(t, small.Bytes())
	large, err := s.Store(64<<10+1, bytes.NewReader(payload(64<<10+1)))
	require.NoError(t, err)
	defer large.Release()
	assert.Nil(t, large.Bytes())
}

func TestNegativeThresholdSendsEverythingToDisk(t *testing.T) {
	s := newSpool(t, diskspool.Options{MemoryThreshold: -1})
	a, err := s.Store(0, bytes.NewReader(nil))
	require.NoError(t, err)
	assert.Nil(t, a.Bytes())
	assert.Len(t, files(t, s), 1)
	assert.Empty(t, readAll(t, a))
	a.Release()
	assert.Empty(t, files(t, s))
}

func TestOpenGivesAFileForDiskPayloads(t *testing.T) {
	s := newSpool(t, diskspool.Options{MemoryThreshold: -1})
	a, err := s.Store(3, bytes.NewReader([]byte("abc")))
	require.NoError(t, err)
	defer a.Release()
	rc, err := a.Open()
	require.NoError(t, err)
	defer rc.Close()
	f, ok := rc.(*os.File)
	require.True(t, ok, "want *os.File for sendfile, got %T", rc)
	assert.Equal(t, s.Dir(), filepath.Dir(f.Name()))
	_, err = f.Write([]byte("x"))
	assert.Error(t, err, "opened read-only")
}

func TestCutOffPayloadIsDropped(t *testing.T) {
	errBoom := errors.New("connection reset")
	for _, tt := range []struct {
		name      string
		threshold int64
		reader    io.Reader
		want      error
	}{
		{"short in memory", 1 << 10, bytes.NewReader(payload(50)), io.ErrUnexpectedEOF},
		{"nothing in memory", 1 << 10, bytes.NewReader(nil), io.ErrUnexpectedEOF},
		{"short on disk", -1, bytes.NewReader(payload(50)), io.ErrUnexpectedEOF},
		{"nothing on disk", -1, bytes.NewReader(nil), io.ErrUnexpectedEOF},
		{"read error in memory", 1 << 10, io.MultiReader(bytes.NewReader(payload(50)), iotest.ErrReader(errBoom)), errBoom},
		{"read error on disk", -1, io.MultiReader(bytes.NewReader(payload(50)), iotest.ErrReader(errBoom)), errBoom},
		{"one byte at a time then short on disk", -1, iotest.OneByteReader(bytes.NewReader(payload(99))), io.ErrUnexpectedEOF},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpool(t, diskspool.Options{MemoryThreshold: tt.threshold, MaxBytes: 1 << 20})
			a, err := s.Store(100, tt.reader)
			require.ErrorIs(t, err, tt.want)
			assert.ErrorContains(t, err, "diskspool: payload cut off after")
			assert.Nil(t, a)
			assert.Empty(t, files(t, s), "the partial file is removed")
			assert.Zero(t, s.Used(), "the reservation is returned")
		})
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestMaxBytesRefusesWhenTheArrivingBytesPassIt(t *testing.T) {
	s := newSpool(t, diskspool.Options{MemoryThreshold: 10, MaxBytes: 100})
	first, err := s.Store(60, bytes.NewReader(payload(60)))
	require.NoError(t, err)

	_, err = s.Store(50, bytes.NewReader(payload(50)))
	require.ErrorIs(t, err, ports.ErrSpoolFull)
	assert.Equal(t, int64(60), s.Used(), "the refused payload gives back what it took")
	assert.Len(t, files(t, s), 1)

	small, err := s.Store(10, bytes.NewReader(payload(10)))
	require.NoError(t, err, "payloads in memory do not count")
	small.Release()

	fits, err := s.Store(40, bytes.NewReader(payload(40)))
	require.NoError(t, err, "exactly up to the limit")
	assert.Equal(t, int64(100), s.Used())
	fits.Release()

	first.Release()
	assert.Zero(t, s.Used())
	again, err := s.Store(50, bytes.NewReader(payload(50)))
	require.NoError(t, err, "room again once released")
	again.Release()

	r := &countingReader{r: bytes.NewReader(payload(101))}
	_, err = s.Store(101, r)
	assert.ErrorIs(t, err, ports.ErrSpoolFull, "larger than the whole limit")
	assert.Zero(t, r.n, "a payload that can never fit is refused unread")
}

// stalledStore starts storing a payload that declares size bytes, sends
// the first sent of them, and waits until the spool holds them. It
// returns the writer of the rest and the channel of Store's result.
func stalledStore(t *testing.T, s *diskspool.Spool, size, sent int) (*io.PipeWriter, <-chan storeResult) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan storeResult, 1)
	base := s.Used()
	go func() {
		a, err := s.Store(int64(size), pr)
		pr.CloseWithError(err)
		done <- storeResult{a, err}
	}()
	_, err := pw.Write(payload(size)[:sent])
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.Used() == base+int64(sent) },
		5*time.Second, time.Millisecond, "the spool takes room for the bytes that arrived")
	return pw, done
}

type storeResult struct {
	a   ports.Attachment
	err error
}

// A payload takes room as its bytes arrive: one that declared 80 bytes and
// sent 40 holds 40, so another of 60 still fits a budget of 100, though
// the two declared 140 together.
func TestRoomIsTakenAsBytesArrive(t *testing.T) {
	t.Parallel()
	s := newSpool(t, diskspool.Options{MemoryThreshold: -1, MaxBytes: 100})
	rest, stalled := stalledStore(t, s, 80, 40)

	other, err := s.Store(60, bytes.NewReader(payload(60)))
	require.NoError(t, err, "the stalled payload's declared size holds no room")
	assert.Equal(t, int64(100), s.Used())
	other.Release()

	_, err = rest.Write(payload(80)[40:])
	require.NoError(t, err)
	res := <-stalled
	require.NoError(t, res.err)
	assert.Equal(t, int64(80), s.Used())
	assertPayload(t, res.a, payload(80))
	res.a.Release()
	assert.Zero(t, s.Used())
}

// A payload whose arriving bytes pass the budget fails with ErrSpoolFull
// and gives back the room it took; the one that was there first still
// completes.
func TestPayloadArrivingPastTheBudgetFails(t *testing.T) {
	t.Parallel()
	s := newSpool(t, diskspool.Options{MemoryThreshold: -1, MaxBytes: 100})
	rest, stalled := stalledStore(t, s, 80, 40)

	_, err := s.Store(70, bytes.NewReader(payload(70)))
	require.ErrorIs(t, err, ports.ErrSpoolFull)
	assert.Equal(t, int64(40), s.Used(), "the failed payload gave back all it took")
	assert.Len(t, files(t, s), 1, "its file is gone")

	_, err = rest.Write(payload(80)[40:])
	require.NoError(t, err)
	res := <-stalled
	require.NoError(t, res.err)
	assertPayload(t, res.a, payload(80))
	res.a.Release()
	assert.Zero(t, s.Used())
}

func assertPayload(t *testing.T, a ports.Attachment, want []byte) {
	t.Helper()
	r, err := a.Open()
	require.NoError(t, err)
	defer r.Close()
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestConcurrentStoresStayWithinMaxBytes(t *testing.T) {
	const maxBytes, size, writers = 1000, 300, 16
	s := newSpool(t, diskspool.Options{MemoryThreshold: -1, MaxBytes: maxBytes})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var stored []ports.Attachment
	for range writers {
		wg.Go(func() {
			a, err := s.Store(size, bytes.NewReader(payload(size)))
			if err != nil {
				assert.ErrorIs(t, err, ports.ErrSpoolFull)
				return
			}
			mu.Lock()
			stored = append(stored, a)
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Len(t, stored, maxBytes/size, "exactly as many as fit")
	assert.Equal(t, int64(len(stored)*size), s.Used())
	for _, a := range stored {
		a.Release()
	}
	assert.Zero(t, s.Used())
	assert.Empty(t, files(t, s))
}

func TestLastReleaseRemovesTheFile(t *testing.T) {
	s := newSpool(t, diskspool.Options{MemoryThreshold: -1})
	want := payload(1000)
	a, err := s.Store(1000, bytes.NewReader(want))
	require.NoError(t, err)
	a.Retain()
	a.Retain()

	a.Release()
	a.Release()
	assert.Len(t, files(t, s), 1, "one reference left")
	assert.Equal(t, want, readAll(t, a), "open after all but one release")

	a.Release()
	assert.Empty(t, files(t, s))
	assert.Zero(t, s.Used())
	_, err = a.Open()
	assert.ErrorIs(t, err, diskspool.ErrReleased)
}

func TestOpenReadersAreIndependentAndOutliveRelease(t *testing.T) {
	s := newSpool(t, diskspool.Options{MemoryThreshold: -1})
	want := payload(10)
	a, err := s.Store(10, bytes.NewReader(want))
	require.NoError(t, err)
	r1, err := a.Open()
	require.NoError(t, err)
	defer r1.Close()
	r2, err := a.Open()
	require.NoError(t, err)
	defer r2.Close()

	head := make([]byte, 4)
	_, err = io.ReadFull(r1, head)
	require.NoError(t, err)
	a.Release()

	all, err := io.ReadAll(r2)
	require.NoError(t, err)
	assert.Equal(t, want, all, "second reader starts at its own offset")
	rest, err := io.ReadAll(r1)
	require.NoError(t, err)
	assert.Equal(t, want, append(head, rest...), "first reader continues after the file is unlinked")
}

func TestConcurrentRetainRelease(t *testing.T) {
	for _, threshold := range []int64{-1, 1 << 10} {
		s := newSpool(t, diskspool.Options{MemoryThreshold: threshold})
		want := payload(100)
		a, err := s.Store(100, bytes.NewReader(want))
		require.NoError(t, err)
		var wg sync.WaitGroup
		for range 32 {
			a.Retain() // on behalf of the goroutine, as a broadcaster would
			wg.Go(func() {
				for range 100 {
					a.Retain()
					a.Release()
				}
				rc, err := a.Open()
				if assert.NoError(t, err) {
					got, _ := io.ReadAll(rc)
					assert.Equal(t, want, got)
					rc.Close()
				}
				a.Release()
			})
		}
		wg.Wait()
		assert.Equal(t, want, readAll(t, a), "the first reference is still held")
		a.Release()
		assert.Empty(t, files(t, s))
		assert.Zero(t, s.Used())
	}
}

func TestMisuseOfReferencesPanics(t *testing.T) {
	for _, threshold := range []int64{-1, 1 << 10} {
		s := newSpool(t, diskspool.Options{MemoryThreshold: threshold})
		a, err := s.Store(1, bytes.NewReader([]byte("x")))
		require.NoError(t, err)
		a.Release()
		assert.PanicsWithValue(t, "diskspool: Release of an attachment with no references left", a.Release)
		assert.PanicsWithValue(t, "diskspool: Retain of an attachment already released", a.Retain)
	}
}

func TestCreateFailureReturnsTheReservation(t *testing.T) {
	s := newSpool(t, diskspool.Options{MemoryThreshold: -1, MaxBytes: 100})
	require.NoError(t, os.RemoveAll(s.Dir()))
	_, err := s.Store(10, bytes.NewReader(payload(10)))
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorContains(t, err, "diskspool: creating payload file")
	assert.Zero(t, s.Used())
}

func TestCloseRemovesTheDirectory(t *testing.T) {
	parent := t.TempDir()
	s, err := diskspool.New(diskspool.Options{Dir: parent, MemoryThreshold: -1})
	require.NoError(t, err)
	assert.Equal(t, parent, filepath.Dir(s.Dir()))
	assert.Contains(t, filepath.Base(s.Dir()), "pcx-spool-")
	a, err := s.Store(10, bytes.NewReader(payload(10)))
	require.NoError(t, err)

	require.NoError(t, s.Close())
	_, err = os.Stat(s.Dir())
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = s.Store(1, bytes.NewReader([]byte("x")))
	assert.ErrorIs(t, err, diskspool.ErrClosed)
	a.Release() // the file is gone already; releasing must not fail
	assert.Zero(t, s.Used())
}

func TestNew(t *testing.T) {
	s, err := diskspool.New(diskspool.Options{})
	require.NoError(t, err)
	assert.Equal(t, filepath.Clean(os.TempDir()), filepath.Dir(s.Dir()))
	require.NoError(t, s.Close())

	_, err = diskspool.New(diskspool.Options{Dir: filepath.Join(t.TempDir(), "missing")})
	assert.ErrorContains(t, err, "diskspool: making spool directory")

	_, err = diskspool.New(diskspool.Options{Dir: t.TempDir(), MaxBytes: -1})
	assert.Error(t, err)

	s = newSpool(t, diskspool.Options{})
	_, err = s.Store(-1, bytes.NewReader(nil))
	assert.Error(t, err)
}
