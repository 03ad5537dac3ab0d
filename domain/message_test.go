package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/domain"
)

func field(k, v string) domain.Field { return domain.Field{Key: k, Value: domain.Str(v)} }

func record(fields ...domain.Field) *domain.Record { return domain.NewRecord(fields...) }

func TestParseLogin(t *testing.T) {
	for _, tt := range []struct {
		name   string
		rec    *domain.Record
		want   string
		err    error
		status string
	}{
		{"plain", record(field("nickname", "Ivan")), "Ivan", nil, ""},
		{"unknown keys ignored", record(field("x", "y"), field("nickname", "Ivan")), "Ivan", nil, ""},
		{"missing key", record(field("name", "Ivan")), "", domain.ErrNicknameRequired, "nickname is required"},
		{"empty value", record(field("nickname", "")), "", domain.ErrNicknameRequired, "nickname is required"},
		{"list value", record(domain.Field{Key: "nickname", Value: domain.ListOf(domain.Str("Ivan"))}), "", domain.ErrNicknameNotString, "nickname must be a string"},
		{"record value", record(domain.Field{Key: "nickname", Value: domain.Rec(record())}), "", domain.ErrNicknameNotString, "nickname must be a string"},
		{"rule of the name", record(field("nickname", `I"van`)), "", domain.ErrNicknameQuote, `nickname must not contain "`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, err := domain.ParseLogin(tt.rec)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assert.EqualError(t, err, tt.status)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, n.String())
		})
	}
}

