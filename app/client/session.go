package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"pcx/domain"
	"pcx/ports"
)

// session is one connection's conversation.
type session struct {
	client  *Client
	cfg     Config
	conn    ports.Conn // for Close, from any goroutine
	carried *carried   // owned by the goroutine that calls Run
	// in is read by awaitReply during the login, then by the receiver;
	// out is written by the login, then by the writer, then by leave.
	in  ports.FrameReader
	out ports.FrameWriter

	// Owned by the goroutine that calls Run: the login.
	outBuf   []byte
	loginBuf []byte // the login replies' read buffer; owned by awaitReply while it runs
	// nick is the nickname the server took; retrying says this is a new
	// connection after a lost one (--reconnect), so a refused nickname is
	// tried again later rather than asked for.
	nick     string
	retrying bool

	who whoState
}

// queueLen bounds the messages typed ahead of the writer, which may be busy
// with a large file; input waits when the queue is full.
const queueLen = 64

// login sends nicknames until the server takes one (PROTOCOL.md section 3,
// steps 1 and 2). A refusal ends the client unless a person can offer
// another nickname. While the person thinks, the next reply is already
// awaited: a server that hangs up after a refusal (the reference does) is
// reported at once, not after the next nickname.
func (s *session) login(ctx context.Context) error {
	ui := s.client.ui
	nick := s.cfg.Nickname
	replies := make(chan loginReply, 1)
	awaiting := false // a read of the next reply is in flight
	defer func() {
		if awaiting {
			s.conn.Close() // ends the read in flight
			<-replies
		}
	}()
	for {
		if _, err := domain.ParseNickname(nick); err != nil {
			problem := fmt.Sprintf("the nickname %q cannot be used: %v", nick, err)
			if !ui.Interactive() {
				return fmt.Errorf("%w: %s", ErrNicknameRefused, problem)
			}
			ui.Show(ports.Event{Kind: ports.EventError, Text: problem})
		} else {
			s.outBuf = s.client.codec.AppendLogin(s.outBuf[:0], nick)
			if err := s.out.WriteFrames([][]byte{s.outBuf}); err != nil {
				return fmt.Errorf("%w: sending the login: %w", ErrConnectionLost, err)
			}
			if !awaiting {
				go s.awaitReply(replies)
			}
			r := <-replies
			awaiting = false
			if r.err != nil {
				return r.err
			}
			if r.ok {
				s.nick = nick
				ui.Show(ports.Event{Kind: ports.EventLoggedIn, Nickname: nick})
				return nil
			}
			problem := fmt.Sprintf("the server refused the nickname %q: %s", nick, r.reason)
			if !ui.Interactive() || s.retrying {
				return fmt.Errorf("%w: %s", ErrNicknameRefused, problem)
			}
			ui.Show(ports.Event{Kind: ports.EventError, Text: problem})
		}
		if !awaiting {
			awaiting = true
			go s.awaitReply(replies)
		}
		var err error
		if nick, err = s.askNickname(ctx, replies); err != nil {
			if errors.Is(err, ErrConnectionLost) {
				awaiting = false
			}
			return err
		}
	}
}

// loginReply is the server's answer to a login, or why none came.
type loginReply struct {
	ok     bool
	reason string
	err    error // wraps ErrConnectionLost
}

// awaitReply reads the next status reply and hands it over. Records that
// are not status replies are skipped: the reference server relays messages
// to connections that have not logged in yet.
func (s *session) awaitReply(replies chan<- loginReply) {
	for {
		body, err := s.in.ReadRecord(s.loginBuf[:0], s.cfg.MaxReadRecord)
		if err != nil {
			replies <- loginReply{err: fmt.Errorf("%w: waiting for the reply to the login: %w", ErrConnectionLost, err)}
			return
		}
		s.loginBuf = body
		rec, err := s.client.codec.DecodeStatus(body)
		if err != nil {
			// Nobody knows whether a payload follows: the stream is lost.
			replies <- loginReply{err: fmt.Errorf("%w: the reply to the login cannot be read: %w", ErrConnectionLost, err)}
			return
		}
		if !rec.Status.Present() {
			if rec.PayloadFollows() {
				if err := s.dropPayload(); err != nil {
					replies <- loginReply{err: fmt.Errorf("%w: before the reply to the login: %w", ErrConnectionLost, err)}
					return
				}
			}
			continue
		}
		ok, reason, err := rec.Result()
		if err != nil {
			err = fmt.Errorf("%w: the reply to the login cannot be read: %w", ErrConnectionLost, err)
		}
		replies <- loginReply{ok: ok, reason: reason, err: err}
		return
	}
}

// askNickname asks the person at the keyboard for another nickname. Leaving
// (\q, end of input) gives errLeave; a server that speaks or hangs up in
// the meantime ends the question at once with an error that wraps
// ErrConnectionLost.
func (s *session) askNickname(ctx context.Context, replies <-chan loginReply) (string, error) {
	// The reference server hangs up right after a refusal: give it a
	// moment, so that the loss is told instead of a question.
	select {
	case r := <-replies:
		return "", unasked(r)
	case <-time.After(hangUpGrace):
	case <-ctx.Done():
		return "", errLeave
	}
	askCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var early loginReply
	got := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(got)
		select {
		case early = <-replies:
			cancel()
		case <-stop:
		}
	}()
	line, err := s.readNickname(askCtx)
	close(stop)
	<-got
	if askCtx.Err() != nil && ctx.Err() == nil {
		return "", unasked(early)
	}
	return line, err
}

// hangUpGrace is how long a refusal waits for the server to hang up before
// the person is asked for another nickname.
const hangUpGrace = 200 * time.Millisecond

// unasked is the error for a reply that came before another login was
// sent: the server hung up, or spoke out of turn.
func unasked(r loginReply) error {
	if r.err != nil {
		return fmt.Errorf("%w: the server closed the connection after refusing the nickname: %w", ErrConnectionLost, RootCause(r.err))
	}
	return fmt.Errorf("%w: the server sent a status reply to no login", ErrConnectionLost)
}

func (s *session) readNickname(ctx context.Context) (string, error) {
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

	defer s.endWho()
	s.askWho(sessCtx, queue) // once after login, the list of who is here
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
// transport can half-close, it does, and the receiver goes on reading
// until the server closes its side or the linger (LeaveTimeout) passes:
// closing with unread data would reset the connection and could throw
// away the last message still in the send buffer. The writer's linger
// bounds the receiver's last read; nobody else sets one.
func (s *session) leave(ctx context.Context, received <-chan error) {
	if ctx.Err() == nil && s.out.CloseWrite(s.cfg.LeaveTimeout) == nil {
		select {
		case <-received:
			s.conn.Close()
			return
		case <-ctx.Done():
		}
	}
	s.conn.Close()
	<-received
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
