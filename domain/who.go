package domain

import (
	"fmt"
	"strings"
	"time"
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
	// "command" at all; ParseChatMessage decides what it is.
	NoCommand Command = iota
	// Who asks for the list of who is online.
	Who
)

// ParseCommand reads the command of a record a logged-in client sent. A
// record with "text" is a message whatever else it holds, so it gives
// NoCommand, as does one without "command"; a "command" other than "who"
// gives ErrUnknownCommand.
func ParseCommand(r *Record) (Command, error) {
	if r.Has(KeyText) {
		return NoCommand, nil
	}
	v, ok := r.Get(KeyCommand)
	if !ok {
		return NoCommand, nil
	}
	if s, ok := v.String(); ok && s == CommandWho {
		return Who, nil
	}
	return NoCommand, ErrUnknownCommand
}

// BuildWho fills r with a client's request for the list of who is online.
func BuildWho(r *Record) {
	r.Reset()
	r.Append(KeyCommand, Str(CommandWho))
}

// WhoText is the text of the answer to "who": "Online (3): Ivan, Maria, Olga".
func WhoText(users []string) string {
	return fmt.Sprintf("Online (%d): %s", len(users), strings.Join(users, ", "))
}

// BuildWhoReply fills r with the server's answer to "who": a notice whose
// text lists users for people and whose "users" lists them for programs,
// in login order.
func BuildWhoReply(r *Record, at time.Time, users []string) {
	BuildNotice(r, at, WhoText(users))
	items := make([]Value, len(users))
	for i, u := range users {
		items[i] = Str(u)
	}
	r.Append(KeyUsers, ListOf(items...))
}

// ParseWhoReply reads the list of a notice that answers "who". ok is false
// when r has no "users" list of strings: then it is an ordinary message.
func ParseWhoReply(r *Record) (users []string, ok bool) {
	v, found := r.Get(KeyUsers)
	if !found {
		return nil, false
	}
	items, isList := v.List()
	if !isList {
		return nil, false
	}
	users = make([]string, 0, len(items))
	for _, it := range items {
		s, isStr := it.String()
		if !isStr {
			return nil, false
		}
		users = append(users, s)
	}
	return users, true
}
