package terminal

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadKey(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []key
	}{
		{"text at once", "héllo 日本", []key{{keyText, "héllo 日本"}}},
		{"invalid UTF-8", "a\xffb", []key{{keyText, "a\uFFFDb"}}},
		{"C1 controls are not kept", "a\u009bb", []key{{keyText, "ab"}}},
		{"controls", "\x01\x05\x15\x0b\x17\x7f\x08\r\n\t\x03\x04\x0c\x10\x0e", []key{
			{code: keyHome}, {code: keyEnd}, {code: keyKillLeft}, {code: keyKillRight}, {code: keyKillWordLeft},
			{code: keyBackspace}, {code: keyBackspace}, {code: keyEnter}, {code: keyEnter}, {code: keyTab},
			{code: keyInterrupt}, {code: keyEOF}, {code: keyRedraw}, {code: keyUp}, {code: keyDown}}},
		{"CSI keys", "\x1b[A\x1b[B\x1b[C\x1b[D\x1b[H\x1b[F\x1b[3~\x1b[1;5C\x1b[1;5D", []key{
			{code: keyUp}, {code: keyDown}, {code: keyRight}, {code: keyLeft}, {code: keyHome}, {code: keyEnd},
			{code: keyDelete}, {code: keyWordRight}, {code: keyWordLeft}}},
		{"Home and End as tmux and rxvt send them", "\x1b[1~\x1b[4~\x1b[7~\x1b[8~", []key{
			{code: keyHome}, {code: keyEnd}, {code: keyHome}, {code: keyEnd}}},
		{"SS3 keys", "\x1bOA\x1bOB\x1bOC\x1bOD\x1bOH\x1bOF", []key{
			{code: keyUp}, {code: keyDown}, {code: keyRight}, {code: keyLeft}, {code: keyHome}, {code: keyEnd}}},
		{"Alt keys", "\x1bb\x1bf\x1bd\x1b\x7f\x1b\r", []key{
			{code: keyWordLeft}, {code: keyWordRight}, {code: keyKillWordRight}, {code: keyKillWordLeft}, {code: keyNewline}}},
		{"unknown sequences are one key", "\x1b[15~\x1b[200;5u\x1b[Zx", []key{{code: keyNone}, {code: keyNone}, {code: keyNone}, {keyText, "x"}}},
		{"a sequence cut by a control key", "\x1b[1\r", []key{{code: keyNone}, {code: keyEnter}}},
		{"a too long sequence", "\x1b[" + strings.Repeat("1", 40) + "A", []key{{code: keyNone}, {keyText, strings.Repeat("1", 23) + "A"}}},
		{"a lone escape before a key", "\x1bx", []key{{code: keyNone}, {keyText, "x"}}},
		{"a paste", "\x1b[200~one\r\ntwo\rthree\nfour\x1b[201~x", []key{{keyPaste, "one\ntwo\nthree\nfour"}, {keyText, "x"}}},
		{"a paste with a tilde and sequences", "\x1b[200~~a~\x1b[31mb\x1b[0m\x07c\x1b[201~", []key{{keyPaste, "~a~bc"}}},
		{"a stray paste end", "\x1b[201~", []key{{code: keyNone}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, readAll(t, bufio.NewReader(strings.NewReader(tc.in))))
			// One byte at a time, as a slow terminal may send them: the
			// same keys, text aside (it comes a character at a time).
			oneByOne := readAll(t, bufio.NewReaderSize(&byteReader{s: tc.in}, 16))
			assert.Equal(t, joinText(tc.want), joinText(oneByOne))
		})
	}
}

func readAll(t *testing.T, r *bufio.Reader) []key {
	var keys []key
	for {
		k, err := readKey(r)
		if err == io.EOF {
			return keys
		}
		require.NoError(t, err)
		keys = append(keys, k)
	}
}

// joinText merges text keys that follow each other.
func joinText(keys []key) []key {
	var out []key
	for _, k := range keys {
		if k.code == keyText && len(out) > 0 && out[len(out)-1].code == keyText {
			out[len(out)-1].text += k.text
			continue
		}
		out = append(out, k)
	}
	return out
}

// byteReader gives one byte a read.
type byteReader struct{ s string }

func (r *byteReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	p[0] = r.s[0]
	r.s = r.s[1:]
	return 1, nil
}
