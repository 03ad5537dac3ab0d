package diskspool

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync/atomic"
)

// ErrReleased is returned by Open after the last reference was released.
var ErrReleased = errors.New("diskspool: attachment already released")

// attachment is one stored payload: in memory when data is non-nil, else in
// the file at path.
type attachment struct {
	spool *Spool
	size  int64
	data  []byte // the payload when in memory (non-nil, even if empty)
	path  string // the payload file when on disk; removed at the last Release
	// refs counts the references; the storage is freed when it drops to 0,
	// and it never rises from 0 again.
	refs atomic.Int64
}

func newAttachment(s *Spool, size int64, data []byte, path string) *attachment {
	a := &attachment{spool: s, size: size, data: data, path: path}
	a.refs.Store(1)
	return a
}

// Size returns the payload's length in bytes.
func (a *attachment) Size() int64 { return a.size }

// Bytes returns the payload when it is held in memory, else nil.
func (a *attachment) Bytes() []byte { return a.data }

// Open returns a fresh reader of the whole payload: an *os.File with its own
// offset for a payload on disk, so that each receiver reads at its own pace
// and a writer can use sendfile.
func (a *attachment) Open() (io.ReadCloser, error) {
	if a.refs.Load() <= 0 {
		return nil, ErrReleased
	}
	if a.data != nil {
		return io.NopCloser(bytes.NewReader(a.data)), nil
	}
	f, err := os.Open(a.path)
	if err != nil {
		return nil, err // *PathError names the file and the operation
	}
	return f, nil
}

// Retain adds a reference. Retaining a released attachment is a programming
// error: its storage may be gone.
func (a *attachment) Retain() {
	if a.refs.Add(1) <= 1 {
		panic("diskspool: Retain of an attachment already released")
	}
}

// Release drops a reference and frees the storage with the last one.
// Releasing more often than retaining is a programming error.
func (a *attachment) Release() {
	switch refs := a.refs.Add(-1); {
	case refs < 0:
		panic("diskspool: Release of an attachment with no references left")
	case refs > 0 || a.data != nil:
		return
	}
	// Readers that are still open keep reading: the file is only unlinked.
	// A failed remove cannot be reported from here; Close removes the rest.
	os.Remove(a.path)
	a.spool.used.Add(-a.size)
}
