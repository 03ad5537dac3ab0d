package domain_test

import (
	"fmt"
	"os"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/domain"
)

// defaultIgnorable is Default_Ignorable_Code_Point as DerivedCoreProperties.txt
// of Unicode 15.0.0 lists it (4,174 code points), the version of Go's
// unicode tables that isInvisible derives it from.
var defaultIgnorable = [][2]rune{
	{0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x061C, 0x061C}, {0x115F, 0x1160},
	{0x17B4, 0x17B5}, {0x180B, 0x180F}, {0x200B, 0x200F}, {0x202A, 0x202E},
	{0x2060, 0x206F}, {0x3164, 0x3164}, {0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF},
	{0xFFA0, 0xFFA0}, {0xFFF0, 0xFFF8}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
	{0xE0000, 0xE0FFF},
}

// Invisible means Default_Ignorable_Code_Point or the braille blank, and
// nothing else, over every code point.
func TestInvisibleIsDefaultIgnorableAndBrailleBlank(t *testing.T) {
	require.Equal(t, "15.0.0", unicode.Version,
		"Go's Unicode tables changed: check defaultIgnorable against DerivedCoreProperties.txt of this version")
	want := map[rune]bool{0x2800: true}
	for _, rg := range defaultIgnorable {
		for r := rg[0]; r <= rg[1]; r++ {
			want[r] = true
		}
	}
	require.Len(t, want, 4174+1)
	var wrong []string
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if domain.IsInvisible(r) != want[r] {
			wrong = append(wrong, fmt.Sprintf("%U", r))
		}
	}
	assert.Empty(t, wrong)
}

// The prototypes are those of one Unicode version: go.mau.fi/util v0.11.0
// generated its table from confusables.txt of Unicode 17.0.0 (its
// unicodeurls.UnicodeVersion). Named here so that an upgrade that changes
// them is a decision, not an accident.
func TestConfusablesDataVersion(t *testing.T) {
	gomod, err := os.ReadFile("../go.mod")
	require.NoError(t, err)
	assert.Contains(t, string(gomod), "\tgo.mau.fi/util v0.11.0\n",
		"check the Unicode version of its confusables and update lookalike.go")
}

// Every form of SERVER the issue names shares the server's key.
func TestServerLookalikesShareItsKey(t *testing.T) {
	server := mustParse(t, domain.ServerName).Key()
	for _, s := range []string{"server", "Server", "Ｓｅｒｖｅｒ", "ＳＥＲＶＥＲ", "ЅЕRVЕR", "𝐒𝐄𝐑𝐕𝐄𝐑", "𝘚𝘌𝘙𝘝𝘌𝘙", "ꓢꓰꓣꓦꓰꓣ"} {
		assert.Equal(t, server, mustParse(t, s).Key(), "%q", s)
	}
}

func FuzzLookalikeKey(f *testing.F) {
	for _, s := range []string{"SERVER", "ЅЕRVЕR", "𝐒𝐄𝐑𝐕𝐄𝐑", "Ｓｅｒｖｅｒ", "Ιvan", "Emma", "ǅ", "Ҋ", "ᑎ", "﷽", "%", "Ⅻ", "ß", "İ", "ﬃ", "e\u0301\u0302", "\xff", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key := domain.LookalikeKey(s)
		if utf8.ValidString(s) && !utf8.ValidString(key) {
			t.Fatalf("%q: key %q is not valid UTF-8", s, key)
		}
		if s != "" && key == "" {
			t.Fatalf("%q: empty key", s)
		}
		// The key is its own key: keys compare the same however often
		// they are derived (a cluster stores them).
		if again := domain.LookalikeKey(key); again != key {
			t.Fatalf("%q: key %q has the key %q", s, key, again)
		}
	})
}
