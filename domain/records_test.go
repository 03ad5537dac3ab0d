package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/domain"
)

var (
	raw    = domain.RawOf
	nested = domain.RawList
)

func TestLoginRecordNick(t *testing.T) {
	for _, tt := range []struct {
		name    string
		rec     domain.LoginRecord
		want    string
		err     error
		status  string
		payload bool
	}{
		{"plain", domain.LoginRecord{Nickname: raw("Ivan")}, "Ivan", nil, "", false},
		{"missing key", domain.LoginRecord{}, "", domain.ErrNicknameRequired, "nickname is required", false},
		{"empty value", domain.LoginRecord{Nickname: raw("")}, "", domain.ErrNicknameRequired, "nickname is required", false},
		{"list or object value", domain.LoginRecord{Nickname: nested}, "", domain.ErrNicknameNotString, "nickname must be a string", false},
		{"rule of the name", domain.LoginRecord{Nickname: raw(`I"van`)}, "", domain.ErrNicknameQuote, `nickname must not contain "`, false},
		{"attachment: a payload follows", domain.LoginRecord{Nickname: raw("Ivan"), Attachment: nested}, "Ivan", nil, "", true},
		{"refused, and a payload follows", domain.LoginRecord{Nickname: nested, Attachment: raw("")}, "", domain.ErrNicknameNotString, "nickname must be a string", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.payload, tt.rec.PayloadFollows())
			n, err := tt.rec.Nick()
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				require.ErrorIs(t, err, domain.ErrInvalidNickname)
				assert.EqualError(t, err, tt.status)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, n.String())
		})
	}
}

