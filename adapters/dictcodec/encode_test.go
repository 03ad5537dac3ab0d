package dictcodec_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
	"pcx/domain"
	"pcx/ports"
)

const stamp = "2021-09-27 12:34:56.789000+00:00"

func TestAppendGolden(t *testing.T) {
	tests := []struct {
		name string
		rec  *domain.Record
		want string
	}{
		{
			name: "relayed message keeps key order",
			rec:  rec(pair("time", str(stamp)), pair("nickname", str("Ivan")), pair("text", str("Hello"))),
			want: `{"time":"2021-09-27 12:34:56.789000+00:00","nickname":"Ivan","text":"Hello"}`,
		},
		{
			name: "relayed message with attachment",
			rec: rec(pair("time", str(stamp)), pair("nickname", str("Ivan")), pair("text", str("Hello")),
				pair("attachment", str("1.jpg"))),
			want: `{"time":"2021-09-27 12:34:56.789000+00:00","nickname":"Ivan","text":"Hello","attachment":"1.jpg"}`,
		},
		{
			name: "login and status",
			rec:  rec(pair("status", str("error: this nickname is already taken"))),
			want: `{"status":"error: this nickname is already taken"}`,
		},
		{
			name: "double quotes are escaped",
			rec:  rec(pair("text", str(`User "Ivan" connected`))),
			want: `{"text":"User \"Ivan\" connected"}`,
		},
		{
			name: "backslashes are escaped",
			rec:  rec(pair("text", str(`C:\dir\`))),
			want: `{"text":"C:\\dir\\"}`,
		},
		{
			name: "backslash then quote",
			rec:  rec(pair(`k"\`, str(`\"`))),
			want: `{"k\"\\":"\\\""}`,
		},
		{
			name: "whitespace and control bytes stay literal",
			rec:  rec(pair("text", str("a b\tc\r\nd\x00\x1f\x7f"))),
			want: "{\"text\":\"a b\tc\r\nd\x00\x1f\x7f\"}",
		},
		{
			name: "structural bytes inside strings stay literal",
			rec:  rec(pair("{}", str("[],:"))),
			want: `{"{}":"[],:"}`,
		},
		{
			name: "unicode is written as UTF-8",
			rec:  rec(pair("текст", str("Привет, 世界 😀"))),
			want: `{"текст":"Привет, 世界 😀"}`,
		},
		{
			name: "invalid UTF-8 bytes are kept as they are",
			rec:  rec(pair("text", str("\xff\xfe\xc3("))),
			want: "{\"text\":\"\xff\xfe\xc3(\"}",
		},
		{
			name: "empty key and value",
			rec:  rec(pair("", str(""))),
			want: `{"":""}`,
		},
		{
			name: "nested records",
			rec:  rec(pair("a", domain.Rec(rec(pair("b", domain.Rec(rec(pair("c", str("d"))))))))),
			want: `{"a":{"b":{"c":"d"}}}`,
		},
		{
			name: "empty nested record, nil nested record",
			rec:  rec(pair("a", domain.Rec(rec())), pair("b", domain.Rec(nil))),
			want: `{"a":{},"b":{}}`,
		},
		{
			name: "lists of every kind of value",
			rec: rec(pair("a", domain.ListOf(str("x"), domain.Rec(rec(pair("b", str("c")))),
				domain.ListOf(), domain.ListOf(str("d"), str("e"))))),
			want: `{"a":["x",{"b":"c"},[],["d","e"]]}`,
		},
		{
			name: "zero value is the empty string",
			rec:  rec(pair("a", domain.Value{})),
			want: `{"a":""}`,
		},
		{
			name: "empty and nil records",
			rec:  rec(),
			want: `{}`,
		},
		{
			name: "nil record",
			rec:  nil,
			want: `{}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, string(dictcodec.Append(nil, tt.rec)))
		})
	}
}

func TestAppendKeepsWhatDstHolds(t *testing.T) {
	dst := []byte("prefix")
	got := dictcodec.Append(dst, rec(pair("a", str("b"))))
	assert.Equal(t, `prefix{"a":"b"}`, string(got))
}

func TestAppendDoesNotAllocateWithRoom(t *testing.T) {
	r := relayed()
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		buf = dictcodec.Append(buf[:0], r)
	})
	assert.Zero(t, allocs)
}

func TestCodecIsThePackageFunctions(t *testing.T) {
	var c ports.Codec = dictcodec.New()
	r := rec(pair("a", domain.ListOf(str(`"`))))
	enc := c.AppendRecord([]byte("x"), r)
	require.Equal(t, `x{"a":["\""]}`, string(enc))

	got, err := c.DecodeRecord(enc[1:])
	require.NoError(t, err)
	assert.Equal(t, *r, got)

	_, err = c.DecodeRecord([]byte("{}"))
	assert.ErrorIs(t, err, dictcodec.ErrSyntax)
}

// relayed is the record the server sends most: time, nickname and a
// 64-byte text.
func relayed() *domain.Record {
	return rec(pair("time", str(stamp)), pair("nickname", str("Ivan")),
		pair("text", str("The quick brown fox jumps over the lazy dog, then naps at noon!!")))
}
