package ports

import (
	"context"
	"io"
	"time"
)

//go:generate go tool mockgen -typed -destination=mocks/ui.go -package=mocks pcx/ports UI

// Prompt names the question a UI asks when it reads a line; the UI decides
// how it reads (a scripted UI asks nothing, it reads the next line).
type Prompt uint8

const (
	// PromptText asks for the next message's text.
	PromptText Prompt = iota
	// PromptAttachment asks for the path of a file to attach to the text
	// just read, or an empty line for none.
	PromptAttachment
	// PromptNickname asks for another nickname after the server refused one.
	PromptNickname
)

// EventKind says what an Event reports.
type EventKind uint8

const (
	// EventMessage is a message from another user.
	EventMessage EventKind = iota
	// EventNotice is a notice from the server (nickname SERVER).
	EventNotice
	// EventInfo is the client's own remark to its user: a file that could
	// not be attached, a login that succeeded.
	EventInfo
	// EventError is something that went wrong and that the user must see,
	// such as a refused nickname.
	EventError
	// EventLoggedIn says the server took the nickname in Nickname: the UI
	// may mark the messages that mention it.
	EventLoggedIn
	// EventWho is the server's list of who is online (PROTOCOL.md section
	// 7): Users in login order, Text as the server wrote it.
	EventWho
	// EventLost says the connection to the server is lost, Text why.
	// Retry is how long the client waits before it dials again, zero when
	// it gives up (then the caller of the client has the last word).
	EventLost
	// EventSent says a file went out: Attachment is its name, Size its
	// length.
	EventSent
)

// Event is one thing to show the user. Message and notice events carry the
// fields of the relayed record; info and error events only Text.
type Event struct {
	Kind EventKind
	// Time is when the server read the message, zero when it is unknown.
	Time time.Time
	// Nickname is the sender as the server relayed it; not sanitised.
	Nickname string
	// Text is the message or the remark; not sanitised, so the UI must make
	// it harmless to display (a peer may send escape sequences).
	Text string
	// Attachment is the file name a message came with, as sent, or "";
	// for an error event, the path of a file that could not be attached.
	// For EventSent, the name of the file sent.
	Attachment string
	// SavedAs is the name the attachment was saved under, "" when it was
	// not saved; then SaveError says why.
	SavedAs   string
	SaveError string
	// Size is the length of the attachment in bytes.
	Size int64
	// Users lists who is online, for EventWho.
	Users []string
	// Retry is the wait before the next attempt, for EventLost.
	Retry time.Duration
}

// Direction says which way a tracked transfer goes.
type Direction uint8

const (
	// Sending is a file going to the server.
	Sending Direction = iota
	// Receiving is a file arriving from the server.
	Receiving
)

// UI is the person at the keyboard: the client reads what they type and
// shows them what happens through it. Show and Track may be called from
// another goroutine than ReadLine.
type UI interface {
	// ReadLine asks prompt and returns the next line, without its line
	// ending. It returns io.EOF when input ends (Ctrl-D or Ctrl-C in a
	// terminal) and ctx's error as soon as ctx is done.
	ReadLine(ctx context.Context, prompt Prompt) (string, error)
	// Show displays one event at once, without disturbing a line being
	// typed.
	Show(e Event)
	// Track returns r wrapped so that reading it shows the progress of a
	// transfer of size bytes of the file name, or r itself when the UI
	// shows no progress for it. done ends the display; call it once.
	Track(name string, size int64, dir Direction, r io.Reader) (tracked io.Reader, done func())
	// Interactive reports whether a person answers the prompts, so that a
	// refused nickname can be asked for again instead of ending the client.
	Interactive() bool
}
