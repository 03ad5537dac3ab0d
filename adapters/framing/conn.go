package framing

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"pcx/ports"
)

// writeChunk is the most a Conn writes between two re-armings of its write
// deadline. A variable so that tests can prove the re-arming with small
// payloads.
var writeChunk = 1 << 20

// Options configure a Conn.
type Options struct {
	// WriteTimeout is how long a write may make no progress before it
	// fails and the connection becomes unusable. Zero means no bound.
	WriteTimeout time.Duration
	// ReadTimeout is how long a frame that has begun (its first header
	// byte has arrived) may go without another byte before the read fails
	// with an error wrapping ports.ErrStalled. Waiting for the first byte
	// of the next frame is never bounded by it. Zero means no bound.
	ReadTimeout time.Duration
	// FillPayloadReads makes a payload read return only once the caller's
	// buffer is full or the body has ended, and copies a payload through
	// a 256 KiB buffer even to a destination that reads for itself. For a
	// connection that yields little per read (TLS: one 16 KiB record a
	// read), so that a file receiving a payload is written in large
	// blocks, not 16 KiB ones.
	FillPayloadReads bool
}

// Conn is a net.Conn seen as two streams of frames; it implements
// ports.Conn. Its Reader is held by one goroutine and its Writer by
// another; Close may be called at any time from any goroutine.
//
// The write timeout bounds a lack of progress, not the length of a write.
// On a Linux TCP socket progress is what the peer took: the bytes written
// minus those still in the socket's send queue (SIOCOUTQ). A write runs
// under a deadline of a quarter of the timeout; when that passes, the Conn
// asks the kernel whether the peer took anything since the last look, and
// if so it goes on writing. Only a timeout with nothing taken fails: a
// receiver reading a large payload at 1 KiB/s is kept, one that stopped is
// cut off. Elsewhere (net.Pipe, other systems) the deadline is set afresh
// before every chunk of at most 1 MiB, which serves the same end less
// exactly: the kernel buffers that absorb a chunk are counted as progress.
//
// The socket's read deadline is put together from three bounds, each with
// one owner (see readDeadlines): the reading goroutine's own deadline, the
// read timeout inside a frame, and the linger that CloseWrite starts; the
// write deadline is the writing goroutine's alone.
//
// After Close, reads and writes fail with an error wrapping ports.ErrClosed.
type Conn struct {
	nc  net.Conn
	in  connReader // the reading half, handed out by Reader
	out connWriter // the writing half, handed out by Writer

	// Used by the reading goroutine only.
	r *Reader

	// Used by the writing goroutine only.
	w       *Writer
	timeout time.Duration // the write timeout; zero means none
	armedAt time.Time     // when the write deadline was last set
	// progress, when not nil, measures what the peer took (Linux TCP).
	progress *progress

	// reads has its own mutex: the reading goroutine (its deadline, the
	// read timeout) and the writing one (the linger of CloseWrite) both
	// set the socket's read deadline through it.
	reads readDeadlines

	closed    atomic.Bool // set before nc is closed, so failing calls see it
	closeOnce sync.Once
	closeErr  error // the result of nc.Close; written once inside closeOnce
}

var (
	_ ports.Conn        = (*Conn)(nil)
	_ ports.FrameReader = (*connReader)(nil)
	_ ports.FrameWriter = (*connWriter)(nil)
)

// NewConn returns a Conn that reads and writes frames on nc and owns it.
func NewConn(nc net.Conn, opts Options) *Conn {
	c := &Conn{nc: nc, timeout: opts.WriteTimeout}
	c.in, c.out = connReader{c}, connWriter{c}
	c.reads.timeout = opts.ReadTimeout
	c.r = NewReader(closeAwareReader{c})
	c.r.fillReads = opts.FillPayloadReads
	if opts.ReadTimeout > 0 {
		c.r.src = busyReader{c}
		c.r.idleSrc = closeAwareReader{c}
	}
	// The Writer writes to nc itself, not a wrapper: net.Buffers finds
	// writev and io.ReaderFrom finds sendfile only on the real connection.
	c.w = NewWriter(nc)
	if c.timeout > 0 {
		c.w.chunk = writeChunk
		c.w.beforeChunk = c.armWriteDeadline
		if outq := unsentBytes(nc); outq != nil {
			c.progress = &progress{outq: outq, slice: max(c.timeout/4, time.Millisecond)}
			c.w.retry = c.retryWrite
		}
	}
	return c
}

// Reader is the Conn's reading half.
func (c *Conn) Reader() ports.FrameReader { return &c.in }

// Writer is the Conn's writing half.
func (c *Conn) Writer() ports.FrameWriter { return &c.out }

// connReader is the reading half of a Conn: a Reader over the connection,
// which skips whatever the caller left unread of a frame when it reads the
// next one, and the reading goroutine's deadline.
type connReader struct{ c *Conn }

// ReadRecord implements ports.FrameReader; see Reader.ReadRecord.
func (r *connReader) ReadRecord(buf []byte, max int) ([]byte, error) {
	return r.c.r.ReadRecord(buf, max)
}

// ReadPayload implements ports.FrameReader; see Reader.ReadPayload.
func (r *connReader) ReadPayload() (int64, io.Reader, error) {
	return r.c.r.ReadPayload()
}

// SetReadDeadline sets the reading goroutine's own bound on the reads in
// progress and to come; the zero time removes it. It does not move the
// read timeout inside a frame or the linger of CloseWrite.
func (r *connReader) SetReadDeadline(t time.Time) error {
	return r.c.reads.setUser(r.c.nc, t)
}

