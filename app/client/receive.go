package client

import (
	"errors"
	"fmt"

	"pcx/domain"
	"pcx/ports"
)

// receive reads what the server sends and shows it, until the connection
// fails; it returns that error.
func (s *session) receive() error {
	var buf []byte
	for {
		body, err := s.in.ReadRecord(buf[:0], s.cfg.MaxReadRecord)
		var tooLarge *ports.FrameTooLargeError
		if errors.As(err, &tooLarge) {
			// The next read skips its body.
			s.warn(fmt.Sprintf("skipped a record of %d bytes from the server, over the limit of %d", tooLarge.Len, tooLarge.Max))
			continue
		}
		if err != nil {
			return err
		}
		buf = body
		rec, err := s.client.codec.DecodeRelay(body)
		if err != nil {
			// Without the record nobody knows whether a payload follows;
			// the server never sends such a thing, so carry on.
			s.warn(fmt.Sprintf("skipped a record from the server that cannot be read: %v", err))
			continue
		}
		if err := s.handle(&rec); err != nil {
			return err
		}
	}
}

// handle shows one relayed record and saves its attachment. It returns an
// error only when the connection failed.
func (s *session) handle(rec *domain.RelayRecord) error {
	rel, err := rec.Relay()
	if err != nil {
		s.warn(fmt.Sprintf("skipped a message from the server that cannot be read: %v", err))
		if rec.PayloadFollows() {
			return s.dropPayload()
		}
		return nil
	}
	ev := ports.Event{Kind: ports.EventMessage, Time: rel.Time, Nickname: rel.Nickname, Text: rel.Text}
	if rel.Nickname == domain.ServerName {
		ev.Kind = ports.EventNotice
		if rel.HasUsers && !rel.HasAttachment {
			ev.Kind, ev.Users = ports.EventWho, rel.Users
			s.whoAnswered()
		}
	}
	if rel.HasAttachment {
		ev.Attachment = rel.Attachment
		if err := s.receiveFile(&ev); err != nil {
			return err
		}
	}
	s.client.ui.Show(ev)
	return nil
}

// receiveFile streams the payload frame into the download store and notes
// in ev where it went or why it did not.
func (s *session) receiveFile(ev *ports.Event) error {
	size, r, err := s.in.ReadPayload()
	if err != nil {
		return err
	}
	src := &countingReader{r: r}
	tracked, done := s.client.ui.Track(ev.Attachment, size, ports.Receiving, src)
	ev.Size = size
	savedAs, err := s.client.downloads.Save(ev.Attachment, size, tracked)
	done()
	if src.n < size {
		// The store reads every byte unless the connection fails.
		return fmt.Errorf("receiving the file %q: %w", ev.Attachment, errOrUnexpectedEOF(err))
	}
	if err != nil {
		ev.SaveError = err.Error()
		return nil
	}
	ev.SavedAs = savedAs
	return nil
}

// dropPayload reads the header of a payload frame nobody can use and
// leaves its body unread, for the next read to skip.
func (s *session) dropPayload() error {
	_, _, err := s.in.ReadPayload()
	return err
}

func (s *session) warn(text string) {
	s.client.ui.Show(ports.Event{Kind: ports.EventError, Text: text})
}

func errOrUnexpectedEOF(err error) error {
	if err == nil {
		return errUnexpectedEnd
	}
	return err
}

var errUnexpectedEnd = errors.New("client: the connection ended inside a file")
