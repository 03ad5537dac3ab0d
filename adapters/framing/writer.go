package framing

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"sync"

	"pcx/domain"
)

// Writer writes frames to a byte stream. It is not safe for concurrent use.
//
// A failed write may leave part of a frame on the stream, after which no
// later frame could be read in step: so once a write has failed, every
// later write returns the same error.
type Writer struct {
	w io.Writer
	// chunk bounds the bytes handed to w in one call, so that beforeChunk
	// runs at least once per chunk bytes; zero means no bound.
	chunk int
	// beforeChunk, if set, runs before each write to w (Conn re-arms its
	// write deadline there); its error fails the write.
	beforeChunk func() error
	// retry, if set, is asked after a write to w failed with err whether
	// to go on writing what is left (Conn: the deadline passed but the
	// peer took bytes); it re-arms whatever needs re-arming. Only writes
	// that leave no byte in doubt are retried.
	retry func(err error) bool
	// sent counts the bytes w has taken, in all.
	sent int64
	// err is the first write error; once set, every write returns it.
	err error

	// Scratch buffers, reused so that a steady stream of writes allocates
	// nothing. None of them holds data between calls, and the pooled ones
	// are held only during a write, so an idle connection keeps none
	// however large its last burst was: the Writer's buffer policy needs
	// no timer.
	packed *[]byte          // the batch's headers and small bodies, back to back; from packBuffers during a write
	vecs   *vecScratch      // vec and part; from vecBuffers during a write
	vec    [][]byte         // the batch as runs of packed and large bodies, in wire order
	part   [][]byte         // the slice of vec that fits one chunk
	out    net.Buffers      // what WriteTo consumes; a field, so &out does not escape per call
	hdr    [headerLen]byte  // a payload's header
	lr     io.LimitedReader // one chunk of a payload's source
}

// NewWriter returns a Writer that writes frames to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// WriteFrames writes each body as one frame, in order. Headers and bodies
// go to the destination in one net.Buffers write: one writev system call on
// a TCP connection. The bodies are neither modified nor kept.
func (w *Writer) WriteFrames(bodies [][]byte) error {
	if w.err != nil {
		return w.err
	}
	if len(bodies) == 0 {
		return nil
	}
	w.takeVecs()
	err := w.layOut(bodies)
	if err == nil {
		err = w.writeVec()
		w.err = err
	}
	w.releaseVecs()
	w.releasePacked()
	return err
}

// vecScratch is the scratch of vec and part, kept between writes in
// vecBuffers rather than in the Writer.
type vecScratch struct{ vec, part [][]byte }

// vecBuffers hold the vec scratch of Writers that are not writing.
var vecBuffers = sync.Pool{New: func() any { return new(vecScratch) }}

func (w *Writer) takeVecs() {
	w.vecs = vecBuffers.Get().(*vecScratch)
	w.vec, w.part = w.vecs.vec[:0], w.vecs.part[:0]
}

// releaseVecs lets the caller's bodies go and gives the scratch back.
func (w *Writer) releaseVecs() {
	clear(w.vec)
	clear(w.part[:cap(w.part)])
	if cap(w.vec) <= maxKeptVec {
		w.vecs.vec, w.vecs.part = w.vec[:0], w.part[:0]
		vecBuffers.Put(w.vecs)
	}
	w.vecs, w.vec, w.part = nil, nil, nil
}

// maxKeptVec bounds the vec scratch kept for reuse: a batch of more large
// bodies than a server's writer ever takes at once is a one-off.
const maxKeptVec = 1 << 10

// maxBuffersPerWrite bounds the buffers (headers and bodies) handed to one
// writev. The runtime keeps each connection's iovec array at the largest
// size it has needed, for good: unbounded, one burst would leave every
// connection holding 16 KiB.
const maxBuffersPerWrite = 64

// layOut fills vec with the batch's headers and bodies, in wire order.
func (w *Writer) layOut(bodies [][]byte) error {
	w.packed = packBuffers.Get().(*[]byte)
	packed := (*w.packed)[:0]
	w.vec = w.vec[:0]
	run := 0 // where the packed bytes not yet in vec begin
	for _, body := range bodies {
		if uint64(len(body)) > domain.MaxFrame {
			return fmt.Errorf("framing: a body of %d bytes does not fit in a frame", len(body))
		}
		packed = binary.BigEndian.AppendUint32(packed, uint32(len(body)))
		if len(body) <= maxPackedBody {
			packed = append(packed, body...)
			continue
		}
		w.vec = append(w.vec, packed[run:], body)
		run = len(packed)
	}
	if run < len(packed) {
		w.vec = append(w.vec, packed[run:])
	}
	*w.packed = packed
	return nil
}

// maxPackedBody is the largest body copied into the batch's packed buffer;
// a larger one goes to writev as it is. Copying a small record costs less
// than an iovec of its own, and keeps a batch of thousands of records to a
// few iovecs.
const maxPackedBody = 1 << 10

// packBuffers hold the packed buffers of the batches being written, so that
// idle connections hold none.
var packBuffers = sync.Pool{New: func() any { return new([]byte) }}

// releasePacked gives the packed buffer back, unless a huge batch grew it.
func (w *Writer) releasePacked() {
	if w.packed == nil {
		return
	}
	if cap(*w.packed) <= maxKeptPacked {
		packBuffers.Put(w.packed)
	}
	w.packed = nil
}

// maxKeptPacked bounds the packed buffers kept for reuse.
const maxKeptPacked = 1 << 20

