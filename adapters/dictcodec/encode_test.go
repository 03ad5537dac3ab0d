package dictcodec_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/domain"
	"pcx/ports"
)

const stamp = "2021-09-27 12:34:56.789000+00:00"

var stampTime = time.Date(2021, 9, 27, 15, 34, 56, 789000000, time.FixedZone("MSK", 3*3600))

func TestAppendGolden(t *testing.T) {
	relay := func(r domain.Relay) []byte { return dictcodec.AppendRelay(nil, &r) }
	request := func(r domain.Request) []byte { return dictcodec.AppendRequest(nil, &r) }
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"relayed message keeps key order", relay(domain.Relayed(stampTime, "Ivan", domain.ChatMessage{Text: "Hello"})),
			`{"time":"2021-09-27 12:34:56.789000+00:00","nickname":"Ivan","text":"Hello"}`},
		{"relayed message with attachment",
			relay(domain.Relayed(stampTime, "Ivan", domain.ChatMessage{Text: "Hello", Attachment: "1.jpg", HasAttachment: true})),
			`{"time":"2021-09-27 12:34:56.789000+00:00","nickname":"Ivan","text":"Hello","attachment":"1.jpg"}`},
		{"notice, double quotes escaped", relay(domain.Notice(stampTime, domain.JoinText("Ivan"))),
			`{"time":"2021-09-27 12:34:56.789000+00:00","nickname":"SERVER","text":"User \"Ivan\" connected"}`},
		{"who answer", relay(domain.WhoAnswer(stampTime, []string{"Ivan", `M"a\ria`})),
			`{"time":"2021-09-27 12:34:56.789000+00:00","nickname":"SERVER","text":"Online (2): Ivan, M\"a\\ria","users":["Ivan","M\"a\\ria"]}`},
		{"who answer, nobody", relay(domain.WhoAnswer(stampTime, nil)),
			`{"time":"2021-09-27 12:34:56.789000+00:00","nickname":"SERVER","text":"Online (0): ","users":[]}`},
		{"status success", dictcodec.AppendStatus(nil, nil), `{"status":"success"}`},
		{"status error", dictcodec.AppendStatus(nil, domain.ErrNicknameTaken), `{"status":"error: this nickname is already taken"}`},
		{"status error with a backslash", dictcodec.AppendStatus(nil, domain.ErrNicknameBackslash), `{"status":"error: nickname must not contain \\"}`},
		{"login", dictcodec.AppendLogin(nil, "Ivan"), `{"nickname":"Ivan"}`},
		{"message", request(domain.Request{Message: domain.ChatMessage{Text: `C:\dir\`}}), `{"text":"C:\\dir\\"}`},
		{"message with attachment", request(domain.Request{Message: domain.ChatMessage{Text: "", Attachment: "1.jpg", HasAttachment: true}}),
			`{"text":"","attachment":"1.jpg"}`},
		{"who", request(domain.Request{Command: domain.Who}), `{"command":"who"}`},
		{"whitespace and control bytes stay literal", dictcodec.AppendLogin(nil, "a b\tc\r\nd\x00\x1f\x7f"),
			"{\"nickname\":\"a b\tc\r\nd\x00\x1f\x7f\"}"},
		{"structural bytes stay literal", dictcodec.AppendLogin(nil, "{}[],:"), `{"nickname":"{}[],:"}`},
		{"unicode is written as UTF-8", dictcodec.AppendLogin(nil, "Привет, 世界 😀"), `{"nickname":"Привет, 世界 😀"}`},
		{"invalid UTF-8 bytes are kept", dictcodec.AppendLogin(nil, "\xff\xfe\xc3("), "{\"nickname\":\"\xff\xfe\xc3(\"}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, string(tt.got))
			assert.True(t, isCanonical(tt.got))
		})
	}
}

func TestAppendKeepsWhatDstHolds(t *testing.T) {
	assert.Equal(t, `prefix{"nickname":"b"}`, string(dictcodec.AppendLogin([]byte("prefix"), "b")))
	assert.Equal(t, `prefix{"status":"success"}`, string(dictcodec.AppendStatus([]byte("prefix"), nil)))
}

func TestAppendDoesNotAllocateWithRoom(t *testing.T) {
	r := relayedValue()
	who := domain.WhoAnswer(stampTime, []string{"Ivan", "Maria"})
	req := domain.Request{Message: domain.ChatMessage{Text: "hi", Attachment: "a", HasAttachment: true}}
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		buf = dictcodec.AppendRelay(buf[:0], &r)
		buf = dictcodec.AppendRelay(buf[:0], &who)
		buf = dictcodec.AppendStatus(buf[:0], domain.ErrNicknameTaken)
		buf = dictcodec.AppendLogin(buf[:0], "Ivan")
		buf = dictcodec.AppendRequest(buf[:0], &req)
	})
	assert.Zero(t, allocs)
}

// What one end encodes, the other decodes to the same values.
func TestTypedRoundTrip(t *testing.T) {
	var server ports.ServerCodec = dictcodec.New()
	var client ports.ClientCodec = dictcodec.New()
	for _, text := range []string{"", "Hello", `"quoted" \back\ \"both\\`, "line\nbreak", "{\"a\":[]}"} {
		for _, rel := range []domain.Relay{
			domain.Relayed(stampTime, `Iv"an`, domain.ChatMessage{Text: text}),
			domain.Relayed(stampTime, "Ivan", domain.ChatMessage{Text: text, Attachment: text + ".jpg", HasAttachment: true}),
			domain.WhoAnswer(stampTime, []string{"Ivan", text}),
		} {
			rec, err := client.DecodeRelay(server.AppendRelay(nil, &rel))
			require.NoError(t, err)
			got, err := rec.Relay()
			require.NoError(t, err)
			assert.True(t, rel.Time.Equal(got.Time))
			got.Time = rel.Time
			assert.Equal(t, rel, got)
		}

		login, err := server.DecodeLogin(client.AppendLogin(nil, text))
		require.NoError(t, err)
		assert.Equal(t, domain.RawOf(text), login.Nickname)
		assert.False(t, login.PayloadFollows())

		for _, req := range []domain.Request{
			{Message: domain.ChatMessage{Text: text}},
			{Message: domain.ChatMessage{Text: text, Attachment: "f.bin", HasAttachment: true}},
			{Command: domain.Who},
		} {
			in, err := server.DecodeInbound(client.AppendRequest(nil, &req))
			require.NoError(t, err)
			got, err := in.Request()
			require.NoError(t, err)
			assert.Equal(t, req, got)
			assert.Equal(t, req.Message.HasAttachment, in.PayloadFollows())
		}
	}
	for _, refusal := range []error{nil, domain.ErrNicknameTaken, errors.New(`odd "reason" \ here`)} {
		st, err := client.DecodeStatus(server.AppendStatus(nil, refusal))
		require.NoError(t, err)
		ok, reason, err := st.Result()
		require.NoError(t, err)
		assert.Equal(t, refusal == nil, ok)
		if refusal != nil {
			assert.Equal(t, refusal.Error(), reason)
		}
	}
}

// relayed is the record the server sends most: time, nickname and a
// 64-byte text.
func relayed() *tRecord {
	return rec(pair("time", str(stamp)), pair("nickname", str("Ivan")),
		pair("text", str("The quick brown fox jumps over the lazy dog, then naps at noon!!")))
}

// relayedValue is relayed as the server builds it.
func relayedValue() domain.Relay {
	return domain.Relayed(stampTime, "Ivan", domain.ChatMessage{Text: "The quick brown fox jumps over the lazy dog, then naps at noon!!"})
}
