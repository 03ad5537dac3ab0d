package domain

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// Record keys of the conversation (PROTOCOL.md section 3).
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

// ParseLogin reads a login record: its "nickname" must be present, a
// string, and a valid nickname. Other keys are ignored.
func ParseLogin(r *Record) (Nickname, error) {
	v, ok := r.Get(KeyNickname)
	if !ok {
		return Nickname{}, ErrNicknameRequired
	}
	s, ok := v.String()
	if !ok {
		return Nickname{}, ErrNicknameNotString
	}
	return ParseNickname(s)
}

// HasAttachmentKey reports whether a payload frame follows r: whenever r has
// an "attachment" key, whatever its value. A caller needs it to keep the
// stream in step even when ParseChatMessage refuses r.
func HasAttachmentKey(r *Record) bool { return r.Has(KeyAttachment) }

// ParseChatMessage reads a message record and returns the first rule it
// breaks. Unknown keys are ignored.
func ParseChatMessage(r *Record) (ChatMessage, error) {
	text, err := messageText(r)
	if err != nil {
		return ChatMessage{}, err
	}
	v, ok := r.Get(KeyAttachment)
	if !ok {
		return ChatMessage{Text: text}, nil
	}
	name, ok := v.String()
	if !ok {
		return ChatMessage{}, ErrAttachmentNameNotString
	}
	if err := ValidateAttachmentName(name); err != nil {
		return ChatMessage{}, err
	}
	return ChatMessage{Text: text, Attachment: name, HasAttachment: true}, nil
}

func messageText(r *Record) (string, error) {
	v, ok := r.Get(KeyText)
	if !ok {
		return "", ErrTextRequired
	}
	text, ok := v.String()
	switch {
	case !ok:
		return "", ErrTextNotString
	case !utf8.ValidString(text):
		return "", ErrTextNotUTF8
	}
	return text, nil
}

// BuildRelay fills r with a relayed message, keys in the order time,
// nickname, text, attachment. r is reset first, so a caller can reuse one.
func BuildRelay(r *Record, at time.Time, nick, text, attachment string, hasAttachment bool) {
	r.Reset()
	r.Append(KeyTime, Str(FormatTime(at)))
	r.Append(KeyNickname, Str(nick))
	r.Append(KeyText, Str(text))
	if hasAttachment {
		r.Append(KeyAttachment, Str(attachment))
	}
}

// BuildNotice fills r with a notice from the server.
func BuildNotice(r *Record, at time.Time, text string) {
	BuildRelay(r, at, ServerName, text, "", false)
}

// BuildStatus fills r with the reply to a login: success when err is nil,
// else "error: " and err's sentence.
func BuildStatus(r *Record, err error) {
	r.Reset()
	if err == nil {
		r.Append(KeyStatus, Str(StatusSuccess))
		return
	}
	r.Append(KeyStatus, Str(ErrorText(err)))
}

// BuildLogin fills r with a client's login record.
func BuildLogin(r *Record, nick string) {
	r.Reset()
	r.Append(KeyNickname, Str(nick))
}

// BuildChat fills r with a client's message record, keys in the order text,
// attachment.
func BuildChat(r *Record, text, attachment string, hasAttachment bool) {
	r.Reset()
	r.Append(KeyText, Str(text))
	if hasAttachment {
		r.Append(KeyAttachment, Str(attachment))
	}
}

// JoinText is the notice text announcing that nick logged in.
func JoinText(nick string) string { return `User "` + nick + `" connected` }

// LeaveText is the notice text announcing that nick's session ended.
func LeaveText(nick string) string { return `User "` + nick + `" disconnected` }

// ErrorText is the text of a refusal: "error: " and err's sentence.
func ErrorText(err error) string { return ErrorPrefix + err.Error() }

// ParseRelay reads a message relayed by a server. Nickname and text must be
// strings and an attachment, if any, a string; otherwise the error is
// ErrRelayMalformed. A missing or unreadable time is tolerated and leaves
// Time zero: the message is still worth showing, and servers other than ours
// write times their own way. The attachment name is returned as sent, not
// validated: a client must reduce it to a base name and check it with
// ValidateAttachmentName before it saves anything. Whether a payload frame
// follows is HasAttachmentKey's answer, even when ParseRelay fails.
func ParseRelay(r *Record) (Relay, error) {
	nick, okNick := r.GetString(KeyNickname)
	text, okText := r.GetString(KeyText)
	if !okNick || !okText {
		return Relay{}, ErrRelayMalformed
	}
	rel := Relay{Nickname: nick, Text: text}
	if s, ok := r.GetString(KeyTime); ok {
		rel.Time, _ = ParseTime(s) // tolerated, see above
	}
	if v, ok := r.Get(KeyAttachment); ok {
		name, ok := v.String()
		if !ok {
			return Relay{}, ErrRelayMalformed
		}
		rel.Attachment, rel.HasAttachment = name, true
	}
	return rel, nil
}

// ParseStatus reads the server's reply to a login: ok when it is success,
// else the reason after "error:". A status that is missing, not a string,
// or neither gives an error.
func ParseStatus(r *Record) (ok bool, reason string, err error) {
	s, found := r.GetString(KeyStatus)
	if !found {
		return false, "", ErrStatusMissing
	}
	if s == StatusSuccess {
		return true, "", nil
	}
	if rest, cut := strings.CutPrefix(s, "error:"); cut {
		return false, strings.TrimPrefix(rest, " "), nil
	}
	return false, "", ErrStatusUnknown
}
