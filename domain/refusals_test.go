package domain_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"pcx/domain"
)

// The server's refusals are sentences for people in their families; the
// ones that carry a number say it.
func TestRefusalSentencesAndFamilies(t *testing.T) {
	cases := []struct {
		err    error
		text   string
		family error
	}{
		{domain.ErrMalformedRecord, "malformed record", domain.ErrRecordRefused},
		{domain.ErrNotStored, "the server could not store this attachment", domain.ErrRecordRefused},
		{domain.ErrAttachmentTooBig, "attachment is over the size limit", domain.ErrOverLimit},
		{domain.ErrNoRoom, "the server has no room for this attachment now", domain.ErrOverLimit},
		{domain.ErrLoginTimeout, "login timed out", domain.ErrOverLimit},
		{domain.RecordTooLong(65536), "record is longer than 65536 bytes", domain.ErrOverLimit},
		{domain.RecordOverHardCap(2 << 20), "record of 2097152 bytes is over the hard limit of 1048576 bytes", domain.ErrOverLimit},
		{domain.ErrTooManyFromAddress, "too many connections from your address", domain.ErrOverLimit},
		{domain.ErrRoomLoginDown, "the other servers of this room are out of reach; try again in a moment", domain.ErrRoomUnreachable},
		{domain.ErrRoomMessageDown, "the other servers of this room are out of reach; this message reached no one", domain.ErrRoomUnreachable},
		{domain.ErrNicknameLost, "your nickname was taken on another server while this server was out of reach; log in again", domain.ErrRoomUnreachable},
	}
	for _, c := range cases {
		assert.Equal(t, c.text, c.err.Error())
		assert.True(t, errors.Is(c.err, c.family), "%q in its family", c.text)
		assert.Equal(t, "error: "+c.text, domain.ErrorText(c.err))
	}
}
