package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	ws "github.com/coder/websocket"
)

// chunkSize is the most the pump reads from a message before handing it on.
const chunkSize = 32 << 10

// chunkBuffers hold the pumps' read buffers; a pump takes one only while a
// message is arriving, so an idle connection holds none.
var chunkBuffers = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// streamConn is a WebSocket connection seen as the byte stream of
// PROTOCOL.md section 8: what it reads is the concatenation of the binary
// messages the peer sends, and every Write is one binary message.
//
// coder/websocket's own NetConn closes the connection when a read deadline
// passes during a read; the transport port promises a connection that stays
// usable (the server bounds a login with a deadline and then goes on). So a
// pump goroutine reads the messages and hands them over in chunks, and Read
// waits for the next chunk under its own deadline.
type streamConn struct {
	c      *ws.Conn
	raw    net.Conn        // the TCP (or TLS) connection under c
	ctx    context.Context // cancelled by Close; bounds the pump and every write
	cancel context.CancelFunc

	chunks   chan []byte   // the pump's chunks, each a slice of its buffer
	consumed chan struct{} // Read gives the pump its buffer back through it
	pumpErr  error         // why the pump stopped; written before chunks is closed
	pumpDone chan struct{} // closed when the pump has returned

	rest         []byte       // what Read has not yet taken of the current chunk; used by the reading goroutine only
	readDeadline pipeDeadline // bounds Read

	wmu           sync.Mutex // guards writeDeadline
	writeDeadline time.Time  // bounds every Write from when it was set

	closing   atomic.Bool // set by CloseWrite and Close: no more writes
	closedNow atomic.Bool // set by Close

	closeOnce sync.Once
	closeErr  error // the result of closing c; written once inside closeOnce
}

var _ net.Conn = (*streamConn)(nil)

// newStreamConn starts the pump of c, whose connection is raw.
func newStreamConn(c *ws.Conn, raw net.Conn) *streamConn {
	ctx, cancel := context.WithCancel(context.Background())
	s := &streamConn{
		c: c, raw: raw, ctx: ctx, cancel: cancel,
		chunks:       make(chan []byte),
		consumed:     make(chan struct{}, 1),
		pumpDone:     make(chan struct{}),
		readDeadline: makePipeDeadline(),
	}
	go s.pump()
	return s
}

// pump reads message after message and hands each on in chunks, waiting
// until one chunk is consumed before reading the next, so it holds at most
// one buffer and reads no faster than the application. It ends at the first
// error; a text message is one (status 1003, PROTOCOL.md section 8).
func (s *streamConn) pump() {
	defer close(s.pumpDone)
	refused := s.pumpMessages()
	close(s.chunks) // the reader sees pumpErr from here on
	if refused {
		_ = s.c.Close(ws.StatusUnsupportedData, "binary messages only")
	}
}

// pumpMessages hands messages on until the first error, and says whether
// it was a text message.
func (s *streamConn) pumpMessages() (textMessage bool) {
	for {
		typ, r, err := s.c.Reader(s.ctx)
		if err != nil {
			s.pumpErr = streamError(err, false)
			return false
		}
		if typ != ws.MessageBinary {
			s.pumpErr = errors.New("websocket: a text message: the stream is binary messages only")
			return true
		}
		if err := s.pumpMessage(r); err != nil {
			s.pumpErr = err
			return false
		}
	}
}

// pumpMessage hands one message on, chunk by chunk.
func (s *streamConn) pumpMessage(r io.Reader) error {
	buf := chunkBuffers.Get().(*[]byte)
	defer chunkBuffers.Put(buf)
	for {
		n, err := io.ReadFull(r, *buf)
		if n > 0 {
			select {
			case s.chunks <- (*buf)[:n]:
			case <-s.ctx.Done():
				return net.ErrClosed
			}
			select {
			case <-s.consumed:
			case <-s.ctx.Done():
				return net.ErrClosed
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil // the message ended
		default:
			return streamError(err, true)
		}
	}
}

// streamError turns the end of the peer's stream into io.EOF: a close with
// status 1000 or 1001, or the connection's end between two messages, as a
// TCP peer's close between two frames is. Inside a message the end is
// io.ErrUnexpectedEOF; a frame cut short either way is the framing
// reader's to report.
func streamError(err error, inMessage bool) error {
	switch ws.CloseStatus(err) {
	case ws.StatusNormalClosure, ws.StatusGoingAway:
		return io.EOF
	case -1:
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if inMessage {
				return io.ErrUnexpectedEOF
			}
			return io.EOF
		}
	}
	return fmt.Errorf("websocket: read: %w", err)
}

// Read reads what the peer sent next, across message boundaries.
func (s *streamConn) Read(p []byte) (int, error) {
	if len(s.rest) == 0 {
		if s.readDeadline.expired() {
			return 0, os.ErrDeadlineExceeded
		}
		select {
		case chunk, ok := <-s.chunks:
			if !ok {
				return 0, s.pumpErr
			}
			s.rest = chunk
		case <-s.readDeadline.wait():
			return 0, os.ErrDeadlineExceeded
		case <-s.ctx.Done():
			return 0, net.ErrClosed
		}
	}
	n := copy(p, s.rest)
	s.rest = s.rest[n:]
	if len(s.rest) == 0 {
		s.consumed <- struct{}{}
	}
	return n, nil
}

