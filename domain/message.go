package domain

import "errors"

// Record keys of the conversation (PROTOCOL.md section 3): the top-level
// keys a codec reads and writes (records.go).
const (
	KeyNickname   = "nickname"
	KeyStatus     = "status"
	KeyText       = "text"
	KeyAttachment = "attachment"
	KeyTime       = "time"
)

// Status values and the prefix of a refusal.
const (
	StatusSuccess = "success"
	ErrorPrefix   = "error: "
)

// ShutdownText is the notice everyone gets when the server shuts down.
const ShutdownText = "Server is shutting down"

// Message rule errors (PROTOCOL.md sections 3 and 5).
var (
	ErrTextRequired  = newRule(ErrInvalidMessage, "text is required")
	ErrTextNotString = newRule(ErrInvalidMessage, "text must be a string")
	ErrTextNotUTF8   = newRule(ErrInvalidMessage, "text is not valid UTF-8")
)

// Errors of records a client reads from a server.
var (
	// ErrStatusMissing means a status reply has no string "status".
	ErrStatusMissing = errors.New("domain: status reply has no status")
	// ErrStatusUnknown means a status is neither success nor an error.
	ErrStatusUnknown = errors.New("domain: status is neither success nor error")
	// ErrRelayMalformed means a relayed message lacks a string nickname or
	// text, or has an attachment that is not a string.
	ErrRelayMalformed = errors.New("domain: malformed relayed message")
)

// JoinText is the notice text announcing that nick logged in.
func JoinText(nick string) string { return `User "` + nick + `" connected` }

// LeaveText is the notice text announcing that nick's session ended.
func LeaveText(nick string) string { return `User "` + nick + `" disconnected` }

// ErrorText is the text of a refusal: "error: " and err's sentence.
func ErrorText(err error) string { return ErrorPrefix + err.Error() }
