package diskspool

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A file that refuses writes stands in for a full disk, which a test cannot
// make on demand.
func TestCopyPayloadReportsWriteErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	f, err := os.Open(path) // read-only: every write fails
	require.NoError(t, err)
	defer f.Close()

	s := &Spool{}
	dst := &budgetFile{s: s, f: f}
	err = copyPayload(dst, bytes.NewReader(make([]byte, 100)), 100)
	require.Error(t, err)
	assert.ErrorContains(t, err, "diskspool: writing payload file after 0 of 100 bytes")
	var pathErr *fs.PathError
	require.ErrorAs(t, err, &pathErr)
	assert.Equal(t, "write", pathErr.Op)
	assert.Zero(t, s.Used(), "a failed write takes no room")
}
