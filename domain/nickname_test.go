package domain_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/domain"
)

func TestParseNicknameAccepts(t *testing.T) {
	// sameAs is a spelling that must share the input's key; keys are
	// skeletons, not spellings (TestNicknameKeys shows some).
	tests := []struct {
		name, input, sameAs string
	}{
		{"ascii", "Ivan", "ivan"},
		{"lower case stays", "ivan", "ivan"},
		{"ascii punctuation", "a.b_c-d!", "a.b_c-d!"},
		{"one character", "x", "x"},
		{"digits", "user42", "USER42"},
		{"cyrillic folds case", "Иван", "иван"},
		{"cyrillic name", "Мария", "мария"},
		{"chinese name", "李雷", "李雷"},
		{"greek final sigma", "ΣΑΣ", "σασ"},
		{"full width folds to ascii", "Ｉｖａｎ", "ivan"},
		{"32 ascii runes", strings.Repeat("a", 32), strings.Repeat("A", 32)},
		{"32 two-byte runes", strings.Repeat("я", 32), strings.Repeat("Я", 32)},
		{"32 three-byte runes", strings.Repeat("語", 32), strings.Repeat("語", 32)},
		{"server as a part", "SERVERS", "servers"},
		{"emoji, outside PRECIS, folds all the same", "Ivan😀", "ivan😀"},
		{"a symbol", "☃", "☃"},
		{"full width symbol name folds", "Ｉ♥Ｇｏ", "i♥go"},
		{"roman numeral folds case", "Ⅻ", "ⅻ"},
		{"mixed bidi", "١٢a", "١٢A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := domain.ParseNickname(tt.input)
			require.NoError(t, err)
			assert.Equal(t, tt.input, n.String(), "shown as typed")
			assert.Equal(t, mustParse(t, tt.sameAs).Key(), n.Key())
			assert.False(t, n.IsZero())
		})
	}
}

func mustParse(t *testing.T, s string) domain.Nickname {
	t.Helper()
	n, err := domain.ParseNickname(s)
	require.NoError(t, err)
	return n
}

// The key is the TR39 skeleton of the PRECIS fold, folded again: case,
// width and look-alike letters all give way. The skeletons of non-Latin
// names are not readable and are not meant to be.
func TestNicknameKeys(t *testing.T) {
	tests := []struct {
		name, input, key string
	}{
		{"server", "SERVER", "server"},
		{"server in lower case", "server", "server"},
		{"server in full width", "Ｓｅｒｖｅｒ", "server"},
		{"server with Cyrillic Dze and Ie", "ЅЕRVЕR", "server"},
		{"server in mathematical bold", "𝐒𝐄𝐑𝐕𝐄𝐑", "server"},
		{"ivan", "Ivan", "ivan"},
		{"ivan with Greek capital Iota", "Ιvan", "ivan"},
		{"ivan with Roman numeral one", "Ⅰvan", "ivan"},
		{"m is r and n (TR39 says so; intended)", "Emma", "ernrna"},
		{"zero is o", "b0b", "bob"},
		{"one is l", "user1", "userl"},
		{"paypal in mixed alphabets", "𝔭𝒶ỿ𝕡𝕒ℓ", "paypal"},
		{"digits that are not look-alikes stay", "user42", "user42"},
		{"chinese stays", "李雷", "李雷"},
		{"cyrillic has a skeleton of its own", "Мария", "ʍapᴎᴙ"},
		{"a fold that makes a new look-alike settles", "ǅ", "dz̆"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.key, mustParse(t, tt.input).Key())
		})
	}
}

// The shape is the skeleton before folding: it sees the capitals that
// folding would turn into letters that do not look Latin.
func TestNicknameShapes(t *testing.T) {
	tests := []struct {
		name, a, b string
		same       bool
	}{
		{"Greek capital Epsilon", "SERVER", "SΕRVΕR", true},
		{"Cherokee", "SERVER", "ᏚᎬᎡᏙᎬᎡ", true},
		{"Armenian Seh", "SERVER", "ՏERVER", true},
		{"Greek capitals", "IVAN", "ΙVΑΝ", true},
		{"Cyrillic capitals", "BOB", "ВОВ", true},
		{"case still folds", "Ivan", "IVAN", true},
		{"width still folds", "Ivan", "ＩＶＡＮ", true},
		{"capital I and small l look alike", "Ivan", "lvan", true},
		{"Cyrillic is not Latin", "Ivan", "Иван", false},
		{"digits", "user42", "user43", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mustParse(t, tt.a), mustParse(t, tt.b)
			if tt.same {
				assert.Equal(t, a.Shape(), b.Shape())
			} else {
				assert.NotEqual(t, a.Shape(), b.Shape())
			}
		})
	}
	assert.NotEqual(t, mustParse(t, "SΕRVΕR").Key(), mustParse(t, "SERVER").Key(),
		"the key alone misses it: Ε folds to ε, whose prototype is not e")
}

// What the key keeps apart. Folding comes before the skeleton, as
// PROTOCOL.md section 4 says, so capital I and small l, which TR39 maps
// alike only in their upper and lower case forms, are different names.
func TestNicknameKeysKeepDistinctNamesApart(t *testing.T) {
	pairs := [][2]string{
		{"Ivan", "Иван"},
		{"Ivan", "lvan"},
		{"Мария", "Maria"},
		{"user42", "user43"},
		{"rn", "rnn"},
		{"Ivan", "Ivan😀"},
	}
	for _, p := range pairs {
		t.Run(p[0]+" "+p[1], func(t *testing.T) {
			assert.NotEqual(t, mustParse(t, p[0]).Key(), mustParse(t, p[1]).Key())
		})
	}
}

