package domain

import (
	"strings"
	"time"
	"unicode/utf8"
)

// The records of the conversation as a codec hands them over. A codec maps
// bytes to these types at the edge (ARCHITECTURE.md, "Map at the edge"): it
// checks the whole grammar of PROTOCOL.md section 2, keeps only the
// top-level keys a record of that kind is read for, and skips everything
// else without building it. The rules of the conversation (sections 3 to 7)
// are the methods here, so that a record a rule refuses is still known to
// have a payload frame behind it (PayloadFollows).

// RawKind says what a record holds under one key.
type RawKind uint8

const (
	// RawMissing means the record has no such key.
	RawMissing RawKind = iota
	// RawString means the value is a string, of any bytes: no rule has
	// looked at it yet.
	RawString
	// RawNested means the value is a list or an object.
	RawNested
)

// Raw is the value under one key that a rule reads, before the rule has
// judged it. The zero Raw is a missing key.
type Raw struct {
	Str  string // the string, when Kind is RawString
	Kind RawKind
}

// RawOf returns a string value, as a codec hands it over.
func RawOf(s string) Raw { return Raw{Str: s, Kind: RawString} }

// RawList is a list or an object under a key, as a codec hands it over.
var RawList = Raw{Kind: RawNested}

// Present reports whether the record has the key, whatever its value.
func (r Raw) Present() bool { return r.Kind != RawMissing }

// LoginRecord is a login record (section 3, step 1) as read.
type LoginRecord struct {
	Nickname Raw
	// Attachment matters only by its presence: a login has no business
	// with a file, but a payload frame follows all the same.
	Attachment Raw
}

// PayloadFollows reports whether a payload frame follows the record.
func (l *LoginRecord) PayloadFollows() bool { return l.Attachment.Present() }

// Nick applies the login rules: "nickname" must be present, a string and
// a valid nickname. Other keys are ignored.
func (l *LoginRecord) Nick() (Nickname, error) {
	switch l.Nickname.Kind {
	case RawMissing:
		return Nickname{}, ErrNicknameRequired
	case RawNested:
		return Nickname{}, ErrNicknameNotString
	}
	return ParseNickname(l.Nickname.Str)
}

// InboundRecord is a record a logged-in client sent (sections 3 and 7) as
// read.
type InboundRecord struct {
	Text       Raw
	Attachment Raw // present: a payload frame follows, valid or not
	Command    Raw
}

// PayloadFollows reports whether a payload frame follows the record: it
// does whenever the record has "attachment", whatever its value and
// whatever rule the record breaks.
func (in *InboundRecord) PayloadFollows() bool { return in.Attachment.Present() }

// ChatMessage is what a logged-in client sends.
type ChatMessage struct {
	Text string // valid UTF-8, possibly empty
	// Attachment is the payload's file name, valid per
	// ValidateAttachmentName, when HasAttachment.
	Attachment    string
	HasAttachment bool
}

// Request is what a logged-in client asks of the server: a message to
// relay or, when Command is not NoCommand, a command (section 7).
type Request struct {
	Command Command
	Message ChatMessage
}

// Request applies the rules of sections 3 and 7 and returns the first one
// the record breaks. A record with "text" is a message, whatever its
// "command"; one without "text" but with "command" is a command, and only
// "who" is known; one with neither breaks ErrTextRequired. Unknown keys are
// ignored.
func (in *InboundRecord) Request() (Request, error) {
	if !in.Text.Present() && in.Command.Present() {
		if in.Command.Kind == RawString && in.Command.Str == CommandWho {
			return Request{Command: Who}, nil
		}
		return Request{}, ErrUnknownCommand
	}
	msg, err := in.message()
	if err != nil {
		return Request{}, err
	}
	return Request{Message: msg}, nil
}

func (in *InboundRecord) message() (ChatMessage, error) {
	switch {
	case in.Text.Kind == RawMissing:
		return ChatMessage{}, ErrTextRequired
	case in.Text.Kind == RawNested:
		return ChatMessage{}, ErrTextNotString
	case !utf8.ValidString(in.Text.Str):
		return ChatMessage{}, ErrTextNotUTF8
	}
	msg := ChatMessage{Text: in.Text.Str}
	switch in.Attachment.Kind {
	case RawMissing:
		return msg, nil
	case RawNested:
		return ChatMessage{}, ErrAttachmentNameNotString
	}
	if err := ValidateAttachmentName(in.Attachment.Str); err != nil {
		return ChatMessage{}, err
	}
	msg.Attachment, msg.HasAttachment = in.Attachment.Str, true
	return msg, nil
}

