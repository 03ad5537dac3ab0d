// Package tls is the TLS 1.3 adapter of the transport port: a Listener and
// a Dialer whose connections carry frames (adapters/framing) inside TLS over
// TCP (adapters/tcp, for the sockets and their keep-alive probes). Nothing
// above the port knows whether a connection is encrypted.
//
// The server side handshakes each connection in a goroutine of its own,
// under a timeout, before Accept hands it out, so a slow or hostile peer
// never holds up the accept loop. The client side checks the server's key
// as Trust says: the system's CAs, a pinned key, or trust on first use
// recorded in a known_servers file.
package tls

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// MinVersion is the only protocol version spoken: TLS 1.3.
const MinVersion = tls.VersionTLS13

// DefaultPort is the TLS port of PROTOCOL.md section 1.
const DefaultPort = "23481"

// conn is a TLS connection whose Close closes the socket at once.
//
// tls.Conn.Close first sends a close_notify alert, under a write deadline
// of 5 s: a server cutting off a receiver that stopped reading would wait
// on it. The graceful end is CloseWrite (tls.Conn's, which sends the
// alert); Close is the abrupt one, as on TCP. A Go peer reads a TCP end
// without the alert, between records, as io.EOF.
type conn struct {
	*tls.Conn
	raw   net.Conn      // the TCP connection under it
	batch *batchingConn // between the two
}

// newConn wraps a TLS connection made over batch, itself over raw.
func newConn(tc *tls.Conn, batch *batchingConn, raw net.Conn) *conn {
	return &conn{Conn: tc, raw: raw, batch: batch}
}

func (c *conn) Close() error { return c.raw.Close() }

// Write encrypts p and sends its records to the socket in one write.
// crypto/tls writes each record of at most 16 KiB by itself: a 256 KiB
// payload chunk would cost 16 system calls, a batch of relayed messages
// several.
func (c *conn) Write(p []byte) (int, error) {
	c.batch.begin()
	n, err := c.Conn.Write(p)
	if ferr := c.batch.flush(); err == nil && ferr != nil {
		return 0, ferr
	}
	return n, err
}

// CloseWrite sends close_notify, then half-closes the socket, so that the
// peer sees the end of the stream even if it ignores the alert.
func (c *conn) CloseWrite() error {
	if err := c.Conn.CloseWrite(); err != nil {
		return err
	}
	if hc, ok := c.raw.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return nil
}

// batchingConn is the socket as crypto/tls sees it: between begin and
// flush it gathers what is written, then writes it all at once; and it
// reads ahead what the socket holds (see Read).
type batchingConn struct {
	net.Conn
	// raw reads the socket without waiting (see readAhead); nil when the
	// connection has no file descriptor, and reads are then plain.
	raw syscall.RawConn
	// ahead is what was read from the socket and not yet taken, a slice of
	// aheadBuf; aheadBuf is nil when ahead is empty, so that a connection
	// waiting for input holds no buffer. Both used by the reading goroutine
	// only (crypto/tls reads under its input lock).
	ahead    []byte
	aheadBuf *[readAheadSize]byte

	// mu guards batching and buf, and is held across the socket write of
	// flush: the reading goroutine may write too (crypto/tls answers a
	// KeyUpdate), and records must reach the socket in the order they were
	// sealed.
	mu       sync.Mutex
	batching bool
	buf      *[]byte // from batchBuffers while batching
}

// newBatchingConn wraps a socket.
func newBatchingConn(nc net.Conn) *batchingConn {
	b := &batchingConn{Conn: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			b.raw = raw
		}
	}
	return b
}

// readAheadSize is the most one read of the socket takes.
const readAheadSize = 64 << 10

// readAheadBuffers hold the read-ahead buffers of connections that have
// input not yet taken.
var readAheadBuffers = sync.Pool{New: func() any { return new([readAheadSize]byte) }}

// Read gives what was read ahead, or reads the socket. crypto/tls asks for
// one record (at most 16 KiB) at a time; reading up to 64 KiB of what the
// socket holds in one system call instead cuts the reads of a payload by
// four. The buffer is taken only once input is there, and given back when
// it is used up.
func (b *batchingConn) Read(p []byte) (int, error) {
	if len(b.ahead) == 0 && b.raw != nil && len(p) < readAheadSize {
		if err := b.readAhead(); err != nil {
			return 0, err
		}
	}
	if len(b.ahead) == 0 {
		return b.Conn.Read(p)
	}
	n := copy(p, b.ahead)
	b.ahead = b.ahead[n:]
	if len(b.ahead) == 0 {
		readAheadBuffers.Put(b.aheadBuf)
		b.ahead, b.aheadBuf = nil, nil
	}
	return n, nil
}

// readAhead waits until the socket has input (under its read deadline),
// then reads what it holds into a pooled buffer.
func (b *batchingConn) readAhead() error {
	var readErr error
	err := b.raw.Read(func(fd uintptr) bool {
		buf := readAheadBuffers.Get().(*[readAheadSize]byte)
		n, err := syscall.Read(int(fd), buf[:])
		switch {
		case errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR):
			readAheadBuffers.Put(buf)
			return errors.Is(err, syscall.EINTR) // EAGAIN: wait for input
		case err != nil:
			readErr = os.NewSyscallError("read", err)
		case n == 0:
			readErr = io.EOF
		default:
			b.ahead, b.aheadBuf = buf[:n], buf
			return true
		}
		readAheadBuffers.Put(buf)
		return true
	})
	if err != nil {
		return err
	}
	return readErr
}

// batchBuffers hold the buffers of batches being written, so that idle
// connections hold none.
var batchBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxKeptBatch bounds the buffers kept for reuse.
const maxKeptBatch = 1<<20 + 64<<10

func (b *batchingConn) begin() {
	b.mu.Lock()
	b.batching = true
	b.buf = batchBuffers.Get().(*[]byte)
	*b.buf = (*b.buf)[:0]
	b.mu.Unlock()
}

func (b *batchingConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.batching {
		*b.buf = append(*b.buf, p...)
		return len(p), nil
	}
	return b.Conn.Write(p)
}

// flush writes what was gathered since begin.
func (b *batchingConn) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batching = false
	buf := b.buf
	b.buf = nil
	var err error
	if len(*buf) > 0 {
		_, err = b.Conn.Write(*buf)
	}
	if cap(*buf) <= maxKeptBatch {
		batchBuffers.Put(buf)
	}
	return err
}