func TestParseNicknameRefuses(t *testing.T) {
	const invisible = "nickname must not contain invisible characters"
	tests := []struct {
		name, input string
		want        error
		text        string
	}{
		{"empty", "", domain.ErrNicknameRequired, "nickname is required"},
		{"33 ascii runes", strings.Repeat("a", 33), domain.ErrNicknameTooLong, "nickname is longer than 32 characters"},
		{"33 two-byte runes", strings.Repeat("я", 33), domain.ErrNicknameTooLong, "nickname is longer than 32 characters"},
		{"33 four-byte runes", strings.Repeat("😀", 33), domain.ErrNicknameTooLong, "nickname is longer than 32 characters"},
		{"invalid utf-8", "Iv\xffan", domain.ErrNicknameNotUTF8, "nickname is not valid UTF-8"},
		{"truncated multibyte", "Iv\xd0", domain.ErrNicknameNotUTF8, "nickname is not valid UTF-8"},
		{"space", "Ivan Petrov", domain.ErrNicknameWhitespace, "nickname must not contain whitespace"},
		{"leading space", " Ivan", domain.ErrNicknameWhitespace, "nickname must not contain whitespace"},
		{"tab counts as whitespace", "Iv\tan", domain.ErrNicknameWhitespace, "nickname must not contain whitespace"},
		{"newline", "Ivan\n", domain.ErrNicknameWhitespace, "nickname must not contain whitespace"},
		{"no-break space", "Iv\u00a0an", domain.ErrNicknameWhitespace, "nickname must not contain whitespace"},
		{"ideographic space", "Iv\u3000an", domain.ErrNicknameWhitespace, "nickname must not contain whitespace"},
		{"backslash", `Iv\an`, domain.ErrNicknameBackslash, `nickname must not contain \`},
		{"quote", `Iv"an`, domain.ErrNicknameQuote, `nickname must not contain "`},
		{"nul", "Iv\x00an", domain.ErrNicknameControl, "nickname must not contain control characters"},
		{"escape", "Iv\x1ban", domain.ErrNicknameControl, "nickname must not contain control characters"},
		{"delete", "Iv\x7fan", domain.ErrNicknameControl, "nickname must not contain control characters"},
		{"c1 control", "Iv\u0090an", domain.ErrNicknameControl, "nickname must not contain control characters"},
		{"zero-width space", "Iv\u200ban", domain.ErrNicknameInvisible, invisible},
		{"zero-width joiner", "Iv\u200dan", domain.ErrNicknameInvisible, invisible},
		{"soft hyphen", "Iv\u00adan", domain.ErrNicknameInvisible, invisible},
		{"right-to-left mark", "Iv\u200fan", domain.ErrNicknameInvisible, invisible},
		{"word joiner", "Iv\u2060an", domain.ErrNicknameInvisible, invisible},
		{"byte order mark", "\ufeffIvan", domain.ErrNicknameInvisible, invisible},
		{"server and combining grapheme joiner", "SERVER\u034f", domain.ErrNicknameInvisible, invisible},
		{"server and variation selector 16", "SERVER\ufe0f", domain.ErrNicknameInvisible, invisible},
		{"server and mongolian variation selector", "SERVER\u180b", domain.ErrNicknameInvisible, invisible},
		{"server and khmer inherent vowel", "SERVER\u17b4", domain.ErrNicknameInvisible, invisible},
		{"server and hangul filler", "SERVER\u3164", domain.ErrNicknameInvisible, invisible},
		{"server and braille blank", "SERVER\u2800", domain.ErrNicknameInvisible, invisible},
		{"only a hangul filler", "\u3164", domain.ErrNicknameInvisible, invisible},
		{"only a braille blank", "\u2800", domain.ErrNicknameInvisible, invisible},
		{"halfwidth hangul filler", "Iv\uffa0an", domain.ErrNicknameInvisible, invisible},
		{"mongolian vowel separator", "Iv\u180ean", domain.ErrNicknameInvisible, invisible},
		{"musical beam", "Iv\U0001d173an", domain.ErrNicknameInvisible, invisible},
		{"tag letter", "Ivan\U000e0041", domain.ErrNicknameInvisible, invisible},
		{"variation selector 17", "Ivan\U000e0100", domain.ErrNicknameInvisible, invisible},
		{"unassigned", "Iv\u0378an", domain.ErrNicknameNotPrintable, "nickname must be printable"},
		{"private use", "Iv\ue000an", domain.ErrNicknameNotPrintable, "nickname must be printable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := domain.ParseNickname(tt.input)
			require.ErrorIs(t, err, tt.want)
			assert.ErrorIs(t, err, domain.ErrInvalidNickname)
			assert.EqualError(t, err, tt.text)
			assert.True(t, n.IsZero())
		})
	}
}

func TestNicknameErrorsAreDistinct(t *testing.T) {
	all := []error{
		domain.ErrNicknameRequired, domain.ErrNicknameNotString, domain.ErrNicknameTooLong,
		domain.ErrNicknameNotUTF8, domain.ErrNicknameWhitespace, domain.ErrNicknameBackslash,
		domain.ErrNicknameQuote, domain.ErrNicknameControl, domain.ErrNicknameInvisible,
		domain.ErrNicknameNotPrintable, domain.ErrNicknameTaken,
	}
	seen := map[string]bool{}
	for _, err := range all {
		assert.False(t, seen[err.Error()], "duplicate sentence %q", err)
		seen[err.Error()] = true
	}
	assert.NotErrorIs(t, domain.ErrNicknameTaken, domain.ErrInvalidNickname,
		"taken is about the registry, not the name")
	assert.EqualError(t, domain.ErrNicknameTaken, "this nickname is already taken")
}
