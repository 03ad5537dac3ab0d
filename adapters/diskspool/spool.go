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
}

// Spool keeps attachment payloads until their last reference is released.
// It is safe for concurrent use.
type Spool struct {
	dir       string // private directory, made by New, removed by Close
	threshold int64  // payloads of at most this many bytes stay in memory
	maxBytes  int64  // bound on used; 0 means none
	// used is the bytes reserved by payloads on disk: reserved as the bytes
	// arrive, before each write to the file, and returned when the write
	// fails or the last reference goes.
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
	return &Spool{dir: dir, threshold: threshold, maxBytes: opts.MaxBytes}, nil
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
// most the memory threshold, else in a file. A payload for disk takes its
// room under MaxBytes as its bytes arrive, not as its size declares: a
// sender that declared a huge payload and then sent nothing holds nothing.
// When the arriving bytes would pass MaxBytes, or n alone does, the error
// wraps ports.ErrSpoolFull and what the payload took is given back. The
// attachment returned holds one reference.
func (s *Spool) Store(n int64, r io.Reader) (ports.Attachment, error) {
	switch {
	case n < 0:
		return nil, fmt.Errorf("diskspool: negative payload size %d", n)
	case s.closed.Load():
		return nil, ErrClosed
	case n <= s.threshold:
		return s.storeInMemory(n, r)
	case s.maxBytes > 0 && n > s.maxBytes:
		return nil, fmt.Errorf("diskspool: payload of %d bytes is over the spool's %d: %w",
			n, s.maxBytes, ports.ErrSpoolFull)
	}
	return s.storeOnDisk(n, r)
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
			return fmt.Errorf("diskspool: %d more bytes with %d of %d in use: %w",
				n, used, s.maxBytes, ports.ErrSpoolFull)
		}
		if s.used.CompareAndSwap(used, used+n) {
			return nil
		}
	}
}

// storeOnDisk writes the payload to a new file and removes the file again,
// and gives back the room it took, if anything goes wrong.
func (s *Spool) storeOnDisk(n int64, r io.Reader) (*attachment, error) {
	f, err := os.CreateTemp(s.dir, "payload-")
	if err != nil {
		return nil, fmt.Errorf("diskspool: creating payload file: %w", err)
	}
	dst := &budgetFile{s: s, f: f, size: n, allocate: fallocate, step: preallocStep}
	err = copyPayload(dst, r, n)
	if closeErr := f.Close(); err == nil && closeErr != nil {
		err = fmt.Errorf("diskspool: writing payload file: %w", closeErr)
	}
	if err != nil {
		os.Remove(f.Name()) // best effort: Close removes what is left
		s.used.Add(-dst.took)
		return nil, err
	}
	// The attachment gives back n at its last Release; the file took
	// exactly n, the copy having read exactly n bytes.
	return newAttachment(s, n, nil, f.Name()), nil
}

// budgetFile is a payload file that takes room in the spool's budget for
// each write before it is made, and remembers how much it took and the
// error of the file, so that a failed copy can say whether reading or
// writing failed. It also reserves the file's blocks a step ahead of the
// writes (see preallocStep).
type budgetFile struct {
	s    *Spool
	f    *os.File
	size int64 // the payload's declared size: no block is reserved past it
	took int64 // the room taken, in bytes: what was written
	err  error // the first failure of the budget or the file

	// allocate reserves blocks of f (fallocate); nil, or once it has
	// failed, the file is written without.
	allocate func(f *os.File, off, n int64) error
	step     int64 // how far ahead of the writes blocks are reserved: preallocStep
	// allocated is the end of the blocks reserved so far.
	allocated int64
}

// preallocStep is how far ahead of the bytes written the payload file's
// blocks are reserved. Payload files written into ext4 in 256 KiB blocks
// took a sixth less CPU with their blocks reserved ahead
// (BenchmarkPayloadFile): the delayed allocation of each write has
// nothing left to do. Reserving in steps as
// the bytes arrive, not the declared size at once, keeps to the spool's
// rule that a sender who declared a huge payload and sent nothing holds
// nothing: it holds at most one step of disk more than it sent.
const preallocStep = 32 << 20

// Write takes room for p, then writes it.
func (b *budgetFile) Write(p []byte) (int, error) {
	if err := b.s.reserve(int64(len(p))); err != nil {
		b.err = err
		return 0, err
	}
	b.preallocate(b.took + int64(len(p)))
	n, err := b.f.Write(p)
	b.s.used.Add(int64(n - len(p))) // give back what was not written
	b.took += int64(n)
	if err != nil {
		b.err = err
	}
	return n, err
}

// preallocate reserves the file's blocks up to a step past end, if they
// are not yet. A failure (a file system without fallocate, a full disk)
// only ends the reserving: the writes go on without, and a full disk
// fails them as it would have.
func (b *budgetFile) preallocate(end int64) {
	if b.allocate == nil || end <= b.allocated {
		return
	}
	next := min(b.size, end+b.step)
	if err := b.allocate(b.f, b.allocated, next-b.allocated); err != nil {
		b.allocate = nil
		return
	}
	b.allocated = next
}

// copyBufferSize is the buffer of a payload copy: each step is one read
// from the socket and one write to the file. Copying 1 GiB over loopback
// into ext4 on the benchmark box, 256 KiB steps took a fifth less server
// CPU and time than 64 KiB ones; much larger writes were erratic there.
const copyBufferSize = 256 << 10

// copyBuffers hold the buffers of payload copies, so that a busy server does
// not allocate one per attachment.
var copyBuffers = sync.Pool{New: func() any { return new([copyBufferSize]byte) }}

// copyPayload copies exactly n bytes from r to f through a buffer and
// says, on failure, whether reading or writing failed: each read is
// written, and its room taken, before the next.
//
// Overlapping the two (a goroutine writing one buffer while the next is
// read and decrypted) was measured on the benchmark box and gained
// nothing there, busy or quiet; see BENCHMARKS.md, issue 11.
func copyPayload(f *budgetFile, r io.Reader, n int64) error {
	buf := copyBuffers.Get().(*[copyBufferSize]byte)
	defer copyBuffers.Put(buf)
	// LimitReader keeps the copy to n bytes (r may hold more) and hides
	// any WriteTo of r, so that every step goes through buf.
	got, err := io.CopyBuffer(f, io.LimitReader(r, n), buf[:])
	switch {
	case errors.Is(f.err, ports.ErrSpoolFull):
		return fmt.Errorf("diskspool: payload of %d bytes after %d: %w", n, got, f.err)
	case f.err != nil:
		return fmt.Errorf("diskspool: writing payload file after %d of %d bytes: %w", got, n, f.err)
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
