package framing

import (
	"fmt"
	"io"
	"net"
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
}

// Conn is a net.Conn seen as two streams of frames; it implements
// ports.Conn. One goroutine may read while another writes; Close may be
// called at any time from any goroutine.
//
// The write timeout bounds a lack of progress, not the length of a write:
// the deadline is set afresh before every chunk of at most 1 MiB (unless it
// was set within the last eighth of the timeout), so a receiver that keeps
// reading a large payload slowly is never cut off, while one that stops
// reading is cut off at most one timeout after it stopped.
//
// After Close, reads and writes fail with an error wrapping ports.ErrClosed.
type Conn struct {
	nc      net.Conn
	r       *Reader
	w       *Writer
	timeout time.Duration // the write timeout; zero means none
	armedAt time.Time     // when the write deadline was last set; used by the writing goroutine only

	closed    atomic.Bool // set before nc is closed, so failing calls see it
	closeOnce sync.Once
	closeErr  error // the result of nc.Close; written once inside closeOnce
}

var _ ports.Conn = (*Conn)(nil)

// NewConn returns a Conn that reads and writes frames on nc and owns it.
func NewConn(nc net.Conn, opts Options) *Conn {
	c := &Conn{nc: nc, timeout: opts.WriteTimeout}
	c.r = NewReader(closeAwareReader{c})
	// A payload copied to a destination that reads for itself gets nc
	// unwrapped: (*os.File).ReadFrom finds splice only on the real socket.
	c.r.setDirect(nc, c.readError)
	// The Writer writes to nc itself, not a wrapper: net.Buffers finds
	// writev and io.ReaderFrom finds sendfile only on the real connection.
	c.w = NewWriter(nc)
	if c.timeout > 0 {
		c.w.chunk = writeChunk
		c.w.beforeChunk = c.armWriteDeadline
	}
	return c
}

// ReadRecord implements ports.FrameReader; see Reader.ReadRecord.
func (c *Conn) ReadRecord(buf []byte, max int) ([]byte, error) {
	return c.r.ReadRecord(buf, max)
}

// ReadPayload implements ports.FrameReader; see Reader.ReadPayload.
func (c *Conn) ReadPayload() (int64, io.Reader, error) {
	return c.r.ReadPayload()
}

// SkipFrame implements ports.FrameReader; see Reader.SkipFrame.
func (c *Conn) SkipFrame() error {
	return c.r.SkipFrame()
}

// WriteFrames implements ports.FrameWriter; see Writer.WriteFrames.
func (c *Conn) WriteFrames(bodies [][]byte) error {
	return c.writeError(c.w.WriteFrames(bodies))
}

// WritePayload implements ports.FrameWriter; see Writer.WritePayload.
func (c *Conn) WritePayload(n int64, r io.Reader) error {
	return c.writeError(c.w.WritePayload(n, r))
}

// SetReadDeadline bounds the reads in progress and to come; the zero time
// removes the bound.
func (c *Conn) SetReadDeadline(t time.Time) error {
	return c.nc.SetReadDeadline(t)
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

// CloseWrite half-closes a connection that can (TCP: a FIN after what was
// written); on one that cannot (net.Pipe, whose writes return only once
// the peer has read them, so nothing is lost) it closes.
func (c *Conn) CloseWrite() error {
	if hc, ok := c.nc.(interface{ CloseWrite() error }); ok {
		if err := hc.CloseWrite(); err != nil {
			return c.writeError(fmt.Errorf("framing: close write: %w", err))
		}
		return nil
	}
	return c.Close()
}

// RemoteAddr names the peer, for logs.
func (c *Conn) RemoteAddr() string {
	if a := c.nc.RemoteAddr(); a != nil {
		return a.String()
	}
	return "unknown"
}

// armWriteDeadline gives the next chunk a full timeout to make progress.
//
// Moving a deadline costs a timer update, a tenth of a small write, so a
// deadline set less than an eighth of the timeout ago is left as it is: a
// stalled write then fails after between 7/8 of the timeout and all of it.
func (c *Conn) armWriteDeadline() error {
	now := time.Now()
	if now.Sub(c.armedAt) < c.timeout/8 {
		return nil
	}
	if err := c.nc.SetWriteDeadline(now.Add(c.timeout)); err != nil {
		return c.writeError(fmt.Errorf("framing: set write deadline: %w", err))
	}
	c.armedAt = now
	return nil
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
// because of Close as ports.ErrClosed.
type closeAwareReader struct{ c *Conn }

func (r closeAwareReader) Read(p []byte) (int, error) {
	n, err := r.c.nc.Read(p)
	return n, r.c.readError(err)
}
