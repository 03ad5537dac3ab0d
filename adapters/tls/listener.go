package tls

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"pcx/adapters/framing"
	"pcx/adapters/tcp"
	"pcx/ports"
)

// ListenOptions configure a Listener.
type ListenOptions struct {
	// TCP configures the sockets and the frames' write timeout.
	TCP tcp.Options
	// Certificates is what the server presents; Reload swaps it for the
	// handshakes to come.
	Certificates *Certificates
	// HandshakeTimeout bounds a handshake; zero means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// MaxHandshakes bounds the handshakes in progress at once; past it new
	// connections wait in the kernel's backlog. Zero means
	// DefaultMaxHandshakes.
	MaxHandshakes int
	// PlainReply, if set, is a record sent, as one plain frame, to a pcx
	// client that spoke plain to this port, before the connection closes:
	// that client (ours or the reference one) then shows why.
	PlainReply []byte
	// Log receives a line per failed handshake; nil means none.
	Log *slog.Logger
}

// Defaults of ListenOptions.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultMaxHandshakes    = 1024
)

// Listener accepts TLS connections, already handshaken; it implements
// ports.Listener.
//
// One goroutine accepts TCP connections and starts a goroutine per
// handshake (at most MaxHandshakes at once); a connection whose handshake
// succeeds waits for Accept. Close stops all of them and closes what was
// not handed out.
type Listener struct {
	tcp    *tcp.Listener
	config *tls.Config
	opts   ListenOptions
	log    *slog.Logger

	ready  chan ports.Conn // handshaken connections, to Accept
	failed chan error      // accept failures other than Close, to Accept

	ctx       context.Context // cancelled by Close: handshakes in progress end
	cancel    context.CancelFunc
	workers   sync.WaitGroup // the accept goroutine and the handshakes
	closeOnce sync.Once
	closeErr  error // the result of closing tcp; written once inside closeOnce
}

var _ ports.Listener = (*Listener)(nil)

// Listen listens on addr ("host:port"; ":23481" for every interface).
func Listen(addr string, opts ListenOptions) (*Listener, error) {
	if opts.Certificates == nil {
		return nil, errors.New("tls: listen: no certificate")
	}
	if opts.HandshakeTimeout <= 0 {
		opts.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if opts.MaxHandshakes <= 0 {
		opts.MaxHandshakes = DefaultMaxHandshakes
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tl, err := tcp.Listen(addr, opts.TCP)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Listener{
		tcp:    tl,
		config: opts.Certificates.ServerConfig(),
		opts:   opts,
		log:    log,
		ready:  make(chan ports.Conn),
		failed: make(chan error),
		ctx:    ctx,
		cancel: cancel,
	}
	l.workers.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Accept waits for the next peer whose handshake succeeded. After Close it
// returns an error wrapping ports.ErrClosed.
func (l *Listener) Accept() (ports.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case err := <-l.failed:
		return nil, err
	case <-l.ctx.Done():
		return nil, fmt.Errorf("tls: accept: %w", ports.ErrClosed)
	}
}

// Close stops listening, ends the handshakes in progress and waits for
// them. Connections already accepted stay open. Only the first call
// closes; every call returns its result.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		l.cancel()
		l.closeErr = l.tcp.Close()
		l.workers.Wait()
	})
	return l.closeErr
}

// Addr is the address the listener is bound to.
func (l *Listener) Addr() string { return l.tcp.Addr() }

// acceptLoop accepts TCP connections until Close and starts their
// handshakes.
func (l *Listener) acceptLoop() {
	defer l.workers.Done()
	slots := make(chan struct{}, l.opts.MaxHandshakes)
	for {
		nc, err := l.tcp.AcceptNet()
		if errors.Is(err, ports.ErrClosed) {
			return
		}
		if err != nil {
			select {
			case l.failed <- fmt.Errorf("tls: %w", err):
				continue
			case <-l.ctx.Done():
				return
			}
		}
		select {
		case slots <- struct{}{}:
		case <-l.ctx.Done():
			nc.Close()
			return
		}
		l.workers.Add(1)
		go func() {
			defer l.workers.Done()
			defer func() { <-slots }()
			l.handshake(nc)
		}()
	}
}

// handshake runs the server's side of a handshake on nc and hands the
// connection to Accept; on failure it says why and closes nc.
func (l *Listener) handshake(nc net.Conn) {
	batch := newBatchingConn(nc)
	tc := tls.Server(batch, l.config)
	ctx, cancel := context.WithTimeout(l.ctx, l.opts.HandshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		l.refuse(nc, err)
		return
	}
	c := framing.NewConn(newConn(tc, batch, nc), framing.Options{WriteTimeout: l.opts.TCP.WriteTimeout, ReadTimeout: l.opts.TCP.ReadTimeout, FillPayloadReads: true})
	select {
	case l.ready <- c:
	case <-l.ctx.Done():
		c.Close()
	}
}

// refuse logs a failed handshake, answers a plain pcx client in plain so
// that it can tell its user, and closes.
func (l *Listener) refuse(nc net.Conn, err error) {
	log := l.log.With("peer", nc.RemoteAddr().String())
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &rh) && rh.Conn != nil && looksLikeFrame(rh.RecordHeader):
		log.Warn("a plain client connected to the TLS port; it should dial the plain port, or use TLS")
		l.replyPlain(nc)
	case l.ctx.Err() != nil:
		// Closing: not the peer's fault.
	case errors.Is(err, context.DeadlineExceeded):
		log.Info("TLS handshake timed out", "after", l.opts.HandshakeTimeout)
	default:
		log.Info("TLS handshake failed", "err", err)
	}
	nc.Close()
}

// looksLikeFrame tells whether the first five bytes a peer sent are a pcx
// frame header and the start of a record: a length under 16 MiB (so a
// zero first byte) and a record's opening brace, perhaps after whitespace.
func looksLikeFrame(b [5]byte) bool {
	switch b[4] {
	case '{', ' ', '\t', '\r', '\n':
		return b[0] == 0
	}
	return false
}

// plainLinger bounds how long replyPlain waits for a plain client to read
// its reply and close.
const plainLinger = time.Second

// replyPlain sends PlainReply as a frame, half-closes, and reads what the
// client still sends until it closes or plainLinger passes: closing with
// its login unread would reset the connection and could destroy the
// reply before the client reads it.
func (l *Listener) replyPlain(nc net.Conn) {
	if l.opts.PlainReply == nil {
		return
	}
	_ = nc.SetDeadline(time.Now().Add(plainLinger))
	w := framing.NewWriter(nc)
	if w.WriteFrames([][]byte{l.opts.PlainReply}) != nil {
		return
	}
	if hc, ok := nc.(interface{ CloseWrite() error }); ok && hc.CloseWrite() == nil {
		_, _ = io.Copy(io.Discard, nc)
	}
}
