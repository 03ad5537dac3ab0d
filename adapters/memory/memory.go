// Package memory is an in-memory adapter of the transport port, for tests:
// a Network of named listeners whose connections are net.Pipe pairs framed
// by adapters/framing, the same framing the TCP adapter uses. So the
// application sees what it would see over TCP (frames, deadlines, write
// timeouts, io.EOF when the peer leaves) without a socket; the one
// difference is that a net.Pipe write waits for the peer to read it.
package memory

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"pcx/adapters/framing"
	"pcx/ports"
)

// backlog is how many dialled connections a listener holds before they are
// accepted; a Dial beyond it is refused, as a full TCP backlog would be.
const backlog = 128

// Option configures a Network.
type Option func(*Network)

// WithWriteTimeout gives every connection of the network a write timeout
// (see framing.Options).
func WithWriteTimeout(d time.Duration) Option {
	return func(n *Network) { n.opts.WriteTimeout = d }
}

// Network is a set of listeners, each under a name chosen by its owner,
// that Dial connects to. It is safe for concurrent use, and it implements
// ports.Dialer itself.
type Network struct {
	opts framing.Options // the options of every connection; set before first use

	mu        sync.Mutex
	listeners map[string]*Listener // the open listeners by address; guarded by mu
	peers     int                  // how many connections were dialled, to name them; guarded by mu
}

var _ ports.Dialer = (*Network)(nil)

// NewNetwork returns an empty network.
func NewNetwork(opts ...Option) *Network {
	n := &Network{listeners: make(map[string]*Listener)}
	for _, o := range opts {
		o(n)
	}
	return n
}

// Listen opens a listener under addr, which may be any non-empty name. The
// error wraps syscall.EADDRINUSE when another listener holds it, as over TCP.
func (n *Network) Listen(addr string) (*Listener, error) {
	if addr == "" {
		return nil, fmt.Errorf("memory: listen: empty address")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, taken := n.listeners[addr]; taken {
		return nil, fmt.Errorf("memory: listen on %s: %w", addr, syscall.EADDRINUSE)
	}
	l := &Listener{
		network: n,
		addr:    addr,
		pending: make(chan net.Conn, backlog),
		done:    make(chan struct{}),
	}
	n.listeners[addr] = l
	return l, nil
}

// Dial connects to the listener under addr. The error wraps
// syscall.ECONNREFUSED when there is none (or its backlog is full), as over
// TCP, and ctx's error when ctx has ended.
func (n *Network) Dial(ctx context.Context, addr string) (ports.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: dial %s: %w", addr, err)
	}
	n.mu.Lock()
	l := n.listeners[addr]
	n.peers++
	peer := pipeAddr("peer-" + strconv.Itoa(n.peers))
	n.mu.Unlock()

	client, server := net.Pipe()
	if l == nil || !l.enqueue(named(server, pipeAddr(addr), peer)) {
		_ = client.Close()
		_ = server.Close()
		return nil, fmt.Errorf("memory: dial %s: %w", addr, syscall.ECONNREFUSED)
	}
	return framing.NewConn(named(client, peer, pipeAddr(addr)), n.opts), nil
}

// forget drops l from the network, if it is still the listener under its
// address.
func (n *Network) forget(l *Listener) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners[l.addr] == l {
		delete(n.listeners, l.addr)
	}
}

// Listener hands out the connections dialled to its address; it implements
// ports.Listener.
type Listener struct {
	network *Network
	addr    string
	pending chan net.Conn // server ends dialled but not yet accepted
	done    chan struct{} // closed by Close

	mu     sync.Mutex // serialises enqueue with Close, so no conn is queued after the drain
	closed bool       // guarded by mu
}

var _ ports.Listener = (*Listener)(nil)

// Accept waits for the next dialled connection. After Close it returns an
// error wrapping ports.ErrClosed.
func (l *Listener) Accept() (ports.Conn, error) {
	select {
	case <-l.done: // closed wins over a connection still queued
		return nil, fmt.Errorf("memory: accept: %w", ports.ErrClosed)
	default:
	}
	select {
	case c := <-l.pending:
		return framing.NewConn(c, l.network.opts), nil
	case <-l.done:
		return nil, fmt.Errorf("memory: accept: %w", ports.ErrClosed)
	}
}

// Close frees the address, fails a pending Accept and closes the
// connections dialled but not accepted (their dialers see io.EOF).
// Closing twice does nothing.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	for drained := false; !drained; {
		select {
		case c := <-l.pending:
			_ = c.Close()
		default:
			drained = true
		}
	}
	l.mu.Unlock()
	l.network.forget(l)
	return nil
}

// Addr is the name the listener was opened under.
func (l *Listener) Addr() string {
	return l.addr
}

// enqueue queues a dialled connection for Accept; it reports false when the
// listener is closed or its backlog full.
func (l *Listener) enqueue(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	select {
	case l.pending <- c:
		return true
	default:
		return false
	}
}

// pipeAddr names one end of an in-memory connection.
type pipeAddr string

func (a pipeAddr) Network() string { return "memory" }
func (a pipeAddr) String() string  { return string(a) }

// namedConn is a net.Pipe end that tells its addresses, for logs.
type namedConn struct {
	net.Conn
	local, remote net.Addr
}

func named(c net.Conn, local, remote net.Addr) net.Conn {
	return namedConn{Conn: c, local: local, remote: remote}
}

func (c namedConn) LocalAddr() net.Addr  { return c.local }
func (c namedConn) RemoteAddr() net.Addr { return c.remote }
