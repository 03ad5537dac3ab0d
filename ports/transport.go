package ports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

//go:generate go tool mockgen -typed -destination=mocks/transport.go -package=mocks pcx/ports Listener,Dialer,Conn,FrameReader,FrameWriter

// ErrClosed is returned (wrapped) by a Listener's Accept after Close.
var ErrClosed = errors.New("transport: closed")

// ErrAcceptPassing is returned (wrapped) by a Listener's Accept when
// accepting failed for a reason that passes by itself, such as the process
// being out of file descriptors: the caller backs off and calls again.
// Any other error but ErrClosed is permanent.
var ErrAcceptPassing = errors.New("transport: accept failed for now")

// ErrStalled is returned (wrapped) by a read of a Conn whose peer stopped
// sending in the middle of a frame for longer than the adapter's read
// timeout. Waiting for a frame to begin never fails with it.
var ErrStalled = errors.New("transport: peer stopped sending in the middle of a frame")

// Listener hands out the connections of peers that dialled in.
type Listener interface {
	// Accept waits for the next peer. After Close it returns an error
	// wrapping ErrClosed; a failure that passes wraps ErrAcceptPassing.
	Accept() (Conn, error)
	Close() error
	// Addr is the address peers dial, e.g. "127.0.0.1:23480".
	Addr() string
}

// Dialer opens connections to a server.
type Dialer interface {
	Dial(ctx context.Context, addr string) (Conn, error)
}

// Conn is one peer's connection seen as two streams of frames
// (PROTOCOL.md section 1), split by role as net/textproto splits a
// connection into a Reader and a Writer: one goroutine holds the Reader,
// another the Writer, and neither half is safe for more than one goroutine
// at a time. Each bound has one owner: the reading goroutine its read
// deadline, the writing goroutine the linger of CloseWrite, the adapter
// its read and write timeouts; none of them moves another's.
type Conn interface {
	// Reader is the connection's reading half; every call returns the same.
	Reader() FrameReader
	// Writer is the connection's writing half; every call returns the same.
	Writer() FrameWriter
	// Close ends the connection at once, from any goroutine; reads and
	// writes in progress fail.
	Close() error
	// RemoteAddr names the peer, for logs.
	RemoteAddr() string
}

// FrameReader reads frames. Which frame is a record and which a payload is
// known from position alone, so the caller says which it expects.
//
// The stream stays in step by itself: whatever the caller left unread of
// a frame (a payload read halfway or not at all, a record refused as too
// long, a frame cut off by a read error) is skipped by the next read. A
// frame that has begun and then gets no byte for the adapter's read
// timeout, if it has one, fails with an error wrapping ErrStalled.
type FrameReader interface {
	// ReadRecord reads the next frame whole, into buf (grown if needed), and
	// returns its body. A body longer than max is not read: the error is a
	// *FrameTooLargeError, and the next read skips that body.
	ReadRecord(buf []byte, max int) ([]byte, error)
	// ReadPayload reads the next frame's header and returns the body's
	// length and a reader that yields exactly that many bytes, streamed
	// from the connection; it is valid until the next read, which skips
	// whatever of the body it did not yield.
	ReadPayload() (int64, io.Reader, error)
	// SetReadDeadline bounds the reads in progress and to come; the zero
	// time removes the bound. A read past it fails with an error for which
	// errors.Is(err, os.ErrDeadlineExceeded) holds. Only the reading
	// goroutine calls it, and it moves no other bound (not the linger of
	// CloseWrite).
	SetReadDeadline(t time.Time) error
}

// FrameWriter writes frames. A write that makes no progress for the
// adapter's write timeout fails, and the connection is then unusable.
type FrameWriter interface {
	// WriteFrames writes each body as one frame, in order, in as few system
	// calls as the platform allows. The bodies are not modified or kept.
	WriteFrames(bodies [][]byte) error
	// WritePayload writes one frame whose body is the next n bytes of r. An
	// *os.File behind r goes from the page cache to the socket where the
	// platform allows (sendfile on Linux).
	WritePayload(n int64, r io.Reader) error
	// CloseWrite ends the writing side once everything written has gone
	// out: the peer reads it all, then the end of the stream. Reading on
	// this side goes on for linger at most, for the peer to close: closing
	// at once with input unread could reset the connection and lose what
	// the peer has not read yet. Once linger has passed, reads fail with
	// an error for which errors.Is(err, os.ErrDeadlineExceeded) holds,
	// whatever read deadline the reading goroutine sets. A transport that
	// cannot half-close closes.
	CloseWrite(linger time.Duration) error
}

// FrameTooLargeError reports a record frame longer than the reader's limit.
// The frame's body is still unread.
type FrameTooLargeError struct {
	Len uint32 // the frame's length as its header gave it
	Max int    // the limit it passed
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("frame: record of %d bytes is over the limit of %d", e.Len, e.Max)
}
