package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"pcx/domain"
	"pcx/ports"
)

// outgoing is one message on its way to the writer: its encoded record and
// the file that follows it, if any.
type outgoing struct {
	record []byte
	up     *ports.Upload
}

// input reads the user's lines and queues them: a text, then the path of a
// file to attach or an empty line, as the seed's two prompts ask; a
// command (/who, /help) takes one line. It returns errLeave when the user
// leaves, ctx's error when the session ends first.
func (s *session) input(ctx context.Context, queue chan<- outgoing) error {
	for {
		text, err := s.nextText(ctx)
		if err != nil {
			return err
		}
		text, isCommand := s.command(ctx, queue, text)
		if isCommand {
			continue
		}
		up, quit := s.askAttachment(ctx)
		if ctx.Err() != nil {
			// Lost at the attachment prompt: the text waits for the next
			// connection (--reconnect), where its file is asked for again.
			s.carried.pending, s.carried.hasPending = text, true
			closeUpload(up)
			return ctx.Err()
		}
		if up != nil || text != "" {
			if err := s.enqueue(ctx, queue, text, up); err != nil {
				return err
			}
		}
		if quit {
			return leaveOr(ctx)
		}
	}
}

// nextText is the text the user typed before a connection was lost at its
// attachment prompt, or else the next line at the text prompt.
func (s *session) nextText(ctx context.Context) (string, error) {
	if s.carried.hasPending {
		s.carried.hasPending = false
		return s.carried.pending, nil
	}
	text, err := s.client.ui.ReadLine(ctx, ports.PromptText)
	if err != nil || text == QuitCommand {
		return "", leaveOr(ctx)
	}
	return text, nil
}

// Commands typed at the text prompt.
const (
	whoCommand  = "/who"
	helpCommand = "/help"
)

// helpText lists what can be typed at the text prompt.
const helpText = `commands: /who lists who is online; /help shows this; \q leaves. ` +
	`A text that starts with / is sent by typing it with one more: //text sends /text, and \\q sends \q.`

