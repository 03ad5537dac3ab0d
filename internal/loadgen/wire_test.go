package loadgen

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitRelay(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		nick, text string
		ok         bool
	}{
		{name: "canonical message", body: `{"time":"2021-09-27 12:34:56.789000+00:00","nickname":"lg-ab-1","text":"hello"}`, nick: "lg-ab-1", text: "hello", ok: true},
		{name: "empty text", body: `{"time":"t","nickname":"n","text":""}`, nick: "n", text: "", ok: true},
		{name: "notice keeps its escapes", body: `{"time":"t","nickname":"SERVER","text":"User \"x\" connected"}`, nick: "SERVER", text: `User \"x\" connected`, ok: true},
		{name: "whitespace is left to the codec", body: `{"time": "t","nickname":"n","text":"x"}`},
		{name: "attachment is left to the codec", body: `{"time":"t","nickname":"n","text":"x","attachment":"a.bin"}`},
		{name: "escaped backslash before a closing quote", body: `{"time":"t","nickname":"n","text":"a\\","attachment":"b"}`},
		{name: "escaped quote then backslash", body: `{"time":"t","nickname":"n","text":"\"\\"}`, nick: "n", text: `\"\\`, ok: true},
		{name: "keys in another order", body: `{"nickname":"n","time":"t","text":"x"}`},
		{name: "status reply", body: `{"status":"success"}`},
		{name: "cut short", body: `{"time":"t","nickname":"n`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nick, text, ok := splitRelay([]byte(tt.body))
			require.Equal(t, tt.ok, ok)
			if ok {
				assert.Equal(t, tt.nick, string(nick))
				assert.Equal(t, tt.text, string(text))
			}
		})
	}
}

func TestCheckShape(t *testing.T) {
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{name: "well formed", body: `{"time":"2021-09-27 12:34:56.789000+00:00","nickname":"n","text":"x"}`, ok: true},
		{name: "time without microseconds", body: `{"time":"2021-09-27 12:34:56+00:00","nickname":"n","text":"x"}`},
		{name: "not a record", body: `{"time":"2021-09-27 12:34:56.789000+00:00","nickname":"n","text":"x"`},
		{name: "extra key", body: `{"time":"2021-09-27 12:34:56.789000+00:00","nickname":"n","text":"x","z":"1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkShape([]byte(tt.body), []byte("n"), []byte("x"))
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}
