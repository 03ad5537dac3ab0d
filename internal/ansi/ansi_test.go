package ansi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"pcx/internal/ansi"
)

func TestStrip(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain text is kept", "hello, мир", "hello, мир"},
		{"a colour", "\x1b[31mred\x1b[0m", "red"},
		{"clear screen and home", "\x1b[2J\x1b[Hx", "x"},
		{"a C1 CSI", "a\u009b31mb", "ab"},
		{"a window title (OSC ended by BEL)", "\x1b]0;pwned\ax", "x"},
		{"an OSC ended by ESC backslash", "\x1b]8;;http://e\x1b\\link", "link"},
		{"a two-byte escape", "a\x1bcb", "ab"},
		{"an unfinished sequence goes to the end", "ok\x1b[31", "ok"},
		{"a lone ESC at the end", "ok\x1b", "ok"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ansi.Strip(tc.in))
		})
	}
}
