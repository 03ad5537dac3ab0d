// Package framing carries frames over a byte stream (PROTOCOL.md section 1):
// a 4-byte unsigned big-endian length, then that many bytes of body.
//
// Reader and Writer work over any io.Reader and io.Writer; Conn joins them
// over a net.Conn and implements ports.Conn, so every stream transport (TCP,
// in-memory pipes) shares one framing implementation.
package framing

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"pcx/ports"
)

const (
	// headerLen is the size of a frame header: the body's length as a
	// big-endian uint32.
	headerLen = 4
	// readBufferSize is the bufio buffer of a Reader: large enough that a
	// stream of small records costs one system call for dozens of frames,
	// small enough that ten thousand idle connections cost little memory
	// (a body larger than the buffer is read straight into its destination).
	readBufferSize = 4 << 10
)

// ErrStalePayload is returned by a payload reader that ReadPayload handed
// out for a frame the Reader has since moved past.
var ErrStalePayload = errors.New("framing: payload reader used after the next frame was read")

// Reader reads frames from a byte stream. It is not safe for concurrent use.
//
// Reading a new frame (ReadRecord, ReadPayload) while the body of the
// previous one is unfinished first discards the rest of that body, so the
// stream stays in step: a payload need not be read to its end, and a
// record refused as too large need not be skipped explicitly. The same
// holds after a read error in the middle of a body (a deadline, say): the
// interrupted frame is lost, the next read starts at the following frame.
// A read error while reading a header consumes nothing, so a read that
// failed on its deadline before a frame began may simply be retried.
//
// An idle Reader holds no buffer: between frames, when nothing is
// buffered, it gives its buffer back to a shared pool and waits for the
// next header on a 4-byte array of its own, so ten thousand idle
// connections do not each keep 4 KiB.
type Reader struct {
	src io.Reader
	// idleSrc, if not nil, is read instead of src for the first byte of a
	// frame header, when nothing is buffered: Conn waits for a frame to
	// begin without its read timeout. Set once by Conn before the first
	// read.
	idleSrc io.Reader
	// br buffers src while a frame is read or more input is buffered; nil
	// between frames once the buffer ran dry. Never nil while remaining > 0.
	br *bufio.Reader
	// hdr holds a header read straight from src, hdrN bytes of it so far:
	// a header cut short by a deadline is finished by the next read.
	hdr  [headerLen]byte
	hdrN int
	// broken, once set, is the error of every read: the stream is not
	// one of frames (ErrTLSOnPlainPort).
	broken error
	// remaining is the number of body bytes of the current frame not yet
	// consumed from br; zero between frames.
	remaining int64
	// frame counts the frames whose header has been read; a payload reader
	// serves only the frame it was made for.
	frame uint64
	// fillReads makes a payload read wait until its buffer is full or the
	// body ends (see Options.FillPayloadReads). Set once before the first
	// read.
	fillReads bool
}

// buffers are the read buffers of Readers that are inside a frame or have
// input buffered.
var buffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// NewReader returns a Reader that reads frames from r through a 4 KiB
// buffer, held only while it is needed.
func NewReader(r io.Reader) *Reader {
	return &Reader{src: r}
}

