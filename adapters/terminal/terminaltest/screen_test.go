package terminaltest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"pcx/adapters/terminal/terminaltest"
)

func TestScreen(t *testing.T) {
	cases := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"lines", []string{"ab\r\ncd"}, []string{"ab", "cd"}},
		{"overwrite after CR", []string{"hello\rj"}, []string{"jello"}},
		{"erase to the end", []string{"hello\r\x1b[2C\x1b[K"}, []string{"he"}},
		{"erase the line", []string{"hello\x1b[2K"}, []string{}},
		{"erase below", []string{"one\r\ntwo\r\nthree\x1b[A\x1b[A\r\x1b[2C\x1b[J"}, []string{"on"}},
		{"up and over", []string{"one\r\ntwo\x1b[A\rX"}, []string{"Xne", "two"}},
		{"colour ignored", []string{"\x1b[31mred\x1b[0m"}, []string{"red"}},
		{"wrap is deferred", []string{"abcde", "\r\nf"}, []string{"abcde", "f"}},
		{"wrap on the next rune", []string{"abcdefg"}, []string{"abcde", "fg"}},
		{"sequence split across writes", []string{"a\x1b[", "31mb"}, []string{"ab"}},
		{"rune split across writes", []string{"\xd0", "\xb6"}, []string{"ж"}},
		{"wide characters take two columns", []string{"日本\rX"}, []string{"X 本"}},
		{"overwriting the right half erases the left", []string{"日本\r\x1b[CX"}, []string{" X本"}},
		{"a wide character that does not fit wraps", []string{"abcd日"}, []string{"abcd", "日"}},
		{"erasing half a wide character erases it", []string{"a日\r\x1b[2C\x1b[K"}, []string{"a"}},
		{"a combining mark joins its letter", []string{"e\u0301x"}, []string{"e\u0301x"}},
		{"a ZWJ sequence is one wide cell", []string{"👨\u200d👩\u200d👧|"}, []string{"👨\u200d👩\u200d👧|"}},
		{"a flag is one wide cell", []string{"🇫🇷|\r\x1b[2CX"}, []string{"🇫🇷X"}},
		{"cursor saved and restored", []string{"ab\x1b7cd\x1b8X"}, []string{"abXd"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := terminaltest.NewScreen(5)
			for _, w := range tc.writes {
				s.Write([]byte(w))
			}
			assert.Equal(t, tc.want, s.Lines())
		})
	}
}

func TestScreenCursorMovesByColumns(t *testing.T) {
	s := terminaltest.NewScreen(10)
	s.Write([]byte("日本e\u0301"))
	_, col := s.Cursor()
	assert.Equal(t, 5, col)
}

func TestScreenReflowsOnResize(t *testing.T) {
	s := terminaltest.NewScreen(10)
	s.Write([]byte("above\r\nabcdefghijklmn\r\x1b[2C"))
	s.Resize(4, true)
	assert.Equal(t, []string{"abov", "e", "abcd", "efgh", "ijkl", "mn"}, s.Lines())
	row, col := s.Cursor()
	assert.Equal(t, []int{5, 0}, []int{row, col}, "the cursor stays on m")

	s.Resize(20, true)
	assert.Equal(t, []string{"above", "abcdefghijklmn"}, s.Lines(), "widening joins what wrapped")
	row, col = s.Cursor()
	assert.Equal(t, []int{1, 12}, []int{row, col})
}

func TestScreenReflowPushesAWideCharacterThatDoesNotFit(t *testing.T) {
	s := terminaltest.NewScreen(10)
	s.Write([]byte("ab日本語"))
	s.Resize(5, true)
	assert.Equal(t, []string{"ab日", "本語"}, s.Lines())
	row, col := s.Cursor()
	assert.Equal(t, []int{1, 4}, []int{row, col})
}

func TestScreenCutsOnResizeWithoutReflow(t *testing.T) {
	s := terminaltest.NewScreen(10)
	s.Write([]byte("abcdefgh"))
	s.Resize(4, false)
	assert.Equal(t, []string{"abcd"}, s.Lines())
	row, col := s.Cursor()
	assert.Equal(t, []int{0, 3}, []int{row, col})
}

func TestScreenBracketedPasteMode(t *testing.T) {
	s := terminaltest.NewScreen(10)
	assert.False(t, s.BracketedPaste())
	s.Write([]byte("\x1b[?2004h"))
	assert.True(t, s.BracketedPaste())
	s.Write([]byte("\x1b[?2004l"))
	assert.False(t, s.BracketedPaste())
}
