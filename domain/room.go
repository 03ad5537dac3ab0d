package domain

import "errors"

// ErrRoomUnreachable is the family of refusals of a server that shares its
// room with other servers (PROTOCOL.md section 9) and cannot reach them
// now: it refuses what it could not deliver to the whole room rather than
// deliver it to part of it.
var ErrRoomUnreachable = errors.New("room unreachable")

// Refusals while the other servers of the room are out of reach, the
// sentences the server sends after "error: ".
var (
	// ErrRoomLoginDown refuses a login: the nickname cannot be checked
	// against the other servers' users.
	ErrRoomLoginDown = newRule(ErrRoomUnreachable, "the other servers of this room are out of reach; try again in a moment")
	// ErrRoomMessageDown refuses a message, which reaches no one.
	ErrRoomMessageDown = newRule(ErrRoomUnreachable, "the other servers of this room are out of reach; this message reached no one")
	// ErrNicknameLost ends the session of a user whose nickname another
	// server's user took while this server was cut off from the room.
	ErrNicknameLost = newRule(ErrRoomUnreachable, "your nickname was taken on another server while this server was out of reach; log in again")
)

// Notices to every user of a server that loses, and then finds again, the
// other servers of its room.
const (
	RoomLostText = "The other servers of this room are out of reach: messages are refused and users there may seem to stay until they are back"
	RoomBackText = "The other servers of this room are back in reach"
)

// RoomFileLostText is the notice to every user of a server that could not
// bring over from another server of the room the file of nick's message:
// the message, which may not go without its file, is dropped.
func RoomFileLostText(nick string) string {
	return `A message of user "` + nick + `" with a file could not be brought over from another server of this room; it is lost`
}
