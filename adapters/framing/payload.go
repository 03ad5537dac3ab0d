package framing

import (
	"io"
	"sync"
)

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
// body bytes already in the Reader's buffer, then the rest, read through
// the Reader: by w's ReadFrom if w has one (and reads are not filled, see
// Options.FillPayloadReads), else in 256 KiB steps. Every read of the
// connection goes through the Reader's source, so a Conn starts its read
// timeout afresh for each, and the Reader counts every byte taken: a copy
// that fails leaves the stream in step, the next read skipping what is
// left of the body. A stream that ends inside the body gives an error
// wrapping io.ErrUnexpectedEOF.
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
