// Package diskspool is the ports.Spool that keeps small attachment payloads
// in memory and large ones in files of a private directory, under a limit on
// the bytes held on disk at once.
package diskspool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"pcx/ports"
)

// DefaultMemoryThreshold is the largest payload kept in memory when
// Options.MemoryThreshold is zero.
const DefaultMemoryThreshold = 64 << 10

// ErrClosed is returned by Store after Close.
var ErrClosed = errors.New("diskspool: closed")

// Options configure a Spool.
type Options struct {
	// Dir is where the spool makes its private directory; "" means
	// os.TempDir().
	Dir string
	// MemoryThreshold is the largest payload kept in memory: 0 means
	// DefaultMemoryThreshold, a negative value sends every payload to disk.
	MemoryThreshold int64
	// MaxBytes bounds the total size of the payloads on disk at once;
	// 0 means no bound.
	MaxBytes int64
	// DirectCopy lets a source that knows its length and can write itself
	// out (see sizedSource) put a payload into its file: framing's payload
	// reader then has the file take the bytes straight from the socket,
	// with splice(2) on Linux. Off by default because on the benchmark box
	// (KVM guest, ext4 /tmp, loopback) that was slower than the 256 KiB
	// read-write loop and took more CPU; on tmpfs the two were even.
	DirectCopy bool
}

// Spool keeps attachment payloads until their last reference is released.
// It is safe for concurrent use.
type Spool struct {
	dir       string // private directory, made by New, removed by Close
	threshold int64  // payloads of at most this many bytes stay in memory
	maxBytes  int64  // bound on used; 0 means none
	direct    bool   // Options.DirectCopy
	// used is the bytes reserved by payloads on disk: reserved before a file
	// is written, returned when the write fails or the last reference goes.
	used   atomic.Int64
	closed atomic.Bool
}

var (
	_ ports.Spool      = (*Spool)(nil)
	_ ports.Attachment = (*attachment)(nil)
)

// New makes the spool's private directory inside opts.Dir.
func New(opts Options) (*Spool, error) {
	if opts.MaxBytes < 0 {
		return nil, fmt.Errorf("diskspool: negative MaxBytes %d", opts.MaxBytes)
	}
	dir, err := os.MkdirTemp(opts.Dir, "pcx-spool-")
	if err != nil {
		return nil, fmt.Errorf("diskspool: making spool directory: %w", err)
	}
	threshold := opts.MemoryThreshold
	if threshold == 0 {
		threshold = DefaultMemoryThreshold
	}
	return &Spool{dir: dir, threshold: threshold, maxBytes: opts.MaxBytes, direct: opts.DirectCopy}, nil
}

// Dir returns the spool's private directory.
func (s *Spool) Dir() string { return s.dir }

// Used returns the bytes held by payloads on disk.
func (s *Spool) Used() int64 { return s.used.Load() }

// Close removes the private directory and every payload file in it. Readers
// already open keep working (the files are only unlinked), but Store fails
// from now on. Attachments still referenced must not be opened again.
func (s *Spool) Close() error {
	s.closed.Store(true)
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("diskspool: removing spool directory: %w", err)
	}
	return nil
}

// Store reads exactly n bytes from r and keeps them, in memory when n is at
// most the memory threshold, else in a file. A payload for disk first
// reserves n bytes under MaxBytes: if that fails, the error wraps
// ports.ErrSpoolFull and nothing is read. The attachment returned holds one
// reference.
func (s *Spool) Store(n int64, r io.Reader) (ports.Attachment, error) {
	switch {
	case n < 0:
		return nil, fmt.Errorf("diskspool: negative payload size %d", n)
	case s.closed.Load():
		return nil, ErrClosed
	case n <= s.threshold:
		return s.storeInMemory(n, r)
	}
	if err := s.reserve(n); err != nil {
		return nil, err
	}
	a, err := s.storeOnDisk(n, r)
	if err != nil {
		s.used.Add(-n)
		return nil, err
	}
	return a, nil
}

func (s *Spool) storeInMemory(n int64, r io.Reader) (*attachment, error) {
	data := make([]byte, n)
	if got, err := io.ReadFull(r, data); err != nil {
		return nil, cutOff(int64(got), n, err)
	}
	return newAttachment(s, n, data, ""), nil
}

