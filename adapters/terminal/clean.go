package terminal

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean makes a text a peer sent harmless to print: escape sequences are
// removed, so nobody can clear the screen, move the cursor or retitle the
// window of another; so are control characters other than line breaks and
// tabs, and the bidirectional controls that reorder what is shown. Invalid
// UTF-8 becomes U+FFFD.
func clean(s string) string {
	s = stripEscapes(strings.ToValidUTF8(s, "\uFFFD"))
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), isBidiControl(r):
			return -1
		}
		return r
	}, s)
}

func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// stripEscapes removes ANSI escape sequences: CSI (ESC [ or U+009B, up to a
// final byte @ to ~), OSC and the other string sequences (ESC ] P X ^ _ up
// to BEL or ESC \), and two-byte escapes. An unfinished sequence is removed
// to the end.
func stripEscapes(s string) string {
	if !strings.ContainsAny(s, "\x1b\u009b\u009d") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\x1b' && i+1 < len(s) && s[i+1] == '[':
			i = skipCSI(s, i+2)
		case r == '\u009b':
			i = skipCSI(s, i+size)
		case r == '\x1b' && i+1 < len(s) && strings.IndexByte("]PX^_", s[i+1]) >= 0:
			i = skipString(s, i+2)
		case r == '\u009d':
			i = skipString(s, i+size)
		case r == '\x1b':
			i += min(2, len(s)-i)
		default:
			b.WriteString(s[i : i+size])
			i += size
		}
	}
	return b.String()
}

// skipCSI returns the index after the final byte of a control sequence
// whose parameters start at i.
func skipCSI(s string, i int) int {
	for ; i < len(s); i++ {
		if s[i] >= 0x40 && s[i] <= 0x7e {
			return i + 1
		}
	}
	return len(s)
}

// skipString returns the index after the terminator (BEL or ESC \) of a
// string sequence whose body starts at i.
func skipString(s string, i int) int {
	for ; i < len(s); i++ {
		switch {
		case s[i] == '\a':
			return i + 1
		case s[i] == '\x1b' && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		}
	}
	return len(s)
}