func TestParseChatMessage(t *testing.T) {
	list := domain.Field{Key: "text", Value: domain.ListOf()}
	for _, tt := range []struct {
		name    string
		rec     *domain.Record
		want    domain.ChatMessage
		err     error
		text    string
		payload bool
	}{
		{"text only", record(field("text", "Hello")), domain.ChatMessage{Text: "Hello"}, nil, "", false},
		{"empty text", record(field("text", "")), domain.ChatMessage{}, nil, "", false},
		{"unknown keys ignored", record(field("text", "Hi"), field("mood", "good")), domain.ChatMessage{Text: "Hi"}, nil, "", false},
		{"with attachment", record(field("text", "Hello"), field("attachment", "1.jpg")),
			domain.ChatMessage{Text: "Hello", Attachment: "1.jpg", HasAttachment: true}, nil, "", true},
		{"attachment before text", record(field("attachment", "1.jpg"), field("text", "")),
			domain.ChatMessage{Attachment: "1.jpg", HasAttachment: true}, nil, "", true},
		{"no text", record(field("attachment", "1.jpg")), domain.ChatMessage{}, domain.ErrTextRequired, "text is required", true},
		{"empty record", record(), domain.ChatMessage{}, domain.ErrTextRequired, "text is required", false},
		{"text is a list", record(list), domain.ChatMessage{}, domain.ErrTextNotString, "text must be a string", false},
		{"text not utf-8", record(field("text", "\xff")), domain.ChatMessage{}, domain.ErrTextNotUTF8, "text is not valid UTF-8", false},
		{"bad attachment name", record(field("text", "x"), field("attachment", "../../x")),
			domain.ChatMessage{}, domain.ErrAttachmentNameSlash, "attachment name must not contain /", true},
		{"empty attachment name", record(field("text", "x"), field("attachment", "")),
			domain.ChatMessage{}, domain.ErrAttachmentNameEmpty, "attachment name is empty", true},
		{"attachment not a string", record(field("text", "x"), domain.Field{Key: "attachment", Value: domain.ListOf()}),
			domain.ChatMessage{}, domain.ErrAttachmentNameNotString, "attachment name must be a string", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.payload, domain.HasAttachmentKey(tt.rec), "a payload frame follows")
			got, err := domain.ParseChatMessage(tt.rec)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assert.EqualError(t, err, tt.text)
				assert.Equal(t, "error: "+tt.text, domain.ErrorText(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

var at = time.Date(2021, 9, 27, 15, 34, 56, 789000000, time.FixedZone("MSK", 3*3600))

const atText = "2021-09-27 12:34:56.789000+00:00"

func TestBuildersWriteExactRecords(t *testing.T) {
	for _, tt := range []struct {
		name  string
		build func(r *domain.Record)
		want  []domain.Field
	}{
		{"relay", func(r *domain.Record) { domain.BuildRelay(r, at, "Ivan", "Hello", "", false) },
			[]domain.Field{field("time", atText), field("nickname", "Ivan"), field("text", "Hello")}},
		{"relay with attachment", func(r *domain.Record) { domain.BuildRelay(r, at, "Ivan", "Hello", "1.jpg", true) },
			[]domain.Field{field("time", atText), field("nickname", "Ivan"), field("text", "Hello"), field("attachment", "1.jpg")}},
		{"relay with empty text", func(r *domain.Record) { domain.BuildRelay(r, at, "Ivan", "", "", false) },
			[]domain.Field{field("time", atText), field("nickname", "Ivan"), field("text", "")}},
		{"join notice", func(r *domain.Record) { domain.BuildNotice(r, at, domain.JoinText("Ivan")) },
			[]domain.Field{field("time", atText), field("nickname", "SERVER"), field("text", `User "Ivan" connected`)}},
		{"leave notice", func(r *domain.Record) { domain.BuildNotice(r, at, domain.LeaveText("Ivan")) },
			[]domain.Field{field("time", atText), field("nickname", "SERVER"), field("text", `User "Ivan" disconnected`)}},
		{"error notice", func(r *domain.Record) { domain.BuildNotice(r, at, domain.ErrorText(domain.ErrTextRequired)) },
			[]domain.Field{field("time", atText), field("nickname", "SERVER"), field("text", "error: text is required")}},
		{"shutdown notice", func(r *domain.Record) { domain.BuildNotice(r, at, domain.ShutdownText) },
			[]domain.Field{field("time", atText), field("nickname", "SERVER"), field("text", "Server is shutting down")}},
		{"status success", func(r *domain.Record) { domain.BuildStatus(r, nil) },
			[]domain.Field{field("status", "success")}},
		{"status taken", func(r *domain.Record) { domain.BuildStatus(r, domain.ErrNicknameTaken) },
			[]domain.Field{field("status", "error: this nickname is already taken")}},
		{"status required", func(r *domain.Record) { domain.BuildStatus(r, domain.ErrNicknameRequired) },
			[]domain.Field{field("status", "error: nickname is required")}},
		{"status malformed", func(r *domain.Record) { domain.BuildStatus(r, errors.New("malformed record")) },
			[]domain.Field{field("status", "error: malformed record")}},
		{"login", func(r *domain.Record) { domain.BuildLogin(r, "Ivan") },
			[]domain.Field{field("nickname", "Ivan")}},
		{"chat", func(r *domain.Record) { domain.BuildChat(r, "Hello", "", false) },
			[]domain.Field{field("text", "Hello")}},
		{"chat with attachment", func(r *domain.Record) { domain.BuildChat(r, "Hello", "1.jpg", true) },
			[]domain.Field{field("text", "Hello"), field("attachment", "1.jpg")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A reused record: what was in it before must be gone.
			r := record(field("stale", "x"), field("text", "old"), field("a", "b"), field("c", "d"), field("e", "f"))
			tt.build(r)
			assert.Equal(t, tt.want, r.Fields())
		})
	}
}

func TestParseRelay(t *testing.T) {
	wantAt := time.Date(2021, 9, 27, 12, 34, 56, 789000000, time.UTC)
	for _, tt := range []struct {
		name string
		rec  *domain.Record
		want domain.Relay
		err  error
	}{
		{"message", record(field("time", atText), field("nickname", "Ivan"), field("text", "Hello")),
			domain.Relay{Time: wantAt, Nickname: "Ivan", Text: "Hello"}, nil},
		{"with attachment", record(field("time", atText), field("nickname", "Ivan"), field("text", "Hi"), field("attachment", "1.jpg")),
			domain.Relay{Time: wantAt, Nickname: "Ivan", Text: "Hi", Attachment: "1.jpg", HasAttachment: true}, nil},
		{"attachment name kept as sent", record(field("nickname", "Ivan"), field("text", ""), field("attachment", "/tmp/1.jpg")),
			domain.Relay{Nickname: "Ivan", Attachment: "/tmp/1.jpg", HasAttachment: true}, nil},
		{"bad time tolerated", record(field("time", "yesterday"), field("nickname", "Ivan"), field("text", "Hello")),
			domain.Relay{Nickname: "Ivan", Text: "Hello"}, nil},
		{"missing time tolerated", record(field("nickname", "SERVER"), field("text", "Hello")),
			domain.Relay{Nickname: "SERVER", Text: "Hello"}, nil},
		{"no nickname", record(field("time", atText), field("text", "Hello")), domain.Relay{}, domain.ErrRelayMalformed},
		{"no text", record(field("time", atText), field("nickname", "Ivan")), domain.Relay{}, domain.ErrRelayMalformed},
		{"attachment not a string", record(field("nickname", "Ivan"), field("text", ""), domain.Field{Key: "attachment", Value: domain.ListOf()}),
			domain.Relay{}, domain.ErrRelayMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseRelay(tt.rec)
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

func TestRelayRoundTrip(t *testing.T) {
	var r domain.Record
	domain.BuildRelay(&r, at, "Ivan", "Hello", "1.jpg", true)
	got, err := domain.ParseRelay(&r)
	require.NoError(t, err)
	assert.True(t, at.Equal(got.Time))
	assert.Equal(t, "Ivan", got.Nickname)
	assert.Equal(t, "1.jpg", got.Attachment)
	assert.True(t, got.HasAttachment)
}

func TestParseStatus(t *testing.T) {
	for _, tt := range []struct {
		name   string
		rec    *domain.Record
		ok     bool
		reason string
		err    error
	}{
		{"success", record(field("status", "success")), true, "", nil},
		{"taken", record(field("status", "error: this nickname is already taken")), false, "this nickname is already taken", nil},
		{"error without space", record(field("status", "error:bad")), false, "bad", nil},
		{"missing", record(field("text", "x")), false, "", domain.ErrStatusMissing},
		{"not a string", record(domain.Field{Key: "status", Value: domain.ListOf()}), false, "", domain.ErrStatusMissing},
		{"unknown", record(field("status", "maybe")), false, "", domain.ErrStatusUnknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ok, reason, err := domain.ParseStatus(tt.rec)
			require.ErrorIs(t, err, tt.err)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.reason, reason)
		})
	}
}

func TestStatusRoundTrip(t *testing.T) {
	var r domain.Record
	domain.BuildStatus(&r, domain.ErrNicknameTaken)
	ok, reason, err := domain.ParseStatus(&r)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, domain.ErrNicknameTaken.Error(), reason)
}
