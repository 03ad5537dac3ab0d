//go:build linux

package diskspool_test

import (
	"bytes"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/diskspool"
)

// TestWriteErrorCleansUp makes the disk refuse a write the way a full disk
// would, by lowering the process's file size limit: the Go runtime ignores
// SIGXFSZ, so the write fails with EFBIG. The limit is the whole process's,
// so this test must not run in parallel with others.
func TestWriteErrorCleansUp(t *testing.T) {
	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
	limited := old
	limited.Cur = 4096
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limited))
	defer func() { require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)) }()

	s := newSpool(t, diskspool.Options{MemoryThreshold: -1, MaxBytes: 1 << 20})
	a, err := s.Store(100_000, bytes.NewReader(payload(100_000)))
	require.ErrorIs(t, err, syscall.EFBIG)
	assert.ErrorContains(t, err, "diskspool: writing payload file after 4096 of 100000 bytes")
	assert.Nil(t, a)
	assert.Empty(t, files(t, s), "the partial file is removed")
	assert.Zero(t, s.Used(), "the reservation is returned")
}
