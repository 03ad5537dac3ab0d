package localfs

import (
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// fallbackName is the name of a file whose given name has nothing left
// once it is made harmless (".", "..", only escapes).
const fallbackName = "attachment"

// maxStemBytes leaves room, within the 255 bytes most file systems allow,
// for the " (9999)" of a clash and the ".123456789.part" of the temporary.
const maxStemBytes = 200

// CleanName reduces a file name a peer sent to one that is safe to create
// in the download folder and to show on a terminal: the last path element
// only, without ANSI escape sequences, control or invisible format
// characters (such as bidirectional overrides that disguise an extension),
// invalid UTF-8, surrounding spaces or leading dots (no hidden files, no
// "." or ".."). Nothing left gives "attachment".
func CleanName(name string) string {
	s := stripEscapes(strings.ToValidUTF8(name, ""))
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimLeft(strings.TrimSpace(s), ".")
	s = strings.TrimSpace(s)
	if s == "" {
		return fallbackName
	}
	return shorten(s)
}

// shorten cuts an overlong name to maxStemBytes, keeping a short extension
// and whole runes.
func shorten(s string) string {
	if len(s) <= maxStemBytes {
		return s
	}
	ext := filepath.Ext(s)
	if len(ext) > 16 {
		ext = ""
	}
	stem := s[:maxStemBytes-len(ext)]
	for !utf8.ValidString(stem) {
		stem = stem[:len(stem)-1]
	}
	return stem + ext
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
