package ports

import (
	"errors"
	"io"
)

//go:generate go tool mockgen -typed -destination=mocks/spool.go -package=mocks pcx/ports Spool,Attachment

// ErrSpoolFull is returned (wrapped) by Spool.Store when the payload would
// take the spool over its size limit.
var ErrSpoolFull = errors.New("spool: full")

// Spool holds attachment payloads from the moment they have arrived whole
// until the last receiver has them. Small payloads stay in memory, large
// ones go to disk. It is safe for concurrent use.
type Spool interface {
	// Store reads exactly n bytes from r and keeps them. If r ends early or
	// the bytes cannot be kept, nothing is kept and the error says why; the
	// caller still owns what is left of r. The returned attachment holds one
	// reference, owned by the caller.
	Store(n int64, r io.Reader) (Attachment, error)
}

// Attachment is one stored payload, shared by its receivers through
// reference counting. It is safe for concurrent use.
type Attachment interface {
	// Size is the payload's length in bytes.
	Size() int64
	// Bytes returns the payload when it is held in memory, else nil.
	Bytes() []byte
	// Open returns a fresh reader of the whole payload. An on-disk payload
	// gives an *os.File, so that it can be sent with sendfile.
	Open() (io.ReadCloser, error)
	// Retain adds a reference; Release drops one. The storage is freed when
	// the last reference is dropped.
	Retain()
	Release()
}
