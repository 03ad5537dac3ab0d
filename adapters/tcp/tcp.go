// Package tcp is the TCP adapter of the transport port: a Listener and a
// Dialer whose connections carry frames (adapters/framing) over TCP with
// keep-alive probes, so that a peer that vanished without a word is noticed
// even by a connection that has nothing to send.
package tcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"pcx/adapters/framing"
	"pcx/ports"
)

// DefaultKeepAlive probes an idle connection after 5 s, then every 3 s, and
// gives up after 3 unanswered probes: a dead peer is noticed in about 15 s.
// It suits a client, which has one connection and wants to know at once.
var DefaultKeepAlive = net.KeepAliveConfig{
	Enable:   true,
	Idle:     5 * time.Second,
	Interval: 3 * time.Second,
	Count:    3,
}

// ServerKeepAlive probes an idle connection after 15 s, then every 15 s,
// and gives up after 9 unanswered probes (Go's own defaults). A server
// should be slow to call a peer dead: Linux counts the zero-window probes
// of a receiver that fell behind towards the keep-alive limit, and with
// DefaultKeepAlive's 3 it aborted 5% of 10,000 connections (TCPAbortOnTimeout)
// some seconds after a storm of join notices, though every peer was alive.
var ServerKeepAlive = net.KeepAliveConfig{
	Enable:   true,
	Idle:     15 * time.Second,
	Interval: 15 * time.Second,
	Count:    9,
}

// Options configure the connections of a Listener or a Dialer.
type Options struct {
	// WriteTimeout is how long a write may make no progress before the
	// connection is given up (see framing.Options). Zero means no bound.
	WriteTimeout time.Duration
	// ReadTimeout is how long a frame that has begun may go without a
	// byte before the read fails (see framing.Options). Zero means no
	// bound.
	ReadTimeout time.Duration
	// KeepAlive configures the keep-alive probes; its zero value means
	// DefaultKeepAlive. (To turn probes off, give Enable false and any
	// other field non-zero, e.g. Idle: -1.)
	KeepAlive net.KeepAliveConfig
}

// keepAlive is the probe configuration in force: DefaultKeepAlive unless
// the caller gave one.
func (o Options) keepAlive() net.KeepAliveConfig {
	if o.KeepAlive == (net.KeepAliveConfig{}) {
		return DefaultKeepAlive
	}
	return o.KeepAlive
}

// listenConfig gives accepted connections keep-alive probes. (TCP_NODELAY
// is on by default in Go, as small records should not wait.)
func (o Options) listenConfig() *net.ListenConfig {
	return &net.ListenConfig{KeepAliveConfig: o.keepAlive()}
}

// dialer gives dialled connections keep-alive probes.
func (o Options) dialer() *net.Dialer {
	return &net.Dialer{KeepAliveConfig: o.keepAlive()}
}

// wrap frames an established connection.
func (o Options) wrap(c net.Conn) *framing.Conn {
	return framing.NewConn(c, framing.Options{WriteTimeout: o.WriteTimeout, ReadTimeout: o.ReadTimeout})
}

// Listener accepts TCP connections; it implements ports.Listener.
type Listener struct {
	ln   net.Listener
	opts Options

	closeOnce sync.Once
	closeErr  error // the result of ln.Close; written once inside closeOnce
}

var _ ports.Listener = (*Listener)(nil)

// Listen listens on addr ("host:port"; ":23480" for every interface).
func Listen(addr string, opts Options) (*Listener, error) {
	ln, err := opts.listenConfig().Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tcp: listen on %s: %w", addr, plainError(err))
	}
	return &Listener{ln: ln, opts: opts}, nil
}

// Accept waits for the next peer. After Close it returns an error wrapping
// ports.ErrClosed. When the process is out of file descriptors or buffers
// the error wraps ports.ErrAcceptPassing: such shortages pass, and the
// caller backs off and tries again (one place backs off: the server).
func (l *Listener) Accept() (ports.Conn, error) {
	c, err := l.AcceptNet()
	if err != nil {
		return nil, err
	}
	return l.opts.wrap(c), nil
}

// AcceptNet is Accept without the frames: the TCP connection itself, for
// an adapter that puts a layer (TLS) between the socket and the frames.
func (l *Listener) AcceptNet() (net.Conn, error) {
	c, err := l.ln.Accept()
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, net.ErrClosed):
		return nil, fmt.Errorf("tcp: accept: %w", ports.ErrClosed)
	case isPassing(err):
		return nil, fmt.Errorf("tcp: accept: %w: %w", ports.ErrAcceptPassing, err)
	default:
		return nil, fmt.Errorf("tcp: accept: %w", err)
	}
}

// Close stops listening and fails a pending Accept. Connections already
// accepted stay open. Only the first call closes; every call returns its
// result.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.ln.Close() })
	return l.closeErr
}

// Addr is the address the listener is bound to, e.g. "127.0.0.1:23480".
func (l *Listener) Addr() string {
	return l.ln.Addr().String()
}

// Dialer opens TCP connections; it implements ports.Dialer.
type Dialer struct {
	Options
}

var _ ports.Dialer = Dialer{}

// Dial connects to addr ("host:port"), giving up when ctx ends.
func (d Dialer) Dial(ctx context.Context, addr string) (ports.Conn, error) {
	c, err := d.DialNet(ctx, addr)
	if err != nil {
		return nil, err
	}
	return d.wrap(c), nil
}

// DialNet is Dial without the frames: the TCP connection itself, for an
// adapter that puts a layer (TLS) between the socket and the frames.
func (d Dialer) DialNet(ctx context.Context, addr string) (net.Conn, error) {
	c, err := d.dialer().DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tcp: dial %s: %w", addr, plainError(err))
	}
	return c, nil
}

// plainError strips what the net package adds around the cause of a
// failure ("listen tcp :23480: bind: "), which our own message already
// says, so that "address already in use" reads plainly.
func plainError(err error) error {
	var op *net.OpError
	if !errors.As(err, &op) {
		return err
	}
	var sys *os.SyscallError
	if errors.As(op.Err, &sys) {
		return sys.Err
	}
	return op.Err
}

// isPassing tells an accept failure that passes by itself (no free file
// descriptor or buffer for now) from one that ends the listener.
func isPassing(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) ||
		errors.Is(err, syscall.ECONNABORTED)
}
