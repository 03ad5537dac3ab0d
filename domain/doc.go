// Package domain holds the rules of the conversation, free of I/O: what
// makes a nickname or an attachment name valid, which nicknames are taken,
// what a login, a message, a command, a status reply, a relayed message
// and a notice hold and when each is refused, and how times are written
// (PROTOCOL.md sections 3 to 7). It never sees the bytes of a record: a
// codec maps them to the typed records of records.go, whose methods are
// the rules.
//
// It imports only the standard library and golang.org/x/text, starts no
// goroutines and touches no files or sockets. Registry is its only type with
// shared state; it guards it with a mutex.
//
// Rule errors (ErrNickname..., ErrAttachmentName..., ErrText...) are the
// sentences the server sends after "error: ", so they carry no package
// prefix; each unwraps to its family (ErrInvalidNickname,
// ErrInvalidAttachmentName, ErrInvalidMessage).
package domain