func TestInboundRecordRequest(t *testing.T) {
	msg := func(text string) domain.Request { return domain.Request{Message: domain.ChatMessage{Text: text}} }
	for _, tt := range []struct {
		name    string
		rec     domain.InboundRecord
		want    domain.Request
		err     error
		text    string
		payload bool
	}{
		{"text only", domain.InboundRecord{Text: raw("Hello")}, msg("Hello"), nil, "", false},
		{"empty text", domain.InboundRecord{Text: raw("")}, msg(""), nil, "", false},
		{"with attachment", domain.InboundRecord{Text: raw("Hello"), Attachment: raw("1.jpg")},
			domain.Request{Message: domain.ChatMessage{Text: "Hello", Attachment: "1.jpg", HasAttachment: true}}, nil, "", true},
		{"no text", domain.InboundRecord{Attachment: raw("1.jpg")}, domain.Request{}, domain.ErrTextRequired, "text is required", true},
		{"nothing", domain.InboundRecord{}, domain.Request{}, domain.ErrTextRequired, "text is required", false},
		{"text is a list or an object", domain.InboundRecord{Text: nested}, domain.Request{}, domain.ErrTextNotString, "text must be a string", false},
		{"text is a list, with attachment", domain.InboundRecord{Text: nested, Attachment: raw("a")}, domain.Request{}, domain.ErrTextNotString, "text must be a string", true},
		{"text not UTF-8", domain.InboundRecord{Text: raw("\xff")}, domain.Request{}, domain.ErrTextNotUTF8, "text is not valid UTF-8", false},
		{"bad attachment name", domain.InboundRecord{Text: raw("x"), Attachment: raw("../../x")},
			domain.Request{}, domain.ErrAttachmentNameSlash, "attachment name must not contain /", true},
		{"empty attachment name", domain.InboundRecord{Text: raw("x"), Attachment: raw("")},
			domain.Request{}, domain.ErrAttachmentNameEmpty, "attachment name is empty", true},
		{"attachment not a string", domain.InboundRecord{Text: raw("x"), Attachment: nested},
			domain.Request{}, domain.ErrAttachmentNameNotString, "attachment name must be a string", true},
		{"who", domain.InboundRecord{Command: raw("who")}, domain.Request{Command: domain.Who}, nil, "", false},
		{"who with an attachment", domain.InboundRecord{Command: raw("who"), Attachment: raw("x")}, domain.Request{Command: domain.Who}, nil, "", true},
		{"unknown command", domain.InboundRecord{Command: raw("kick")}, domain.Request{}, domain.ErrUnknownCommand, "unknown command", false},
		{"command not a string", domain.InboundRecord{Command: nested}, domain.Request{}, domain.ErrUnknownCommand, "unknown command", false},
		{"with text it is a message", domain.InboundRecord{Command: raw("who"), Text: raw("hi")}, msg("hi"), nil, "", false},
		{"with bad text it is a bad message", domain.InboundRecord{Command: raw("who"), Text: nested}, domain.Request{}, domain.ErrTextNotString, "text must be a string", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.payload, tt.rec.PayloadFollows(), "a payload frame follows")
			got, err := tt.rec.Request()
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assert.True(t, errors.Is(err, domain.ErrInvalidMessage) || errors.Is(err, domain.ErrInvalidAttachmentName))
				assert.EqualError(t, err, tt.text)
				assert.Equal(t, "error: "+tt.text, domain.ErrorText(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRelayRecordRelay(t *testing.T) {
	wantAt := time.Date(2021, 9, 27, 12, 34, 56, 789000000, time.UTC)
	const atText = "2021-09-27 12:34:56.789000+00:00"
	for _, tt := range []struct {
		name    string
		rec     domain.RelayRecord
		want    domain.Relay
		err     error
		payload bool
	}{
		{"message", domain.RelayRecord{Time: raw(atText), Nickname: raw("Ivan"), Text: raw("Hello")},
			domain.Relay{Time: wantAt, Nickname: "Ivan", Text: "Hello"}, nil, false},
		{"with attachment", domain.RelayRecord{Time: raw(atText), Nickname: raw("Ivan"), Text: raw("Hi"), Attachment: raw("1.jpg")},
			domain.Relay{Time: wantAt, Nickname: "Ivan", Text: "Hi", Attachment: "1.jpg", HasAttachment: true}, nil, true},
		{"attachment name kept as sent", domain.RelayRecord{Nickname: raw("Ivan"), Text: raw(""), Attachment: raw("/tmp/1.jpg")},
			domain.Relay{Nickname: "Ivan", Attachment: "/tmp/1.jpg", HasAttachment: true}, nil, true},
		{"bad time tolerated", domain.RelayRecord{Time: raw("yesterday"), Nickname: raw("Ivan"), Text: raw("Hello")},
			domain.Relay{Nickname: "Ivan", Text: "Hello"}, nil, false},
		{"time not a string tolerated", domain.RelayRecord{Time: nested, Nickname: raw("Ivan"), Text: raw("Hello")},
			domain.Relay{Nickname: "Ivan", Text: "Hello"}, nil, false},
		{"missing time tolerated", domain.RelayRecord{Nickname: raw("SERVER"), Text: raw("Hello")},
			domain.Relay{Nickname: "SERVER", Text: "Hello"}, nil, false},
		{"who answer", domain.RelayRecord{Nickname: raw("SERVER"), Text: raw("Online (1): Ivan"), Users: []string{"Ivan"}, HasUsers: true},
			domain.Relay{Nickname: "SERVER", Text: "Online (1): Ivan", Users: []string{"Ivan"}, HasUsers: true}, nil, false},
		{"no nickname", domain.RelayRecord{Time: raw(atText), Text: raw("Hello")}, domain.Relay{}, domain.ErrRelayMalformed, false},
		{"nickname not a string", domain.RelayRecord{Nickname: nested, Text: raw("Hello")}, domain.Relay{}, domain.ErrRelayMalformed, false},
		{"no text", domain.RelayRecord{Time: raw(atText), Nickname: raw("Ivan")}, domain.Relay{}, domain.ErrRelayMalformed, false},
		{"attachment not a string: malformed, and a payload follows", domain.RelayRecord{Nickname: raw("Ivan"), Text: raw(""), Attachment: nested},
			domain.Relay{}, domain.ErrRelayMalformed, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.payload, tt.rec.PayloadFollows())
			got, err := tt.rec.Relay()
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tt.want.Time.Equal(got.Time), "time %v", got.Time)
			got.Time = tt.want.Time
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestStatusRecordResult(t *testing.T) {
	for _, tt := range []struct {
		name   string
		rec    domain.StatusRecord
		ok     bool
		reason string
		err    error
	}{
		{"success", domain.StatusRecord{Status: raw("success")}, true, "", nil},
		{"taken", domain.StatusRecord{Status: raw("error: this nickname is already taken")}, false, "this nickname is already taken", nil},
		{"error without space", domain.StatusRecord{Status: raw("error:bad")}, false, "bad", nil},
		{"missing", domain.StatusRecord{}, false, "", domain.ErrStatusMissing},
		{"not a string", domain.StatusRecord{Status: nested}, false, "", domain.ErrStatusMissing},
		{"unknown", domain.StatusRecord{Status: raw("maybe")}, false, "", domain.ErrStatusUnknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason, err := tt.rec.Result()
			require.ErrorIs(t, err, tt.err)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.reason, reason)
		})
	}
}

func TestStatusTextReadsBack(t *testing.T) {
	assert.Equal(t, "success", domain.StatusText(nil))
	rec := domain.StatusRecord{Status: raw(domain.StatusText(domain.ErrNicknameTaken))}
	ok, reason, err := rec.Result()
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, domain.ErrNicknameTaken.Error(), reason)
}

func TestRelayConstructors(t *testing.T) {
	at := time.Date(2021, 9, 27, 12, 34, 56, 0, time.UTC)
	assert.Equal(t, domain.Relay{Time: at, Nickname: "Ivan", Text: "hi", Attachment: "a", HasAttachment: true},
		domain.Relayed(at, "Ivan", domain.ChatMessage{Text: "hi", Attachment: "a", HasAttachment: true}))
	assert.Equal(t, domain.Relay{Time: at, Nickname: "SERVER", Text: "bye"}, domain.Notice(at, "bye"))
	assert.Equal(t, domain.Relay{Time: at, Nickname: "SERVER", Text: "Online (2): Ivan, Olga", Users: []string{"Ivan", "Olga"}, HasUsers: true},
		domain.WhoAnswer(at, []string{"Ivan", "Olga"}))
}

func TestSentences(t *testing.T) {
	assert.Equal(t, `User "Ivan" connected`, domain.JoinText("Ivan"))
	assert.Equal(t, `User "Ivan" disconnected`, domain.LeaveText("Ivan"))
	assert.Equal(t, "error: text is required", domain.ErrorText(domain.ErrTextRequired))
	assert.Equal(t, "Online (3): Ivan, Maria, Olga", domain.WhoText([]string{"Ivan", "Maria", "Olga"}))
	assert.Equal(t, "Online (0): ", domain.WhoText(nil))
}
