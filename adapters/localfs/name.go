package localfs

import (
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"pcx/internal/ansi"
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
	s := ansi.Strip(strings.ToValidUTF8(name, ""))
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