// connWriter is the writing half of a Conn.
type connWriter struct{ c *Conn }

// WriteFrames implements ports.FrameWriter; see Writer.WriteFrames.
func (w *connWriter) WriteFrames(bodies [][]byte) error {
	c := w.c
	c.beginWrite()
	return c.writeError(c.w.WriteFrames(bodies))
}

// WritePayload implements ports.FrameWriter; see Writer.WritePayload.
func (w *connWriter) WritePayload(n int64, r io.Reader) error {
	c := w.c
	c.beginWrite()
	return c.writeError(c.w.WritePayload(n, r))
}

// CloseWrite half-closes a connection that can (TCP: a FIN after what was
// written); on one that cannot (net.Pipe, whose writes return only once
// the peer has read them, so nothing is lost) it closes. The linger starts
// before the half-close is tried, so the reading side is bounded whatever
// comes of it.
func (w *connWriter) CloseWrite(linger time.Duration) error {
	c := w.c
	if err := c.reads.setLinger(c.nc, time.Now().Add(linger)); err != nil {
		return c.writeError(fmt.Errorf("framing: close write: linger: %w", err))
	}
	if hc, ok := c.nc.(interface{ CloseWrite() error }); ok {
		if err := hc.CloseWrite(); err != nil {
			return c.writeError(fmt.Errorf("framing: close write: %w", err))
		}
		return nil
	}
	return c.Close()
}

// Close closes the connection, failing the reads and writes in progress.
// Only the first call closes; every call returns its result.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.closeErr = c.nc.Close()
	})
	return c.closeErr
}

// RemoteAddr names the peer, for logs.
func (c *Conn) RemoteAddr() string {
	if a := c.nc.RemoteAddr(); a != nil {
		return a.String()
	}
	return "unknown"
}

// armWriteDeadline gives the next chunk a full timeout to make progress,
// or, when progress is measured, a slice of it until the next look.
//
// Moving a deadline costs a timer update, a tenth of a small write, so a
// deadline set less than an eighth of its span ago is left as it is: a
// stalled write then fails after between 7/8 of the timeout and all of it.
func (c *Conn) armWriteDeadline() error {
	span := c.timeout
	if c.progress != nil {
		span = c.progress.slice
	}
	now := time.Now()
	if now.Sub(c.armedAt) < span/8 {
		return nil
	}
	if err := c.nc.SetWriteDeadline(now.Add(span)); err != nil {
		return c.writeError(fmt.Errorf("framing: set write deadline: %w", err))
	}
	c.armedAt = now
	return nil
}

// beginWrite starts measuring progress afresh for a new write: a peer is
// judged by what it takes while the Conn has something for it.
func (c *Conn) beginWrite() {
	if c.progress != nil {
		c.progress.begin()
	}
}

// retryWrite is the Writer's retry hook: after a write ran out of its
// deadline slice, it reports whether to go on, having re-armed the
// deadline, because the peer took bytes within the write timeout.
func (c *Conn) retryWrite(err error) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) || c.closed.Load() {
		return false
	}
	now := time.Now()
	if !c.progress.moved(now, c.armedAt, c.w.sent, c.timeout) {
		return false
	}
	if c.nc.SetWriteDeadline(now.Add(c.progress.slice)) != nil {
		return false
	}
	c.armedAt = now
	return true
}

// writeError reports a write that failed because of Close as such, rather
// than as whatever the connection said about it.
func (c *Conn) writeError(err error) error {
	if err != nil && c.closed.Load() {
		return fmt.Errorf("framing: write: %w", ports.ErrClosed)
	}
	return err
}

// readError reports a read that failed because of Close as
// ports.ErrClosed, rather than as whatever the connection said about it.
func (c *Conn) readError(err error) error {
	if err != nil && c.closed.Load() {
		return ports.ErrClosed
	}
	return err
}

// closeAwareReader is the Conn's byte source: it reports a read that failed
// because of Close as ports.ErrClosed. With a read timeout it is the source
// of the first byte of a frame only, under the caller's deadline alone.
type closeAwareReader struct{ c *Conn }

func (r closeAwareReader) Read(p []byte) (int, error) {
	if r.c.reads.timeout > 0 {
		if err := r.c.reads.armIdle(r.c.nc); err != nil {
			return 0, r.c.readError(err)
		}
	}
	n, err := r.c.nc.Read(p)
	return n, r.c.readError(err)
}

// busyReader is the byte source inside a frame when there is a read
// timeout: each read must bring a byte within it.
type busyReader struct{ c *Conn }

func (r busyReader) Read(p []byte) (int, error) {
	if err := r.c.armBusyRead(); err != nil {
		return 0, err
	}
	n, err := r.c.nc.Read(p)
	return n, r.c.busyError(err)
}

// armBusyRead puts the read timeout in force for the next read.
func (c *Conn) armBusyRead() error {
	return c.readError(c.reads.armBusy(c.nc))
}

// busyError reports a read inside a frame that failed on the read timeout
// (not on the caller's own deadline) as a stall.
func (c *Conn) busyError(err error) error {
	err = c.readError(err)
	if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) || !c.reads.stalled(time.Now()) {
		return err
	}
	return fmt.Errorf("framing: no byte for %v in the middle of a frame: %w", c.reads.timeout, ports.ErrStalled)
}
