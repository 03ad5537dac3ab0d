package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxAttachmentNameBytes is the longest attachment name, in bytes.
const MaxAttachmentNameBytes = 255

// Attachment name rule errors (PROTOCOL.md section 6).
var (
	ErrAttachmentNameEmpty     = newRule(ErrInvalidAttachmentName, "attachment name is empty")
	ErrAttachmentNameNotString = newRule(ErrInvalidAttachmentName, "attachment name must be a string")
	ErrAttachmentNameTooLong   = newRule(ErrInvalidAttachmentName, "attachment name is longer than 255 bytes")
	ErrAttachmentNameNotUTF8   = newRule(ErrInvalidAttachmentName, "attachment name is not valid UTF-8")
	ErrAttachmentNameSlash     = newRule(ErrInvalidAttachmentName, "attachment name must not contain /")
	ErrAttachmentNameBackslash = newRule(ErrInvalidAttachmentName, `attachment name must not contain \`)
	ErrAttachmentNameControl   = newRule(ErrInvalidAttachmentName, "attachment name must not contain control characters")
	ErrAttachmentNameDots      = newRule(ErrInvalidAttachmentName, "attachment name must not be . or ..")
)

// ValidateAttachmentName checks that name is a file name and not a path, and
// returns the first rule it breaks as one of the ErrAttachmentName...
// sentinels.
func ValidateAttachmentName(name string) error {
	switch {
	case name == "":
		return ErrAttachmentNameEmpty
	case len(name) > MaxAttachmentNameBytes:
		return ErrAttachmentNameTooLong
	case !utf8.ValidString(name):
		return ErrAttachmentNameNotUTF8
	case strings.IndexByte(name, '/') >= 0:
		return ErrAttachmentNameSlash
	case strings.IndexByte(name, '\\') >= 0:
		return ErrAttachmentNameBackslash
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return ErrAttachmentNameControl
	case name == "." || name == "..":
		return ErrAttachmentNameDots
	}
	return nil
}
