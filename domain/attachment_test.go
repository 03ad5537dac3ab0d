package domain_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/domain"
)

func TestValidateAttachmentNameAccepts(t *testing.T) {
	for _, tt := range []struct{ name, input string }{
		{"plain", "1.jpg"},
		{"no extension", "README"},
		{"dot file", ".bashrc"},
		{"three dots", "..."},
		{"dots around", "..x.."},
		{"spaces inside", "my photo (1).jpg"},
		{"cyrillic", "фото.png"},
		{"emoji", "😀.gif"},
		{"quote", `say "hi".txt`},
		{"255 bytes", strings.Repeat("a", 255)},
		{"255 bytes of multibyte", strings.Repeat("я", 127) + "a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.NoError(t, domain.ValidateAttachmentName(tt.input))
		})
	}
}

func TestValidateAttachmentNameRefuses(t *testing.T) {
	for _, tt := range []struct {
		name, input string
		want        error
		text        string
	}{
		{"empty", "", domain.ErrAttachmentNameEmpty, "attachment name is empty"},
		{"256 bytes", strings.Repeat("a", 256), domain.ErrAttachmentNameTooLong, "attachment name is longer than 255 bytes"},
		{"256 bytes of multibyte, 128 runes", strings.Repeat("я", 128), domain.ErrAttachmentNameTooLong, "attachment name is longer than 255 bytes"},
		{"invalid utf-8", "a\xffb", domain.ErrAttachmentNameNotUTF8, "attachment name is not valid UTF-8"},
		{"parent path", "../../x", domain.ErrAttachmentNameSlash, "attachment name must not contain /"},
		{"sub directory", "a/b", domain.ErrAttachmentNameSlash, "attachment name must not contain /"},
		{"absolute path", "/etc/passwd", domain.ErrAttachmentNameSlash, "attachment name must not contain /"},
		{"trailing slash", "dir/", domain.ErrAttachmentNameSlash, "attachment name must not contain /"},
		{"windows path", `..\x`, domain.ErrAttachmentNameBackslash, `attachment name must not contain \`},
		{"nul", "a\x00b", domain.ErrAttachmentNameControl, "attachment name must not contain control characters"},
		{"newline", "a\nb", domain.ErrAttachmentNameControl, "attachment name must not contain control characters"},
		{"escape", "\x1b[31mred", domain.ErrAttachmentNameControl, "attachment name must not contain control characters"},
		{"delete", "a\x7f", domain.ErrAttachmentNameControl, "attachment name must not contain control characters"},
		{"c1 control", "a\u0085b", domain.ErrAttachmentNameControl, "attachment name must not contain control characters"},
		{"dot", ".", domain.ErrAttachmentNameDots, "attachment name must not be . or .."},
		{"dot dot", "..", domain.ErrAttachmentNameDots, "attachment name must not be . or .."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := domain.ValidateAttachmentName(tt.input)
			require.ErrorIs(t, err, tt.want)
			assert.ErrorIs(t, err, domain.ErrInvalidAttachmentName)
			assert.EqualError(t, err, tt.text)
		})
	}
}