// StatusRecord is the server's reply to a login (section 3, step 2) as
// read. A client waiting for it may meet other records first (the
// reference server relays messages before login): they have no status.
type StatusRecord struct {
	Status     Raw
	Attachment Raw // present: a payload frame follows
}

// PayloadFollows reports whether a payload frame follows the record.
func (s *StatusRecord) PayloadFollows() bool { return s.Attachment.Present() }

// Result reads the reply: ok when it is success, else the reason after
// "error:". A status that is missing, not a string, or neither gives
// ErrStatusMissing or ErrStatusUnknown.
func (s *StatusRecord) Result() (ok bool, reason string, err error) {
	if s.Status.Kind != RawString {
		return false, "", ErrStatusMissing
	}
	if s.Status.Str == StatusSuccess {
		return true, "", nil
	}
	if rest, cut := strings.CutPrefix(s.Status.Str, "error:"); cut {
		return false, strings.TrimPrefix(rest, " "), nil
	}
	return false, "", ErrStatusUnknown
}

// RelayRecord is a record a server sends after login (sections 3, 5 and
// 7) as read: a relayed message, a notice, or the answer to "who".
type RelayRecord struct {
	Time, Nickname, Text Raw
	Attachment           Raw // present: a payload frame follows, valid or not
	// Users is the "users" list of an answer to "who" when HasUsers. Any
	// other value under "users" than a list of strings leaves HasUsers
	// false: the record is then an ordinary message.
	Users    []string
	HasUsers bool
}

// PayloadFollows reports whether a payload frame follows the record,
// even when Relay refuses it.
func (r *RelayRecord) PayloadFollows() bool { return r.Attachment.Present() }

// Relay reads a message relayed by a server. Nickname and text must be
// strings and an attachment, if any, a string; otherwise the error is
// ErrRelayMalformed. A missing or unreadable time is tolerated and leaves
// Time zero: the message is still worth showing, and servers other than
// ours write times their own way. The attachment name is returned as sent,
// not validated: a client must reduce it to a base name and check it with
// ValidateAttachmentName before it saves anything.
func (r *RelayRecord) Relay() (Relay, error) {
	if r.Nickname.Kind != RawString || r.Text.Kind != RawString || r.Attachment.Kind == RawNested {
		return Relay{}, ErrRelayMalformed
	}
	rel := Relay{
		Nickname:      r.Nickname.Str,
		Text:          r.Text.Str,
		Attachment:    r.Attachment.Str,
		HasAttachment: r.Attachment.Present(),
		Users:         r.Users,
		HasUsers:      r.HasUsers,
	}
	if r.Time.Kind == RawString {
		rel.Time, _ = ParseTime(r.Time.Str) // tolerated, see above
	}
	return rel, nil
}

// Relay is a message as a server sends it and a client receives it: a
// relayed message, a notice from ServerName, or the answer to "who".
type Relay struct {
	// Time is when the server read the message, in UTC; on a client, zero
	// when the server sent no time or one that cannot be read.
	Time          time.Time
	Nickname      string
	Text          string
	Attachment    string // on a client, the name as sent; see RelayRecord.Relay
	HasAttachment bool
	// Users lists who is online, in login order, when HasUsers (section 7).
	Users    []string
	HasUsers bool
}

// Relayed is msg from nick as the server relays it, stamped at.
func Relayed(at time.Time, nick string, msg ChatMessage) Relay {
	return Relay{Time: at, Nickname: nick, Text: msg.Text, Attachment: msg.Attachment, HasAttachment: msg.HasAttachment}
}

// Notice is a notice from the server.
func Notice(at time.Time, text string) Relay {
	return Relay{Time: at, Nickname: ServerName, Text: text}
}

// WhoAnswer is the server's answer to "who": a notice whose text lists
// users for people and whose "users" lists them for programs, in login
// order.
func WhoAnswer(at time.Time, users []string) Relay {
	rel := Notice(at, WhoText(users))
	rel.Users, rel.HasUsers = users, true
	return rel
}

// StatusText is the status of the reply to a login: success when err is
// nil, else "error: " and err's sentence.
func StatusText(err error) string {
	if err == nil {
		return StatusSuccess
	}
	return ErrorText(err)
}
