// Package domain holds the rules of the conversation, free of I/O: the
// ordered Record every frame carries, what makes a nickname or an attachment
// name valid, which nicknames are taken, how messages, notices and status
// replies are built and read, and how times are written (PROTOCOL.md
// sections 2 to 6).
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
