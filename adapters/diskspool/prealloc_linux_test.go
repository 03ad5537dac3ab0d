//go:build linux

package diskspool

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fallocate reserves blocks without making the file longer: a payload
// cut off reads as what arrived.
func TestFallocateReservesBlocksNotSize(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "payload"))
	require.NoError(t, err)
	defer f.Close()

	err = fallocate(f, 0, 1<<20)
	if errors.Is(err, syscall.EOPNOTSUPP) {
		t.Skip("the temporary directory's file system has no fallocate")
	}
	require.NoError(t, err)

	var st syscall.Stat_t
	require.NoError(t, syscall.Fstat(int(f.Fd()), &st))
	assert.Zero(t, st.Size, "the size is unchanged")
	assert.GreaterOrEqual(t, st.Blocks*512, int64(1<<20), "the blocks are reserved")
}
