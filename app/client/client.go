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
	// connection after this side has finished sending (default 3 s).
	LeaveTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.MaxSendRecord == 0 {
		c.MaxSendRecord = 64 << 10
	}
	if c.MaxReadRecord == 0 {
		c.MaxReadRecord = 1 << 20
	}
	if c.LeaveTimeout == 0 {
		c.LeaveTimeout = 3 * time.Second
	}
	return c
}

// Client runs one chat session at a time.
type Client struct {
	dialer    ports.Dialer
	codec     ports.Codec
	ui        ports.UI
	downloads ports.DownloadStore
	uploads   ports.UploadSource
}

// New returns a client that reaches servers through dialer and its user
// through ui.
func New(dialer ports.Dialer, codec ports.Codec, ui ports.UI, downloads ports.DownloadStore, uploads ports.UploadSource) *Client {
	return &Client{dialer: dialer, codec: codec, ui: ui, downloads: downloads, uploads: uploads}
}

// Run connects, logs in as cfg.Nickname and chats until the user leaves (\q,
// end of input, or ctx done), which returns nil. It returns an error wrapping
// ErrUnreachable, ErrNicknameRefused or ErrConnectionLost when the session
// cannot start or ends against the user's will.
func (c *Client) Run(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
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

	s := &session{client: c, cfg: cfg, conn: conn}
	if err := s.login(ctx); err != nil {
		if ctx.Err() != nil || errors.Is(err, errLeave) {
			return nil
		}
		return err
	}
	return s.chat(ctx)
}
