package client

import (
	"context"
	"errors"
	"fmt"

	"pcx/domain"
	"pcx/ports"
)

// send reads the user's lines and sends them: a text, then the path of a
// file to attach or an empty line, as the seed's two prompts ask. It
// returns errLeave when the user leaves, after the last text is sent.
func (s *session) send(ctx context.Context) error {
	for {
		text, err := s.client.ui.ReadLine(ctx, ports.PromptText)
		if err != nil || text == QuitCommand {
			return errLeave
		}
		up, quit, err := s.askAttachment(ctx)
		if err != nil {
			return err
		}
		if up != nil || text != "" {
			if err := s.sendMessage(text, up); err != nil {
				return err
			}
		}
		if quit {
			return errLeave
		}
	}
}

// askAttachment reads the attachment prompt until it gives a file that can
// be sent or nothing. A person is asked again after a bad path; a script's
// text goes without the file. quit means the user left at this prompt: the
// text read before still goes, alone.
func (s *session) askAttachment(ctx context.Context) (up *ports.Upload, quit bool, err error) {
	ui := s.client.ui
	for {
		path, err := ui.ReadLine(ctx, ports.PromptAttachment)
		if err != nil || path == QuitCommand {
			return nil, true, nil
		}
		if path == "" {
			return nil, false, nil
		}
		up, problem := s.openAttachment(path)
		if problem == "" {
			return up, false, nil
		}
		if ui.Interactive() {
			ui.Show(ports.Event{Kind: ports.EventError, Text: problem + "; type another path, or press Enter to send the text alone"})
			continue
		}
		ui.Show(ports.Event{Kind: ports.EventError, Text: problem + "; the text goes without it"})
		return nil, false, nil
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
	case u.Size > 1<<32-1:
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

// errTooLong is a message too long for the server's record limit.
var errTooLong = errors.New("client: message too long")

// sendMessage writes one message record and, with a file, its payload
// frame straight after it. A message too long for the server is not sent
// and the user is told; a failed write ends the session, since the stream
// can no longer be trusted to be in step.
func (s *session) sendMessage(text string, up *ports.Upload) error {
	name := ""
	if up != nil {
		defer up.Body.Close()
		name = up.Name
	}
	domain.BuildChat(&s.outRec, text, name, up != nil)
	s.outBuf = s.client.codec.AppendRecord(s.outBuf[:0], &s.outRec)
	if len(s.outBuf) > s.cfg.MaxSendRecord {
		s.client.ui.Show(ports.Event{Kind: ports.EventError, Text: fmt.Sprintf(
			"%v: %d bytes, and the server takes at most %d; not sent", errTooLong, len(s.outBuf), s.cfg.MaxSendRecord)})
		return nil
	}
	if err := s.conn.WriteFrames([][]byte{s.outBuf}); err != nil {
		return fmt.Errorf("%w: sending a message: %w", ErrConnectionLost, err)
	}
	if up == nil {
		return nil
	}
	r, done := s.client.ui.Track(up.Name, up.Size, ports.Sending, up.Body)
	err := s.conn.WritePayload(up.Size, r)
	done()
	if err != nil {
		return fmt.Errorf("%w: sending the file %q: %w", ErrConnectionLost, up.Name, err)
	}
	return nil
}
