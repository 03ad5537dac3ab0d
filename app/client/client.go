// Package client is the chat client of PROTOCOL.md: it logs a user in, sends
// what they type (with a file when they attach one) and shows, and saves,
// what the others send. It talks to the world only through ports: a Dialer
// and the Conn it opens, a Codec, a UI, a DownloadStore and an UploadSource.
//
// Concurrency: the goroutine that calls Run dials and logs in, then
// becomes the input loop: it reads the user's lines, opens the file to
// attach and queues each encoded message. One writer goroutine alone writes
// to the connection: each queued record and straight after it its file, so
// a record and its payload are always adjacent and typing goes on during an
// upload. One receiver goroutine alone reads from the connection: it
// streams each attachment into the download store, then shows the message.
// Whichever of receiver and writer fails first cancels the session's
// context with its error, which ends a prompt at once, and closes the
// connection, which ends the other's read or write.
package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"pcx/domain"
	"pcx/ports"
)

// Errors Run returns, for the caller to choose an exit code. Each is wrapped
// with the details.
var (
	// ErrUnreachable means the server could not be reached at all.
	ErrUnreachable = errors.New("client: cannot reach the server")
	// ErrConnectionLost means the connection ended while the user was still
	// in the chat, or the server broke the protocol.
	ErrConnectionLost = errors.New("client: lost the connection to the server")
	// ErrNicknameRefused means the server refused the nickname and nobody is
	// at the keyboard to offer another.
	ErrNicknameRefused = errors.New("client: cannot log in")
	// ErrFilesNotSent means the session ended normally but some files
	// could not be attached (Config.StrictFiles).
	ErrFilesNotSent = errors.New("client: some files were not sent")
)

// QuitCommand typed at either prompt ends the session (the seed's "\q").
const QuitCommand = `\q`

// Config says where to connect and as whom. The zero value of a limit means
// its default.
type Config struct {
	// Server is the address to dial, host:port.
	Server string
	// Nickname is the name to log in with.
	Nickname string
	// MaxSendRecord bounds a record this client sends: the server refuses
	// longer ones (PROTOCOL.md section 5, default 64 KiB).
	MaxSendRecord int
	// MaxReadRecord bounds a record read from the server; a longer one is
	// skipped with a warning (default 1 MiB, the server's hard cap).
	MaxReadRecord int
	// LeaveTimeout bounds how long leaving waits for the server to close the
	// connection after this side has finished sending (default 3 s): the
	// linger of the half-close, which ends the receiver's last read.
	LeaveTimeout time.Duration
	// WhoTimeout is how long an answer to "who" may take before the user is
	// told that the server cannot list users (default 2 s, PROTOCOL.md
	// section 7).
	WhoTimeout time.Duration
	// Reconnect makes a lost connection a pause: the client reports it,
	// dials again after RetryMin, doubling up to RetryMax (defaults 1 s
	// and 30 s), and logs in again under the same nickname.
	Reconnect          bool
	RetryMin, RetryMax time.Duration
	// StrictFiles makes Run return ErrFilesNotSent at the end when a file
	// could not be attached (its text went alone), so a program notices.
	StrictFiles bool
}

func (c Config) withDefaults() Config {
	if c.MaxSendRecord == 0 {
		c.MaxSendRecord = 64 << 10
	}
	if c.MaxReadRecord == 0 {
		c.MaxReadRecord = domain.HardMaxRecord
	}
	if c.LeaveTimeout == 0 {
		c.LeaveTimeout = 3 * time.Second
	}
	if c.WhoTimeout == 0 {
		c.WhoTimeout = 2 * time.Second
	}
	if c.RetryMin == 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Second
	}
	return c
}

// Client runs one chat session at a time.
type Client struct {
	dialer    ports.Dialer
	codec     ports.ClientCodec
	ui        ports.UI
	downloads ports.DownloadStore
	uploads   ports.UploadSource
}