// ReadRecord reads the next frame whole and returns its body, stored in buf
// (grown to the frame's length if its capacity is smaller). A frame longer
// than max is not read and buf is not grown: the error is a
// *ports.FrameTooLargeError, and the body is skipped by the next read. At a
// clean end of stream, exactly between frames, the error is io.EOF; a
// stream that ends inside a frame gives an error wrapping
// io.ErrUnexpectedEOF.
func (r *Reader) ReadRecord(buf []byte, max int) ([]byte, error) {
	n, err := r.next()
	if err != nil {
		return nil, err
	}
	if int64(n) > int64(max) {
		return nil, &ports.FrameTooLargeError{Len: n, Max: max}
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	got, err := io.ReadFull(r.br, buf)
	r.remaining -= int64(got)
	if err != nil {
		return nil, bodyError(err)
	}
	return buf, nil
}

// ReadPayload reads the next frame's header and returns the body's length
// and a reader that yields exactly that many bytes, then io.EOF. The reader
// is valid until the next frame is read; after that it fails with
// ErrStalePayload.
//
// The reader also has Len() int64, the bytes it has left, and WriteTo, which
// io.Copy finds: it reads a large body past the Reader's small buffer, in
// large steps (see payloadReader.WriteTo).
func (r *Reader) ReadPayload() (int64, io.Reader, error) {
	n, err := r.next()
	if err != nil {
		return 0, nil, err
	}
	return int64(n), &payloadReader{r: r, frame: r.frame}, nil
}

// skipFrame discards what is left of the current frame's body, streaming
// it through the buffer: a frame of any length costs no memory. Between
// frames it does nothing.
func (r *Reader) skipFrame() error {
	if r.broken != nil {
		return r.broken
	}
	for r.remaining > 0 {
		step := int(min(r.remaining, readBufferSize))
		got, err := r.br.Discard(step)
		r.remaining -= int64(got)
		if err != nil {
			return bodyError(err)
		}
	}
	return nil
}

// next finishes the current frame, then reads the following header and
// makes its body current.
func (r *Reader) next() (uint32, error) {
	if err := r.skipFrame(); err != nil {
		return 0, err
	}
	n, err := r.readHeader()
	if err != nil {
		return 0, err
	}
	if r.frame == 0 && looksLikeTLS(n) {
		r.broken = ErrTLSOnPlainPort
		return 0, r.broken
	}
	r.remaining = int64(n)
	r.frame++
	return n, nil
}

// readHeader reads a frame header: from the buffer when it holds input,
// else straight from the source, having given the buffer back.
func (r *Reader) readHeader() (uint32, error) {
	if r.br != nil && r.br.Buffered() > 0 {
		// Peek, not ReadFull: a header cut short by a deadline stays in
		// the buffer, so a retried read finds the whole header.
		hdr, err := r.br.Peek(headerLen)
		if err != nil {
			return 0, headerError(len(hdr), err)
		}
		n := binary.BigEndian.Uint32(hdr)
		_, _ = r.br.Discard(headerLen) // cannot fail: the bytes were peeked
		return n, nil
	}
	if r.br != nil {
		r.br.Reset(nil)
		buffers.Put(r.br)
		r.br = nil
	}
	for r.hdrN < headerLen {
		src := r.src
		if r.hdrN == 0 && r.idleSrc != nil {
			src = r.idleSrc
		}
		got, err := src.Read(r.hdr[r.hdrN:])
		r.hdrN += got
		if err != nil && r.hdrN < headerLen {
			return 0, headerError(r.hdrN, err)
		}
	}
	r.hdrN = 0
	r.br = buffers.Get().(*bufio.Reader)
	r.br.Reset(r.src)
	return binary.BigEndian.Uint32(r.hdr[:]), nil
}

// ErrTLSOnPlainPort is the error of every read of a stream whose first
// "header" is the start of a TLS record: a TLS client dialled the plain
// port. Said plainly, it spares an operator puzzling over a 369 MB record.
var ErrTLSOnPlainPort = errors.New("framing: a TLS client on the plain port (its first bytes are a TLS handshake, not a frame)")

// looksLikeTLS tells whether a first header is a TLS record header, 0x16
// 0x03 (handshake, version 3.x): as a frame length that is about 369 MB,
// far over any record limit, so no pcx peer can mean it.
func looksLikeTLS(n uint32) bool {
	return n>>16 == 0x1603
}

// headerError describes a failure to read a header of which got bytes had
// arrived: io.EOF stays bare only when the stream ended between frames.
func headerError(got int, err error) error {
	if errors.Is(err, io.EOF) {
		if got == 0 {
			return io.EOF
		}
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("framing: frame header: %w", err)
}

// bodyError describes a failure to read a frame's body: the stream may not
// end there, so io.EOF becomes io.ErrUnexpectedEOF.
func bodyError(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("framing: frame body: %w", err)
}

// payloadReader streams the body of one frame out of its Reader.
type payloadReader struct {
	r     *Reader
	frame uint64 // the Reader's frame this payload belongs to
}

// Read reads at most what is left of the body; at its end it returns io.EOF.
func (p *payloadReader) Read(b []byte) (int, error) {
	r := p.r
	if r.frame != p.frame {
		return 0, ErrStalePayload
	}
	if r.broken != nil {
		return 0, r.broken
	}
	if r.remaining == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > r.remaining {
		b = b[:r.remaining]
	}
	var n int
	var err error
	if r.fillReads {
		// Safe to wait for: b holds no more than the body has left.
		n, err = io.ReadFull(r.br, b)
	} else {
		n, err = r.br.Read(b)
	}
	r.remaining -= int64(n)
	if err != nil {
		// The body is unfinished (remaining was > 0), so even io.EOF
		// means the stream broke off inside the frame.
		return n, bodyError(err)
	}
	return n, nil
}
