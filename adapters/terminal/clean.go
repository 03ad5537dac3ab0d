package terminal

import (
	"strings"
	"unicode"

	"pcx/internal/ansi"
)

// clean makes a text a peer sent harmless to print: escape sequences are
// removed, so nobody can clear the screen, move the cursor or retitle the
// window of another; so are control characters other than line breaks and
// tabs, and the bidirectional controls that reorder what is shown. Invalid
// UTF-8 becomes U+FFFD.
func clean(s string) string {
	s = ansi.Strip(strings.ToValidUTF8(s, "\uFFFD"))
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

// isInvisible reports format characters (bidirectional controls, zero-width
// spaces and joiners) and other default-ignorable ones: a nickname that
// holds one is shown quoted, so that it cannot pass for another.
func isInvisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Bidi_Control, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}