// New returns a client that reaches servers through dialer and its user
// through ui.
func New(dialer ports.Dialer, codec ports.ClientCodec, ui ports.UI, downloads ports.DownloadStore, uploads ports.UploadSource) *Client {
	return &Client{dialer: dialer, codec: codec, ui: ui, downloads: downloads, uploads: uploads}
}

// Run connects, logs in as cfg.Nickname and chats until the user leaves (\q,
// end of input, or ctx done), which returns nil. It returns an error wrapping
// ErrUnreachable, ErrNicknameRefused or ErrConnectionLost when the session
// cannot start or ends against the user's will; with cfg.Reconnect a
// connection lost after a login is dialled again instead, until the user
// leaves. A loss is shown (ports.EventLost) the moment it is known.
func (c *Client) Run(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	st := &carried{nick: cfg.Nickname}
	wait := cfg.RetryMin
	for {
		err := c.runSession(ctx, cfg, st)
		if err == nil {
			if cfg.StrictFiles && st.unsent > 0 {
				return fmt.Errorf("%w: %d could not be attached", ErrFilesNotSent, st.unsent)
			}
			return nil
		}
		retry := cfg.Reconnect && st.loggedIn &&
			(errors.Is(err, ErrConnectionLost) || errors.Is(err, ErrUnreachable) || errors.Is(err, ErrNicknameRefused))
		if !retry {
			if errors.Is(err, ErrConnectionLost) {
				c.ui.Show(ports.Event{Kind: ports.EventLost, Text: RootCause(err).Error()})
			}
			return err
		}
		if st.fresh {
			wait, st.fresh = cfg.RetryMin, false // the last connection got in: start over
		}
		c.ui.Show(ports.Event{Kind: ports.EventLost, Text: RootCause(err).Error(), Retry: wait})
		if c.waitOffline(ctx, wait, st) {
			return nil
		}
		wait = min(2*wait, cfg.RetryMax)
	}
}

// waitOffline waits before the next dial while the user may go on typing:
// a text typed meanwhile is kept for the next connection, and leaving
// (\q, end of input) ends the wait and the client, which it reports.
func (c *Client) waitOffline(ctx context.Context, wait time.Duration, st *carried) (left bool) {
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for !st.hasPending {
		text, err := c.ui.ReadLine(waitCtx, ports.PromptText)
		if err == nil && text != QuitCommand {
			st.pending, st.hasPending = text, true
			break
		}
		// The wait is over (the line in flight is kept for the next
		// ReadLine), or the user left.
		return ctx.Err() != nil || waitCtx.Err() == nil
	}
	<-waitCtx.Done()
	return ctx.Err() != nil
}

// carried is what outlives one connection: who the user is, whether they
// ever got in, and what they were doing when it was lost.
type carried struct {
	nick     string
	loggedIn bool // some connection logged in: a later loss may be retried
	fresh    bool // the latest connection logged in
	// pending is a text read before the connection was lost at its
	// attachment prompt; the next session asks for its file again.
	pending    string
	hasPending bool
	unsent     int // files that could not be attached
}

// runSession dials, logs in and chats once.
func (c *Client) runSession(ctx context.Context, cfg Config, st *carried) error {
	conn, err := c.dialer.Dial(ctx, cfg.Server)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%w at %s: %w", ErrUnreachable, cfg.Server, err)
	}
	defer conn.Close()
	// A blocked read or write of the login ends when the user leaves.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	cfg.Nickname = st.nick
	s := &session{client: c, cfg: cfg, conn: conn, in: conn.Reader(), out: conn.Writer(), carried: st, retrying: st.loggedIn}
	if err := s.login(ctx); err != nil {
		if ctx.Err() != nil || errors.Is(err, errLeave) {
			return nil
		}
		return err
	}
	st.nick, st.loggedIn, st.fresh = s.nick, true, true
	return s.chat(ctx)
}

// RootCause follows a chain of wraps to its end; where an error wraps
// several, as "%w: %w" does (the kind, then the cause), it follows the last.
func RootCause(err error) error {
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if errs := u.Unwrap(); len(errs) > 0 {
				next = errs[len(errs)-1]
			}
		}
		if next == nil {
			return err
		}
		err = next
	}
}