// isEscapedQuit reports a text of two or more backslashes and a q: it
// stands for itself with one backslash less, so that \\q sends \q. Other
// texts that start with a backslash (a Windows path) go as typed.
func isEscapedQuit(text string) bool {
	return len(text) >= 3 && strings.TrimLeft(text, `\`) == "q"
}

// command carries out a command line and reports whether text was one;
// otherwise it returns the text to send, with an escaping "/" or "\"
// taken off ("//x" sends "/x", "\\q" sends "\q"; see isEscapedQuit).
func (s *session) command(ctx context.Context, queue chan<- outgoing, text string) (string, bool) {
	switch {
	case strings.HasPrefix(text, "//"), isEscapedQuit(text):
		return text[1:], false
	case text == whoCommand:
		s.askWho(ctx, queue)
	case text == helpCommand:
		s.client.ui.Show(ports.Event{Kind: ports.EventInfo, Text: helpText})
	case strings.HasPrefix(text, "/"):
		name, _, _ := strings.Cut(text, " ")
		s.client.ui.Show(ports.Event{Kind: ports.EventError, Text: fmt.Sprintf(
			"unknown command %q; /help lists them; type //%s to send it as a text", name, text[1:])})
	default:
		return text, false
	}
	return "", true
}

// leaveOr tells a user who left from a session that ended under them.
func leaveOr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return errLeave
}

// enqueue encodes a message and hands it to the writer. A message too long
// for the server is not sent, and the user is told.
func (s *session) enqueue(ctx context.Context, queue chan<- outgoing, text string, up *ports.Upload) error {
	name := ""
	if up != nil {
		name = up.Name
	}
	req := domain.Request{Message: domain.ChatMessage{Text: text, Attachment: name, HasAttachment: up != nil}}
	record := s.client.codec.AppendRequest(nil, &req)
	if len(record) > s.cfg.MaxSendRecord {
		s.client.ui.Show(ports.Event{Kind: ports.EventError, Text: fmt.Sprintf(
			"message too long: %d bytes, and the server takes at most %d; not sent", len(record), s.cfg.MaxSendRecord)})
		closeUpload(up)
		return nil
	}
	select {
	case queue <- outgoing{record: record, up: up}:
		return nil
	case <-ctx.Done():
		closeUpload(up)
		return ctx.Err()
	}
}

// askAttachment reads the attachment prompt until it gives a file that can
// be sent or nothing. A person is asked again after a bad path; a script's
// text goes without the file. quit means the user left at this prompt: the
// text read before still goes, alone.
func (s *session) askAttachment(ctx context.Context) (up *ports.Upload, quit bool) {
	ui := s.client.ui
	for {
		path, err := ui.ReadLine(ctx, ports.PromptAttachment)
		if err != nil || path == QuitCommand {
			return nil, true
		}
		if path == "" {
			return nil, false
		}
		up, problem := s.openAttachment(path)
		if problem == "" {
			return up, false
		}
		if ui.Interactive() {
			ui.Show(ports.Event{Kind: ports.EventError, Text: problem + "; type another path, or press Enter to send the text alone"})
			continue
		}
		s.carried.unsent++
		ui.Show(ports.Event{Kind: ports.EventError, Text: problem + "; the text goes without it", Attachment: path})
		return nil, false
	}
}

// openAttachment opens path and checks that it can be sent; problem says
// why not, in words for the user.
func (s *session) openAttachment(path string) (up *ports.Upload, problem string) {
	u, err := s.client.uploads.Open(path)
	if err != nil {
		return nil, fmt.Sprintf("cannot attach %q: %v", path, err)
	}
	switch {
	case u.Size == 0:
		// The reference client takes a 0-length frame for a closed socket.
		problem = fmt.Sprintf("cannot attach %q: the file is empty, and an empty file cannot be sent", path)
	case u.Size > domain.MaxFrame:
		problem = fmt.Sprintf("cannot attach %q: the file is larger than 4 GiB, the most a frame can carry", path)
	default:
		if err := domain.ValidateAttachmentName(u.Name); err != nil {
			problem = fmt.Sprintf("cannot attach %q: its name cannot be sent: %v", path, err)
		}
	}
	if problem != "" {
		u.Body.Close()
		return nil, problem
	}
	return &u, ""
}

func closeUpload(up *ports.Upload) {
	if up != nil {
		up.Body.Close()
	}
}

// write alone writes to the connection: each queued record, and straight
// after it the file that goes with it. A failed write ends the session
// (cancel), since the stream can no longer be trusted to be in step; what
// is still queued is dropped.
func (s *session) write(queue <-chan outgoing, cancel context.CancelCauseFunc) {
	for o := range queue {
		if err := s.writeOne(o); err != nil {
			cancel(err)
			s.conn.Close()
			for o := range queue {
				closeUpload(o.up)
			}
			return
		}
	}
}

func (s *session) writeOne(o outgoing) error {
	defer closeUpload(o.up)
	if err := s.out.WriteFrames([][]byte{o.record}); err != nil {
		return fmt.Errorf("%w: sending a message: %w", ErrConnectionLost, err)
	}
	if o.up == nil {
		return nil
	}
	r, done := s.client.ui.Track(o.up.Name, o.up.Size, ports.Sending, o.up.Body)
	err := s.out.WritePayload(o.up.Size, r)
	done()
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The file shrank after its size was sent: the frame cannot be
		// finished, and a frame cut short leaves the stream out of step.
		return fmt.Errorf("client: %q got shorter while it was being sent, so the connection had to be closed: %w", o.up.Name, err)
	case err != nil:
		return fmt.Errorf("%w: sending the file %q: %w", ErrConnectionLost, o.up.Name, err)
	}
	s.client.ui.Show(ports.Event{Kind: ports.EventSent, Attachment: o.up.Name, Size: o.up.Size})
	return nil
}
