package domain

import "errors"

// Rule errors are sentences for people: their Error() text is exactly what
// the server sends after "error: " (PROTOCOL.md sections 3 and 5), so unlike
// other errors in pcx they carry no package prefix. Each one unwraps to the
// family it belongs to, so a caller can branch on the family
// (errors.Is(err, ErrInvalidNickname)) or on the exact rule.

// Families of rule errors.
var (
	// ErrInvalidNickname is the family of every nickname rule of section 4.
	ErrInvalidNickname = errors.New("invalid nickname")
	// ErrInvalidAttachmentName is the family of every attachment name rule
	// of section 6.
	ErrInvalidAttachmentName = errors.New("invalid attachment name")
	// ErrInvalidMessage is the family of the rules on a message's fields
	// other than its attachment name.
	ErrInvalidMessage = errors.New("invalid message")
	// ErrRecordRefused is the family of refusals of a record as a whole:
	// one that cannot be parsed, or that the server failed to keep.
	ErrRecordRefused = errors.New("record refused")
)

// ruleError is a sentinel whose text is a reply sentence and which belongs to
// a family.
type ruleError struct {
	text   string
	family error
}

func (e *ruleError) Error() string { return e.text }
func (e *ruleError) Unwrap() error { return e.family }

func newRule(family error, text string) error {
	return &ruleError{text: text, family: family}
}