// writeVec writes vec to the destination, chunk bytes at a time.
func (w *Writer) writeVec() error {
	pending := w.vec
	for len(pending) > 0 {
		var next [][]byte
		next, pending = w.takeChunk(pending)
		if err := w.arm(); err != nil {
			return err
		}
		w.out = next
		if err := w.writeOut(); err != nil {
			return err
		}
	}
	return nil
}

// writeOut writes out, which WriteTo consumes as it goes: after a failure
// it holds exactly what is left, so a retry goes on from there.
func (w *Writer) writeOut() error {
	for {
		n, err := w.out.WriteTo(w.w)
		w.sent += n
		if err == nil {
			return nil
		}
		if !w.mayRetry(err) {
			return fmt.Errorf("framing: write: %w", err)
		}
	}
}

// writeAll writes p whole, retrying where the retry hook allows.
func (w *Writer) writeAll(p []byte) error {
	for len(p) > 0 {
		n, err := w.w.Write(p)
		w.sent += int64(n)
		p = p[n:]
		if err != nil && !w.mayRetry(err) {
			return fmt.Errorf("framing: write: %w", err)
		}
	}
	return nil
}

// mayRetry reports whether a write that failed with err should go on.
func (w *Writer) mayRetry(err error) bool {
	return w.retry != nil && w.retry(err)
}

// takeChunk splits off the head of pending that holds at most chunk bytes,
// cutting a buffer in two where the bound falls inside it.
func (w *Writer) takeChunk(pending [][]byte) (next, rest [][]byte) {
	if w.chunk <= 0 && len(pending) <= maxBuffersPerWrite {
		return pending, nil
	}
	w.part = w.part[:0]
	size := 0
	for len(pending) > 0 && (w.chunk <= 0 || size < w.chunk) && len(w.part) < maxBuffersPerWrite {
		b := pending[0]
		if room := w.chunk - size; w.chunk > 0 && len(b) > room {
			w.part = append(w.part, b[:room])
			pending[0] = b[room:]
			break
		}
		w.part = append(w.part, b)
		size += len(b)
		pending = pending[1:]
	}
	return w.part, pending
}

// WritePayload writes one frame whose body is the next n bytes of r. The
// body goes through the destination's io.ReaderFrom when it has one, so an
// *os.File passed as r reaches a *net.TCPConn by sendfile. If r holds fewer
// than n bytes the error wraps io.ErrUnexpectedEOF (and, the frame being
// cut short, the Writer is then unusable).
func (w *Writer) WritePayload(n int64, r io.Reader) error {
	if w.err != nil {
		return w.err
	}
	if n < 0 || n > domain.MaxFrame {
		return fmt.Errorf("framing: a payload of %d bytes does not fit in a frame", n)
	}
	w.err = w.writePayload(n, r)
	return w.err
}

func (w *Writer) writePayload(n int64, r io.Reader) error {
	binary.BigEndian.PutUint32(w.hdr[:], uint32(n))
	if err := w.arm(); err != nil {
		return err
	}
	if err := w.writeAll(w.hdr[:]); err != nil {
		return err
	}
	for sent := int64(0); sent < n; {
		step := n - sent
		if w.chunk > 0 {
			step = min(step, int64(w.chunk))
		}
		if err := w.arm(); err != nil {
			return err
		}
		got, err := w.copyChunk(r, step)
		sent += got
		if err != nil {
			return fmt.Errorf("framing: write payload: %w", err)
		}
		if got < step {
			return fmt.Errorf("framing: payload source ended after %d of %d bytes: %w",
				sent, n, io.ErrUnexpectedEOF)
		}
	}
	return nil
}

// copyChunk copies up to n bytes of r to the destination. The source goes
// in an *io.LimitedReader because that is the form in which the net
// package recognises an *os.File for sendfile.
//
// With a retry hook, only an *os.File goes to the destination's ReadFrom:
// sendfile moves the file's offset by exactly what the socket took, so a
// copy cut off by a deadline can go on. A generic ReadFrom may drop bytes
// it read but could not write; other sources go through a pooled 256 KiB
// buffer instead.
func (w *Writer) copyChunk(r io.Reader, n int64) (int64, error) {
	w.lr = io.LimitedReader{R: r, N: n}
	defer func() { w.lr.R = nil }() // let the caller's reader go
	rf, ok := w.w.(io.ReaderFrom)
	if _, isFile := r.(*os.File); ok && (w.retry == nil || isFile) {
		for {
			before := w.lr.N
			_, err := rf.ReadFrom(&w.lr)
			w.sent += before - w.lr.N
			if err == nil || !w.mayRetry(err) {
				return n - w.lr.N, err
			}
		}
	}
	// No sendfile (a TLS connection encrypts in user space): read the
	// source in large blocks, which a TLS connection then seals as
	// full-size records, from a pooled buffer that idle connections do not
	// hold.
	buf := plainCopyBuffers.Get().(*[plainCopyBufferSize]byte)
	defer plainCopyBuffers.Put(buf)
	if w.retry == nil {
		return io.CopyBuffer(w.w, &w.lr, buf[:])
	}
	return w.copyRetrying(n, buf[:])
}

// copyRetrying copies what is left of w.lr through buf, each read written
// whole before the next, so a retried write loses nothing.
func (w *Writer) copyRetrying(n int64, buf []byte) (int64, error) {
	for {
		got, err := w.lr.Read(buf)
		if writeErr := w.writeAll(buf[:got]); writeErr != nil {
			return n - w.lr.N - int64(got), writeErr
		}
		if err == io.EOF {
			return n - w.lr.N, nil
		}
		if err != nil {
			return n - w.lr.N, err
		}
	}
}

// arm runs the beforeChunk hook, if any.
func (w *Writer) arm() error {
	if w.beforeChunk == nil {
		return nil
	}
	return w.beforeChunk()
}