// maxWrite is the longest message written: a longer Write is cut into
// several, as message boundaries carry no meaning, so that no peer meets a
// message over its read limit.
const maxWrite = 1 << 20

// Write sends p as binary messages of at most maxWrite bytes. A write still
// in progress when the write deadline passes fails, and the connection is
// closed.
func (s *streamConn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		part := p[:min(len(p), maxWrite)]
		if err := s.writeMessage(part); err != nil {
			return written, err
		}
		written += len(part)
		p = p[len(part):]
	}
	return written, nil
}

// copyBlock is the message size of a payload copied by ReadFrom: fewer,
// larger messages than io.Copy's 32 KiB cost less framing per byte.
const copyBlock = 256 << 10

// copyBuffers hold ReadFrom's blocks, taken only while a payload is copied.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, copyBlock); return &b }}

// ReadFrom sends what r yields as messages of up to 256 KiB; the framing
// writer copies payloads through it.
func (s *streamConn) ReadFrom(r io.Reader) (int64, error) {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	var total int64
	for {
		n, err := io.ReadFull(r, *buf)
		if n > 0 {
			if werr := s.writeMessage((*buf)[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return total, nil
		default:
			return total, err
		}
	}
}

func (s *streamConn) writeMessage(p []byte) error {
	if s.closing.Load() {
		return fmt.Errorf("websocket: write: %w", net.ErrClosed)
	}
	ctx := s.ctx
	s.wmu.Lock()
	deadline := s.writeDeadline
	s.wmu.Unlock()
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	if err := s.c.Write(ctx, ws.MessageBinary, p); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: %w", os.ErrDeadlineExceeded, err)
		}
		return fmt.Errorf("websocket: write: %w", err)
	}
	return nil
}

// CloseWrite ends the stream this side sends with a close frame (status
// 1000) after everything written, and waits (at most 5 s) for the peer to
// answer it; WebSocket has no half-close, so reading ends too. A Close
// meanwhile cuts the wait short.
func (s *streamConn) CloseWrite() error {
	s.closing.Store(true)
	err := s.c.Close(ws.StatusNormalClosure, "")
	if err != nil && !errors.Is(err, net.ErrClosed) && ws.CloseStatus(err) == -1 && !s.closedNow.Load() {
		return fmt.Errorf("websocket: close write: %w", err)
	}
	return nil
}

// Close ends the connection at once, as closing a TCP socket does: the
// reads and writes in progress, and a close handshake of CloseWrite, fail.
// It closes the TCP connection itself, so it never waits for the peer (the
// server may close a slow receiver's connection while others wait).
func (s *streamConn) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		s.closedNow.Store(true)
		s.cancel()
		err := s.raw.Close()
		_ = s.c.CloseNow()
		<-s.pumpDone
		if err != nil && !errors.Is(err, net.ErrClosed) {
			s.closeErr = fmt.Errorf("websocket: close: %w", err)
		}
	})
	return s.closeErr
}

func (s *streamConn) LocalAddr() net.Addr  { return s.raw.LocalAddr() }
func (s *streamConn) RemoteAddr() net.Addr { return s.raw.RemoteAddr() }

func (s *streamConn) SetDeadline(t time.Time) error {
	_ = s.SetReadDeadline(t)
	return s.SetWriteDeadline(t)
}

func (s *streamConn) SetReadDeadline(t time.Time) error {
	s.readDeadline.set(t)
	return nil
}

func (s *streamConn) SetWriteDeadline(t time.Time) error {
	s.wmu.Lock()
	s.writeDeadline = t
	s.wmu.Unlock()
	return nil
}

// pipeDeadline is a deadline that a waiting goroutine can select on; it is
// net.Pipe's.
type pipeDeadline struct {
	mu     sync.Mutex  // guards timer and cancel
	timer  *time.Timer // closes cancel when the deadline passes
	cancel chan struct{}
}

func makePipeDeadline() pipeDeadline {
	return pipeDeadline{cancel: make(chan struct{})}
}

// set sets the deadline; the zero time removes it.
func (d *pipeDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // wait for the timer's callback to have closed it
	}
	d.timer = nil
	closed := isClosedChan(d.cancel)
	if t.IsZero() {
		if closed {
			d.cancel = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.cancel = make(chan struct{})
		}
		d.timer = time.AfterFunc(dur, func() { close(d.cancel) })
		return
	}
	if !closed {
		close(d.cancel)
	}
}

// wait returns a channel that is closed when the deadline passes.
func (d *pipeDeadline) wait() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

// expired says whether the deadline has passed.
func (d *pipeDeadline) expired() bool {
	return isClosedChan(d.wait())
}

func isClosedChan(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
