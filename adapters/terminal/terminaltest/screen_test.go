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
		{"up and over", []string{"one\r\ntwo\x1b[A\rX"}, []string{"Xne", "two"}},
		{"colour ignored", []string{"\x1b[31mred\x1b[0m"}, []string{"red"}},
		{"wrap is deferred", []string{"abcde", "\r\nf"}, []string{"abcde", "f"}},
		{"wrap on the next rune", []string{"abcdefg"}, []string{"abcde", "fg"}},
		{"sequence split across writes", []string{"a\x1b[", "31mb"}, []string{"ab"}},
		{"rune split across writes", []string{"\xd0", "\xb6"}, []string{"ж"}},
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
