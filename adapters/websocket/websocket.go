// Package websocket is the WebSocket adapter of the transport port
// (PROTOCOL.md section 8): an HTTP server whose upgrades at /ws, with the
// subprotocol pcx.v1, become connections that carry frames
// (adapters/framing) over the concatenated binary messages of each
// direction, and a Dialer for programs that speak the same. Every other
// path is served by a handler the caller gives: the web page.
//
// The application never knows the carrier: the connections obey the same
// port, limits and rules as TCP's.
package websocket

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	ws "github.com/coder/websocket"

	"pcx/adapters/framing"
	"pcx/domain"
	"pcx/ports"
)

// Path is where the WebSocket is served.
const Path = "/ws"

// Subprotocol is the only subprotocol spoken; a peer that does not ask for
// it is closed with status 1002.
const Subprotocol = "pcx.v1"

// MaxMessage is the largest WebSocket message read, and the largest one
// written: a frame's header and the longest record the protocol lets a
// connection send (the hard cap, 1 MiB), with room to spare. Messages are
// streamed, not held whole, so the bound is on the peer's framing, not on
// memory; a larger message closes the connection with status 1009. Longer
// writes are cut into several messages, which the protocol allows.
const MaxMessage = domain.HardMaxRecord + 64<<10

// Options configure a Listener.
type Options struct {
	// WriteTimeout is how long a write may make no progress before the
	// connection is given up (see framing.Options). Zero means no bound.
	WriteTimeout time.Duration
	// ReadTimeout is how long a frame that has begun may go without a
	// byte before the connection is given up (see framing.Options). Zero
	// means no bound.
	ReadTimeout time.Duration
	// OriginPatterns are the origins allowed besides the server's own
	// (host patterns as path.Match takes them, e.g. "chat.example.com" or
	// "*.example.com"). An upgrade from any other origin gets 403.
	OriginPatterns []string
	// Page serves every path but Path; nil means 404 there.
	Page http.Handler
	// TLS, when set, makes the listener serve https and wss.
	TLS *tls.Config
	// KeepAlive configures the TCP keep-alive probes of accepted
	// connections; the zero value means Go's defaults.
	KeepAlive net.KeepAliveConfig
}

// Listener serves HTTP and hands out each accepted /ws upgrade as a
// connection; it implements ports.Listener.
type Listener struct {
	ln   net.Listener
	srv  *http.Server
	opts Options

	accepted chan ports.Conn // the upgrades; a handler waits here until Accept takes its connection
	closed   chan struct{}   // closed by Close
	handlers sync.WaitGroup  // the /ws handlers in progress; Close waits for them
	served   chan struct{}   // closed when the HTTP server's Serve has returned

	closeOnce sync.Once
	closeErr  error // the result of closing the HTTP server; written once inside closeOnce
}

var _ ports.Listener = (*Listener)(nil)

// Listen listens on addr ("host:port"; ":23482" for every interface) and
// starts serving.
func Listen(addr string, opts Options) (*Listener, error) {
	lc := net.ListenConfig{KeepAliveConfig: opts.KeepAlive}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("websocket: listen on %s: %w", addr, err)
	}
	l := &Listener{
		ln: ln, opts: opts,
		accepted: make(chan ports.Conn),
		closed:   make(chan struct{}),
		served:   make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Path, l.upgrade)
	if opts.Page != nil {
		mux.Handle("/", opts.Page)
	}
	l.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		TLSConfig:         opts.TLS,
	}
	go l.serve()
	return l, nil
}

func (l *Listener) serve() {
	defer close(l.served)
	if l.opts.TLS != nil {
		_ = l.srv.ServeTLS(l.ln, "", "")
		return
	}
	_ = l.srv.Serve(l.ln)
}

// upgrade accepts a WebSocket at Path and waits until Accept takes it.
func (l *Listener) upgrade(w http.ResponseWriter, r *http.Request) {
	l.handlers.Add(1)
	defer l.handlers.Done()
	select {
	case <-l.closed:
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	default:
	}
	hw := &hijackWatcher{ResponseWriter: w}
	c, err := ws.Accept(hw, r, &ws.AcceptOptions{
		Subprotocols:   []string{Subprotocol},
		OriginPatterns: l.opts.OriginPatterns,
	})
	if err != nil {
		return // Accept has answered: 403 for a foreign origin, 400 for a bad upgrade
	}
	if c.Subprotocol() != Subprotocol {
		_ = c.Close(ws.StatusProtocolError, "subprotocol "+Subprotocol+" required")
		return
	}
	c.SetReadLimit(MaxMessage)
	conn := l.wrap(c, hw.conn)
	select {
	case l.accepted <- conn:
	case <-l.closed:
		_ = conn.Close()
	}
}

