package domain

import (
	"strings"
	"unicode"

	"go.mau.fi/util/confusable"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// Look-alike nicknames (PROTOCOL.md section 4). The prototypes come from
// Unicode's confusables.txt (mappings of type MA) as go.mau.fi/util/confusable
// ships them: version v0.11.0, pinned in go.mod, carries the data of Unicode
// 17.0.0 (TestConfusablesDataVersion names it, so an upgrade is noticed).

// brailleBlank looks like a space but is a symbol, not white space and not
// Default_Ignorable, so it is named on its own.
const brailleBlank = '\u2800'

// maxKeyRounds bounds lookalikeKey's search for a fixed point. A fold can
// turn a prototype into a character with a prototype of its own (ǆ maps to
// "dž", whose caron maps to a breve); over every code point one more
// round settles it, and FuzzLookalikeKey checks strings of them.
const maxKeyRounds = 4

// lookalikeKey is what nicknames are compared by: the TR39 skeleton of the
// PRECIS fold, folded again because prototypes are often upper case (0 maps
// to O), and repeated until it no longer changes so that the key of a key
// is itself. Folding comes first as PROTOCOL.md section 4 says, so the key
// is the same for every case and width of a name; what folding hides of
// the capitals is shapeKey's part.
func lookalikeKey(s string) string {
	key := fold(s)
	for range maxKeyRounds {
		next := fold(skeleton(key))
		if next == key {
			break
		}
		key = next
	}
	return key
}

// shapeKey is what nicknames are compared by besides lookalikeKey: the
// skeleton of the name as it is shown (TR39 maps capitals to capitals),
// then keyed like any name. Folding first loses what capitals look like:
// the Greek capital Epsilon of SΕRVΕR folds to ε, whose prototype is not
// e, so SΕRVΕR's key is not the server's, but its shape is. Widths are
// folded first as the fold would, since confusables.txt maps only some
// full-width letters. The price: a capital I and a small l look alike
// (Ivan and lvan share a shape), and comparing by both keys is not
// transitive (ALI shares a shape with all, and a key with Ali, which does
// not look like all); the registry checks both, which needs none.
func shapeKey(s string) string {
	return lookalikeKey(skeleton(width.Fold.String(s)))
}

// skeleton is the skeleton of Unicode TR39 section 4: NFD, each code point
// replaced by its prototype, NFD again. It is for comparing only; it is
// no spelling to show anyone (Мария's is ʍapᴎᴙ). Default_Ignorable code
// points never reach it: nicknames refuse them.
func skeleton(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if prototype := confusable.GetReplacement(r); prototype != "" {
			b.WriteString(prototype)
		} else {
			b.WriteRune(r)
		}
	}
	return norm.NFD.String(b.String())
}

// isInvisible reports whether r is one of the characters that section 4
// forbids as invisible: Default_Ignorable_Code_Point, or the braille blank.
func isInvisible(r rune) bool {
	return r == brailleBlank || isDefaultIgnorable(r)
}

// isDefaultIgnorable is the derived property Default_Ignorable_Code_Point,
// computed from the standard library's tables by the definition in
// DerivedCoreProperties.txt: Other_Default_Ignorable_Code_Point, Cf and
// Variation_Selector, less White_Space, the interlinear annotation
// characters FFF9..FFFB, the Egyptian hieroglyph format controls
// 13430..1343F and Prepended_Concatenation_Mark (format characters that
// should be seen). Go's unicode package has the parts but not the whole.
func isDefaultIgnorable(r rune) bool {
	switch {
	case 0xFFF9 <= r && r <= 0xFFFB, 0x13430 <= r && r <= 0x1343F,
		unicode.Is(unicode.White_Space, r), unicode.Is(unicode.Prepended_Concatenation_Mark, r):
		return false
	}
	return unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector)
}
