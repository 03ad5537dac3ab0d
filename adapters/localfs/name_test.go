package localfs_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/localfs"
)

func TestCleanName(t *testing.T) {
	cases := []struct {
		name, given, want string
	}{
		{"plain name stays", "photo.jpg", "photo.jpg"},
		{"unicode stays", "фото 1.jpg", "фото 1.jpg"},
		{"parent path is dropped", "../../x", "x"},
		{"absolute path is dropped", "/etc/passwd", "passwd"},
		{"windows path is dropped", `..\..\boot.ini`, "boot.ini"},
		{"colour escape is stripped", "\x1b[31mred", "red"},
		{"escape with parameters is stripped", "a\x1b[1;31;40mb\x1b[0m", "ab"},
		{"title escape is stripped", "\x1b]0;pwned\x07name.txt", "name.txt"},
		{"title escape ended by ST is stripped", "\x1b]0;pwned\x1b\\name.txt", "name.txt"},
		{"8-bit CSI is stripped", "\u009b2Jclear.txt", "clear.txt"},
		{"lone escape is stripped", "\x1bcreset", "reset"},
		{"unfinished escape is stripped", "name\x1b[31", "name"},
		{"control characters are stripped", "a\tb\nc\rd\x00e\x7f", "abcde"},
		{"bidi override is stripped", "evil\u202egpj.exe", "evilgpj.exe"},
		{"invalid UTF-8 is stripped", "a\xffb", "ab"},
		{"leading dots are stripped", ".bashrc", "bashrc"},
		{"dot", ".", "attachment"},
		{"dot dot", "..", "attachment"},
		{"empty", "", "attachment"},
		{"only spaces", "   ", "attachment"},
		{"only an escape", "\x1b[31m", "attachment"},
		{"slash only", "/", "attachment"},
		{"escape hiding a path", "\x1b[31m../../x", "x"},
		{"dot space dot", ". .gitconfig", "gitconfig"},
		{"the fuzzer's crasher", ". .0", "0"},
		{"no-break space before a dot", "\u00a0.profile", "profile"},
		{"ideographic space before a dot", "\u3000.npmrc", "npmrc"},
		{"zero-width space before a dot", "\u200b.bashrc", "bashrc"},
		{"hangul filler before a dot", "\u3164.ssh", "ssh"},
		{"line separator between dots", ". \u2028. .x", "x"},
		{"escape between dots", ".\x1b[0m.x", "x"},
		{"trailing spaces go", "a.txt \u00a0", "a.txt"},
		{"only dots and spaces", ". . .", "attachment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, localfs.CleanName(tc.given))
		})
	}
}

func TestCleanNameShortensLongNamesKeepingTheExtension(t *testing.T) {
	got := localfs.CleanName(strings.Repeat("ж", 200) + ".jpg")

	assert.LessOrEqual(t, len(got), 200)
	assert.True(t, strings.HasSuffix(got, ".jpg"))
	assert.True(t, utf8.ValidString(got))
}

// FuzzCleanName checks every promise of CleanName on any input; the seed
// corpus in testdata/fuzz/FuzzCleanName keeps the inputs that once broke
// one (". .0" gave the hidden ".0").
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{
		"photo.jpg", "../../x", "\x1b[31mred", ".", "\u009b2J", "a\xffb",
		". .gitconfig", "\u00a0.profile", "\u3000.npmrc", "\u200b.bashrc", "\u3164.x",
		" . . .\u2028.ssh", strings.Repeat("a", 300) + ". .x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkCleanNamePromises(t, s, localfs.CleanName(s))
	})
}

func checkCleanNamePromises(t *testing.T, given, got string) {
	t.Helper()
	require.NotEmpty(t, got, "given %q", given)
	require.True(t, utf8.ValidString(got), "invalid UTF-8 %q from %q", got, given)
	require.LessOrEqual(t, len(got), 255, "too long from %q", given)
	require.NotContains(t, got, "/", "from %q", given)
	require.NotContains(t, got, `\`, "from %q", given)
	first, _ := utf8.DecodeRuneInString(got)
	last, _ := utf8.DecodeLastRuneInString(got)
	require.NotEqual(t, '.', first, "hidden file %q from %q", got, given)
	require.False(t, unicode.IsSpace(first), "leading space in %q from %q", got, given)
	require.False(t, unicode.IsSpace(last), "trailing space in %q from %q", got, given)
	for _, r := range got {
		require.False(t, unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Bidi_Control, r) ||
			unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r),
			"invisible %U in %q from %q", r, got, given)
	}
	require.Equal(t, got, localfs.CleanName(got), "not a fixpoint: %q from %q", got, given)
}
