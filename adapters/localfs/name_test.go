package localfs_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

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

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"photo.jpg", "../../x", "\x1b[31mred", ".", "\u009b2J", "a\xffb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := localfs.CleanName(s)
		assert.NotEmpty(t, got)
		assert.True(t, utf8.ValidString(got))
		assert.LessOrEqual(t, len(got), 255)
		assert.NotContains(t, got, "/")
		assert.NotContains(t, got, `\`)
		assert.NotContains(t, got, "\x1b")
		assert.False(t, strings.HasPrefix(got, "."))
	})
}