// reserve takes n bytes of the MaxBytes budget, or none.
func (s *Spool) reserve(n int64) error {
	for {
		used := s.used.Load()
		if s.maxBytes > 0 && n > s.maxBytes-used {
			return fmt.Errorf("diskspool: payload of %d bytes with %d of %d in use: %w",
				n, used, s.maxBytes, ports.ErrSpoolFull)
		}
		if s.used.CompareAndSwap(used, used+n) {
			return nil
		}
	}
}

// storeOnDisk writes the payload to a new file and removes the file again
// if anything goes wrong. The caller returns the reservation on error.
func (s *Spool) storeOnDisk(n int64, r io.Reader) (*attachment, error) {
	f, err := os.CreateTemp(s.dir, "payload-")
	if err != nil {
		return nil, fmt.Errorf("diskspool: creating payload file: %w", err)
	}
	err = s.copyPayload(f, r, n)
	if closeErr := f.Close(); err == nil && closeErr != nil {
		err = fmt.Errorf("diskspool: writing payload file: %w", closeErr)
	}
	if err != nil {
		os.Remove(f.Name()) // best effort: Close removes what is left
		return nil, err
	}
	return newAttachment(s, n, nil, f.Name()), nil
}

// copyBufferSize is the buffer of a payload copy: each step is one read
// from the socket and one write to the file. Copying 1 GiB over loopback
// into ext4 on the benchmark box, 256 KiB steps took a fifth less server
// CPU and time than 64 KiB ones; much larger writes were erratic there.
const copyBufferSize = 256 << 10

// copyBuffers hold the buffers of payload copies, so that a busy server does
// not allocate one per attachment.
var copyBuffers = sync.Pool{New: func() any { return new([copyBufferSize]byte) }}

// sizedSource is a reader that knows how many bytes it has left and can
// write them all out itself. framing's payload reader is one: its WriteTo
// lets the file read the body straight from the socket (splice on Linux),
// so that all but its first few KiB never pass through user space.
//
// Store promises to read exactly n bytes, and r may hold more, so WriteTo
// is used (with Options.DirectCopy) only when Len says that r holds
// exactly n: writing all of r is then reading exactly n bytes. Any other
// reader is copied through a buffer, and a LimitReader keeps the copy to n
// bytes.
type sizedSource interface {
	io.WriterTo
	// Len is the number of bytes left before io.EOF.
	Len() int64
}

// copyPayload copies exactly n bytes from r to f.
func (s *Spool) copyPayload(f *os.File, r io.Reader, n int64) error {
	if src, ok := r.(sizedSource); ok && s.direct && src.Len() == n {
		return writePayload(f, src, n)
	}
	return bufferPayload(f, r, n)
}

// writePayload has src, which holds exactly n bytes, write them all to f.
func writePayload(f *os.File, src io.WriterTo, n int64) error {
	got, err := src.WriteTo(f)
	switch {
	case err != nil:
		// One call moved the bytes from the source into the file: whether
		// reading or writing failed cannot be told here. A source cut off
		// says so with io.ErrUnexpectedEOF.
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("diskspool: copying payload into the spool file after %d of %d bytes: %w", got, n, err)
	case got < n:
		return cutOff(got, n, nil)
	case got > n:
		return fmt.Errorf("diskspool: payload source wrote %d bytes, more than the %d it said it held", got, n)
	}
	return nil
}

// bufferPayload copies exactly n bytes from r to f through a buffer and
// says, on failure, whether reading or writing failed.
func bufferPayload(f *os.File, r io.Reader, n int64) error {
	buf := copyBuffers.Get().(*[copyBufferSize]byte)
	defer copyBuffers.Put(buf)
	// The writer is wrapped so that the error can be told apart, which
	// also keeps io.CopyBuffer on its plain read-write loop.
	w := &errWriter{w: f}
	got, err := io.CopyBuffer(w, io.LimitReader(r, n), buf[:])
	switch {
	case w.err != nil:
		return fmt.Errorf("diskspool: writing payload file after %d of %d bytes: %w", got, n, w.err)
	case err != nil || got < n:
		return cutOff(got, n, err)
	}
	return nil
}

// cutOff is the error of a payload whose reader ended or failed early; err
// nil or io.EOF means the reader ended.
func cutOff(got, n int64, err error) error {
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("diskspool: payload cut off after %d of %d bytes: %w", got, n, err)
}

// errWriter remembers the error of its writer.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
