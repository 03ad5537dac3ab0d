package diskspool

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readOnlyFile is an empty file opened read-only: every write to it fails.
func readOnlyFile(t *testing.T) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// A file that refuses writes stands in for a full disk, which a test cannot
// make on demand.
func TestCopyPayloadReportsWriteErrors(t *testing.T) {
	f := readOnlyFile(t)

	s := &Spool{}
	dst := &budgetFile{s: s, f: f}
	err := copyPayload(dst, bytes.NewReader(make([]byte, 100)), 100)
	require.Error(t, err)
	assert.ErrorContains(t, err, "diskspool: writing payload file after 0 of 100 bytes")
	var pathErr *fs.PathError
	require.ErrorAs(t, err, &pathErr)
	assert.Equal(t, "write", pathErr.Op)
	assert.Zero(t, s.Used(), "a failed write takes no room")
}

// allocation is one call of a budgetFile's allocate.
type allocation struct{ off, n int64 }

// recordingAllocate returns an allocate that records its calls and fails
// with err (nil: succeeds), and the list it records into.
func recordingAllocate(err error) (func(*os.File, int64, int64) error, *[]allocation) {
	var calls []allocation
	return func(_ *os.File, off, n int64) error {
		calls = append(calls, allocation{off, n})
		return err
	}, &calls
}

func newPayloadFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "payload"))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + i>>8)
	}
	return p
}

// Blocks are reserved a step ahead of what arrived, never before the
// first byte, never past the declared size.
func TestPreallocationRunsAStepAheadOfTheWrites(t *testing.T) {
	t.Parallel()
	const n = 2*copyBufferSize + 100
	allocate, calls := recordingAllocate(nil)
	f := newPayloadFile(t)
	dst := &budgetFile{s: &Spool{}, f: f, size: n, allocate: allocate, step: copyBufferSize}
	data := pattern(n)

	// One block at a time, so that each write is one read.
	require.NoError(t, copyPayload(dst, iotest.HalfReader(bytes.NewReader(data)), n))

	got, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.Equal(t, data, got)
	require.NotEmpty(t, *calls)
	end := int64(0)
	for _, c := range *calls {
		assert.Equal(t, end, c.off, "each reservation goes on where the last ended")
		end = c.off + c.n
	}
	assert.Equal(t, int64(n), end, "up to the declared size and no further")
	assert.Greater(t, (*calls)[0].n, int64(copyBufferSize/2), "the first reservation is a step ahead of the first write")
}

func TestNothingIsPreallocatedForAPayloadThatSendsNothing(t *testing.T) {
	t.Parallel()
	allocate, calls := recordingAllocate(nil)
	dst := &budgetFile{s: &Spool{}, f: newPayloadFile(t), size: 1 << 30, allocate: allocate, step: 1 << 20}

	err := copyPayload(dst, bytes.NewReader(nil), 1<<30)

	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Empty(t, *calls, "a declared size alone reserves no disk")
}

// A file system without fallocate (or a refusal of it) costs nothing but
// the reservation: the payload is written whole, and reserving is not
// tried again.
func TestPreallocationFailureFallsBackToPlainWrites(t *testing.T) {
	t.Parallel()
	const n = 3*copyBufferSize + 7
	allocate, calls := recordingAllocate(syscall.EOPNOTSUPP)
	f := newPayloadFile(t)
	s := &Spool{}
	dst := &budgetFile{s: s, f: f, size: n, allocate: allocate, step: copyBufferSize}
	data := pattern(n)

	require.NoError(t, copyPayload(dst, iotest.HalfReader(bytes.NewReader(data)), n))

	got, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.Equal(t, data, got)
	assert.Len(t, *calls, 1, "tried once")
	assert.Equal(t, int64(n), s.Used())
}

// A full disk refuses the reservation and then the write: the error is
// the write's, as without preallocation, and the room is given back.
func TestFullDiskFailsTheWriteAfterTheReservation(t *testing.T) {
	t.Parallel()
	f := readOnlyFile(t)
	allocate, _ := recordingAllocate(syscall.ENOSPC)
	s := &Spool{}
	dst := &budgetFile{s: s, f: f, size: 100, allocate: allocate, step: 1 << 20}

	err := copyPayload(dst, bytes.NewReader(make([]byte, 100)), 100)

	require.Error(t, err)
	assert.ErrorContains(t, err, "diskspool: writing payload file after 0 of 100 bytes")
	assert.NotErrorIs(t, err, syscall.ENOSPC, "the reservation's failure is not the error")
	assert.Zero(t, s.Used(), "a failed write takes no room")
}

// countingSource counts the bytes read from it.
type countingSource struct {
	r io.Reader
	n int64
}

func (c *countingSource) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// Once a write failed, the copy reads no more: a full disk does not
// drain a gigabyte from the sender first.
func TestCopyStopsReadingOnceAWriteFailed(t *testing.T) {
	t.Parallel()
	f := readOnlyFile(t)
	const n = 64 * copyBufferSize
	src := &countingSource{r: bytes.NewReader(make([]byte, n))}

	err := copyPayload(&budgetFile{s: &Spool{}, f: f, size: n}, src, n)

	require.Error(t, err)
	assert.Equal(t, int64(copyBufferSize), src.n, "the block that failed, no more")
}
