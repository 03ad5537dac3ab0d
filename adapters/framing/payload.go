package framing

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrOutOfStep is returned (wrapped, together with the cause) by every read
// of a Reader after a payload copy that handed the connection itself to its
// destination failed: the destination may have taken bytes from the
// connection that it never counted (Linux splice drops what is left in its
// pipe), so where the next frame starts is unknown.
var ErrOutOfStep = errors.New("framing: stream out of step after a failed payload copy")

// Len returns the number of body bytes not yet read: what a Read loop or
// WriteTo will yield before io.EOF. A stale payload reader has none.
func (p *payloadReader) Len() int64 {
	r := p.r
	if r.frame != p.frame || r.broken != nil {
		return 0
	}
	return r.remaining
}

// WriteTo writes the rest of the body to w; io.Copy finds it. First go the
// body bytes already in the Reader's buffer; then, when the Reader has a
// direct source (a Conn's net.Conn) and w is an io.ReaderFrom, w reads the
// rest from that source itself: an *os.File does it with splice(2) from a
// TCP socket, without the bytes passing through user space (which is not
// always faster: see directStep). Otherwise the rest is read through the
// Reader, by w's ReadFrom or in 256 KiB steps. A stream that ends inside
// the body gives an error wrapping io.ErrUnexpectedEOF.
//
// If a copy from the direct source fails, the Reader is out of step (see
// ErrOutOfStep): whether the source or w failed cannot be told, and the
// caller learns that the stream cannot go on when it next reads or skips.
func (p *payloadReader) WriteTo(w io.Writer) (int64, error) {
	r := p.r
	switch {
	case r.frame != p.frame:
		return 0, ErrStalePayload
	case r.broken != nil:
		return 0, r.broken
	}
	written, err := r.writeBuffered(w)
	if err != nil || r.remaining == 0 {
		return written, err
	}
	var n int64
	// p is wrapped to hide WriteTo, which would be called again.
	switch rf, ok := w.(io.ReaderFrom); {
	case ok && r.direct != nil:
		n, err = r.copyDirect(rf)
	case ok && !r.fillReads:
		n, err = rf.ReadFrom(struct{ io.Reader }{p})
	default:
		buf := plainCopyBuffers.Get().(*[plainCopyBufferSize]byte)
		n, err = io.CopyBuffer(w, struct{ io.Reader }{p}, buf[:])
		plainCopyBuffers.Put(buf)
	}
	return written + n, err
}

// plainCopyBufferSize is the buffer of a payload copied to a writer that
// cannot read for itself. io.CopyBuffer's own buffer goes unused once the
// source has WriteTo, so this one is as large as callers tend to choose:
// the reads bypass the Reader's small buffer and take this much at once.
const plainCopyBufferSize = 256 << 10

// plainCopyBuffers hold those buffers between copies.
var plainCopyBuffers = sync.Pool{New: func() any { return new([plainCopyBufferSize]byte) }}

// writeBuffered writes to w the body bytes the buffer already holds, and
// consumes those that w took.
func (r *Reader) writeBuffered(w io.Writer) (int64, error) {
	k := int(min(int64(r.br.Buffered()), r.remaining))
	if k == 0 {
		return 0, nil
	}
	buf, _ := r.br.Peek(k) // cannot fail: the bytes are buffered
	n, err := w.Write(buf)
	_, _ = r.br.Discard(n) // cannot fail either
	r.remaining -= int64(n)
	return int64(n), err
}

// directStep bounds the bytes one ReadFrom call takes from the direct
// source. Left alone, Go splices up to 1 MiB per system call, and copying
// 1 GiB from loopback TCP into an ext4 file (Linux 6.18 in a KVM guest, the
// project's benchmark box) then mostly ran at 0.3 to 0.6 GB/s with twice
// the CPU of a plain 64 KiB read-write loop (1.2 to 1.8 GB/s), the time
// going to the kernel's copy from the pipe into the page cache. Smaller
// steps were fast in some runs (128 KiB: up to 2.9 GB/s) and as slow in
// others; 128 KiB was the best seen.
const directStep = 128 << 10

// copyDirect lets rf read the rest of the body straight from the direct
// source, directStep bytes per call. The buffer holds none of the body, so
// the source is at the right spot.
func (r *Reader) copyDirect(rf io.ReaderFrom) (int64, error) {
	var written int64
	lr := &io.LimitedReader{R: r.direct}
	for r.remaining > 0 {
		if r.beforeDirect != nil {
			if err := r.beforeDirect(); err != nil {
				return written, fmt.Errorf("framing: frame body: %w", err)
			}
		}
		step := min(r.remaining, directStep)
		lr.N = step
		n, err := rf.ReadFrom(lr)
		written += n
		// lr.N counts what left the source, whether or not rf wrote it;
		// only a failed splice may have taken more (see ErrOutOfStep).
		r.remaining -= step - lr.N
		if err != nil {
			if r.directErr != nil {
				err = r.directErr(err)
			}
			r.broken = fmt.Errorf("%w: %w", ErrOutOfStep, err)
			return written, fmt.Errorf("framing: frame body copied from the connection: %w", err)
		}
		if lr.N > 0 {
			// ReadFrom stops without an error at the end of its source.
			return written, bodyError(io.ErrUnexpectedEOF)
		}
	}
	return written, nil
}

// setDirect gives the Reader the source under its buffer for copies that
// need not pass through it; mapErr translates their errors.
func (r *Reader) setDirect(src io.Reader, mapErr func(error) error) {
	r.direct, r.directErr = src, mapErr
}
