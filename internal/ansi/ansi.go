// Package ansi removes terminal escape sequences from text that came from
// another user, so that it can be shown or used as a name without clearing
// a screen, moving a cursor or retitling a window. The terminal and the
// download folder adapters share it.
package ansi

import (
	"strings"
	"unicode/utf8"
)

// Strip removes ANSI escape sequences: CSI (ESC [ or U+009B, up to a
// final byte @ to ~), OSC and the other string sequences (ESC ] P X ^ _ up
// to BEL or ESC \), and two-byte escapes. An unfinished sequence is removed
// to the end.
func Strip(s string) string {
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
