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
// in the download folder and to show on a terminal. It promises, whatever
// it is given (FuzzCleanName checks every promise):
//
//   - the result is valid UTF-8, 1 to maxStemBytes bytes long;
//   - it has no `/` and no `\`: it is the last path element only;
//   - it has no ANSI escape sequence, no control character and no format,
//     bidirectional or other invisible (default-ignorable) character, so
//     nothing can disguise an extension or redraw a terminal;
//   - it never starts with a dot, with whitespace (Unicode White_Space,
//     U+00A0 and U+3000 included) or with an invisible character, and never
//     ends with whitespace: no received file is hidden (PROTOCOL.md
//     section 6), not even ". .gitconfig", U+00A0 ".profile" or
//     U+3000 ".npmrc".
//
// Each step may expose what an earlier one already passed (trimming spaces
// uncovers a dot, removing a dot uncovers a space), so the steps run again
// until the name no longer changes. Nothing left gives "attachment".
func CleanName(name string) string {
	s := name
	for {
		next := cleanOnce(s)
		if next == s {
			break
		}
		s = next
	}
	if s == "" {
		return fallbackName
	}
	return s
}

// cleanOnce applies every step of CleanName once.
func cleanOnce(s string) string {
	s = ansi.Strip(strings.ToValidUTF8(s, ""))
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if isInvisible(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimLeftFunc(s, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	return shorten(s)
}

// isInvisible reports control, format (which holds the bidirectional
// controls) and other default-ignorable characters: they show nothing, or
// change how the rest is shown.
func isInvisible(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, invisible...)
}

var invisible = []*unicode.RangeTable{
	unicode.Cf, unicode.Bidi_Control, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector,
}

// shorten cuts an overlong name to maxStemBytes, keeping a short extension
// and whole runes.
func shorten(s string) string {
	if len(s) <= maxStemBytes {
		return s
	}
	ext := filepath.Ext(s)
	if len(ext) > 16 || !utf8.ValidString(ext) {
		ext = ""
	}
	stem := s[:maxStemBytes-len(ext)]
	for !utf8.ValidString(stem) {
		stem = stem[:len(stem)-1]
	}
	return stem + ext
}
