package domain_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/domain"
)

func TestParseNicknameAccepts(t *testing.T) {
	tests := []struct {
		name, input, key string
	}{
		{"ascii", "Ivan", "ivan"},
		{"lower case stays", "ivan", "ivan"},
		{"ascii punctuation", "a.b_c-d!", "a.b_c-d!"},
		{"one character", "x", "x"},
		{"cyrillic folds case", "Иван", "иван"},
		{"greek final sigma", "ΣΑΣ", "σασ"},
		{"full width folds to ascii", "Ｉｖａｎ", "ivan"},
		{"32 ascii runes", strings.Repeat("a", 32), strings.Repeat("a", 32)},
		{"32 two-byte runes", strings.Repeat("я", 32), strings.Repeat("я", 32)},
		{"32 three-byte runes", strings.Repeat("語", 32), strings.Repeat("語", 32)},
		{"server as a part", "SERVERS", "servers"},
		{"emoji, outside PRECIS, folds all the same", "Ivan😀", "ivan😀"},
		{"a symbol", "☃", "☃"},
		{"full width symbol name folds", "Ｉ♥Ｇｏ", "i♥go"},
		{"roman numeral folds case", "Ⅻ", "ⅻ"},
		{"mixed bidi", "١٢a", "١٢a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := domain.ParseNickname(tt.input)
			require.NoError(t, err)
			assert.Equal(t, tt.input, n.String(), "shown as typed")
			assert.Equal(t, tt.key, n.Key())
			assert.False(t, n.IsZero())
		})
	}
}

func TestParseNicknameRefuses(t *testing.T) {
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
		{"zero-width space", "Iv\u200ban", domain.ErrNicknameNotPrintable, "nickname must be printable"},
		{"zero-width joiner", "Iv\u200dan", domain.ErrNicknameNotPrintable, "nickname must be printable"},
		{"soft hyphen", "Iv\u00adan", domain.ErrNicknameNotPrintable, "nickname must be printable"},
		{"right-to-left mark", "Iv\u200fan", domain.ErrNicknameNotPrintable, "nickname must be printable"},
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
		domain.ErrNicknameQuote, domain.ErrNicknameControl, domain.ErrNicknameNotPrintable,
		domain.ErrNicknameTaken,
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
