package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	"pcx/domain"
	"pcx/ports"
)

// session is one connection's conversation.
type session struct {
	client *Client
	cfg    Config
	conn   ports.Conn

	// Owned by the goroutine that calls Run: the login, then the input
	// loop, which encodes each message before it is queued.
	outRec domain.Record
	outBuf []byte
}

// queueLen bounds the messages typed ahead of the writer, which may be busy
// with a large file; input waits when the queue is full.
const queueLen = 64

// login sends nicknames until the server takes one (PROTOCOL.md section 3,
// steps 1 and 2). A refusal ends the client unless a person can offer
// another nickname.
func (s *session) login(ctx context.Context) error {
	ui := s.client.ui
	nick := s.cfg.Nickname
	var buf []byte
	for {
		problem, err := s.tryLogin(nick, &buf)
		if err != nil {
			return err
		}
		if problem == "" {
			ui.Show(ports.Event{Kind: ports.EventInfo, Text: fmt.Sprintf("logged in as %s; type a message, or %s to leave", nick, QuitCommand)})
			return nil
		}
		if !ui.Interactive() {
			return fmt.Errorf("%w: %s", ErrNicknameRefused, problem)
		}
		ui.Show(ports.Event{Kind: ports.EventError, Text: problem})
		if nick, err = s.askNickname(ctx); err != nil {
			return err
		}
	}
}

// tryLogin checks nick and offers it to the server. problem says, in
// words for the user, why it was not taken; err means the session failed.
func (s *session) tryLogin(nick string, buf *[]byte) (problem string, err error) {
	if _, err := domain.ParseNickname(nick); err != nil {
		return fmt.Sprintf("the nickname %q cannot be used: %v", nick, err), nil
	}
	domain.BuildLogin(&s.outRec, nick)
	if err := s.writeRecord(); err != nil {
		return "", fmt.Errorf("%w: sending the login: %w", ErrConnectionLost, err)
	}
	body, err := s.conn.ReadRecord((*buf)[:0], s.cfg.MaxReadRecord)
	if err != nil {
		return "", fmt.Errorf("%w: waiting for the reply to the login: %w", ErrConnectionLost, err)
	}
	*buf = body
	rec, err := s.client.codec.DecodeRecord(body)
	if err != nil {
		return "", fmt.Errorf("%w: the reply to the login cannot be read: %w", ErrConnectionLost, err)
	}
	ok, reason, err := domain.ParseStatus(&rec)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: the reply to the login cannot be read: %w", ErrConnectionLost, err)
	case !ok:
		return fmt.Sprintf("the server refused the nickname %q: %s", nick, reason), nil
	}
	return "", nil
}

// askNickname asks the person at the keyboard for another nickname. Leaving
// (\q, end of input) gives errLeave.
func (s *session) askNickname(ctx context.Context) (string, error) {
	for {
		line, err := s.client.ui.ReadLine(ctx, ports.PromptNickname)
		switch {
		case err != nil:
			return "", errLeave
		case line == QuitCommand:
			return "", errLeave
		case line != "":
			return line, nil
		}
	}
}

// errLeave means the user left; Run turns it into a nil error.
var errLeave = errors.New("client: the user left")

// chat runs the logged-in session: the user's input in this goroutine, the
// receiver and the writer in their own, until the user leaves or the
// connection fails.
func (s *session) chat(ctx context.Context) error {
	sessCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	queue := make(chan outgoing, queueLen)
	received := make(chan error, 1)
	written := make(chan struct{})
	go func() {
		err := s.receive()
		// A prompt and a send in progress end at once.
		cancel(fmt.Errorf("%w: %w", ErrConnectionLost, err))
		s.conn.Close()
		received <- err
	}()
	go func() {
		defer close(written)
		s.write(queue, cancel)
	}()

	inputErr := s.input(sessCtx, queue)
	close(queue)
	<-written // everything queued is sent, or the connection failed
	switch cause := context.Cause(sessCtx); {
	case ctx.Err() != nil:
		// The caller ends the client; Run's AfterFunc closed the connection.
		<-received
		return nil
	case cause != nil:
		s.conn.Close()
		<-received
		return cause
	case inputErr != nil && !errors.Is(inputErr, errLeave):
		s.conn.Close()
		<-received
		return inputErr
	}
	s.leave(ctx, received)
	return nil
}

// leave ends the session after everything has been sent. Where the
// transport can half-close, it does, and waits a little for the server to
// close its side: closing with unread data would reset the connection and
// could throw away the last message still in the send buffer.
func (s *session) leave(ctx context.Context, received <-chan error) {
	if ctx.Err() == nil && s.conn.CloseWrite() == nil {
		wait, cancel := context.WithTimeout(ctx, s.cfg.LeaveTimeout)
		defer cancel()
		select {
		case <-received:
			s.conn.Close()
			return
		case <-wait.Done():
		}
	}
	s.conn.Close()
	<-received
}

// writeRecord encodes s.outRec and writes it as one frame.
func (s *session) writeRecord() error {
	s.outBuf = s.client.codec.AppendRecord(s.outBuf[:0], &s.outRec)
	return s.conn.WriteFrames([][]byte{s.outBuf})
}

// countingReader counts the bytes read through it, so that a connection
// that failed during a download can be told apart from a failing store,
// which still reads every byte.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