func (l *Listener) wrap(c *ws.Conn, raw net.Conn) *framing.Conn {
	return framing.NewConn(newStreamConn(c, raw), framing.Options{WriteTimeout: l.opts.WriteTimeout, ReadTimeout: l.opts.ReadTimeout})
}

// hijackWatcher keeps the connection that the upgrade takes over from the
// HTTP server, so that Close can close it at once.
type hijackWatcher struct {
	http.ResponseWriter
	conn net.Conn
}

func (h *hijackWatcher) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("websocket: the HTTP server cannot hand over connections")
	}
	c, brw, err := hj.Hijack()
	h.conn = c
	return c, brw, err
}

// Accept waits for the next WebSocket peer. After Close it returns an
// error wrapping ports.ErrClosed.
func (l *Listener) Accept() (ports.Conn, error) {
	select {
	case c := <-l.accepted:
		return c, nil
	case <-l.closed:
		return nil, fmt.Errorf("websocket: accept: %w", ports.ErrClosed)
	}
}

// Close stops serving HTTP and fails a pending Accept. Connections already
// accepted stay open. Only the first call closes; every call returns its
// result.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		close(l.closed)
		l.closeErr = l.srv.Close()
		<-l.served
		l.handlers.Wait()
	})
	return l.closeErr
}

// Addr is the address the listener is bound to, e.g. "127.0.0.1:23482".
func (l *Listener) Addr() string {
	return l.ln.Addr().String()
}

// URL is the page's address for a person to open, with host standing in
// for an unspecified listening address.
func (l *Listener) URL(host string) string {
	scheme := "http"
	if l.opts.TLS != nil {
		scheme = "https"
	}
	bound, port, _ := net.SplitHostPort(l.Addr())
	if ip := net.ParseIP(bound); ip != nil && !ip.IsUnspecified() {
		host = bound
	}
	return (&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: "/"}).String()
}

// Dialer opens WebSocket connections to a server's Path; it implements
// ports.Dialer.
type Dialer struct {
	// WriteTimeout is as in Options.
	WriteTimeout time.Duration
	// TLS, when set, dials wss with it.
	TLS *tls.Config
	// Origin, when set, is sent as the Origin header (a browser always
	// sends one; a program need not).
	Origin string
	// Subprotocol overrides the subprotocol asked for; empty means
	// Subprotocol. (For tests of a wrong one.)
	Subprotocol string
}

var _ ports.Dialer = Dialer{}

// Dial connects to the server at addr ("host:port"), giving up when ctx
// ends.
func (d Dialer) Dial(ctx context.Context, addr string) (ports.Conn, error) {
	c, raw, err := d.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(MaxMessage)
	return framing.NewConn(newStreamConn(c, raw), framing.Options{WriteTimeout: d.WriteTimeout}), nil
}

// DialWebSocket makes the upgrade and returns the WebSocket itself, for
// tests that speak it message by message.
func (d Dialer) DialWebSocket(ctx context.Context, addr string) (*ws.Conn, error) {
	c, _, err := d.dial(ctx, addr)
	return c, err
}

// dial makes the upgrade and returns the WebSocket and the connection
// under it.
func (d Dialer) dial(ctx context.Context, addr string) (*ws.Conn, net.Conn, error) {
	var raw net.Conn
	var nd net.Dialer
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, a)
			raw = c
			return c, err
		},
		TLSClientConfig: d.TLS,
	}
	scheme := "ws"
	opts := &ws.DialOptions{Subprotocols: []string{Subprotocol}, HTTPHeader: http.Header{},
		HTTPClient: &http.Client{Transport: transport}}
	if d.Subprotocol != "" {
		opts.Subprotocols = []string{d.Subprotocol}
	}
	if d.Origin != "" {
		opts.HTTPHeader.Set("Origin", d.Origin)
	}
	if d.TLS != nil {
		scheme = "wss"
	}
	c, resp, err := ws.Dial(ctx, scheme+"://"+addr+Path, opts)
	if err != nil {
		transport.CloseIdleConnections()
		if resp != nil {
			return nil, nil, &UpgradeError{Status: resp.StatusCode, err: err}
		}
		return nil, nil, fmt.Errorf("websocket: dial %s: %w", addr, err)
	}
	return c, raw, nil
}

// UpgradeError is a dial that the server answered without upgrading.
type UpgradeError struct {
	Status int // the HTTP status, e.g. 403 for a foreign origin
	err    error
}

func (e *UpgradeError) Error() string {
	return fmt.Sprintf("websocket: upgrade refused with HTTP %d: %v", e.Status, e.err)
}

func (e *UpgradeError) Unwrap() error { return e.err }
