package domain

import (
	"fmt"
	"strings"
)

// Keys and values of the "who is online" extension (PROTOCOL.md section 7).
const (
	KeyCommand = "command"
	KeyUsers   = "users"
	CommandWho = "who"
)

// ErrUnknownCommand refuses a record whose "command" this server does not
// know (and that has no "text", which would make it a message).
var ErrUnknownCommand = newRule(ErrInvalidMessage, "unknown command")

// Command is what a record without text asks of the server.
type Command uint8

const (
	// NoCommand: the record is a message (it has "text") or has no
	// "command" at all; InboundRecord.Request decides what it is.
	NoCommand Command = iota
	// Who asks for the list of who is online.
	Who
)

// WhoText is the text of the answer to "who": "Online (3): Ivan, Maria, Olga".
func WhoText(users []string) string {
	return fmt.Sprintf("Online (%d): %s", len(users), strings.Join(users, ", "))
}
