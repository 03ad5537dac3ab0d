package domain

import (
	"errors"
	"fmt"
)

// HardMaxRecord is the longest record frame anyone skips over: a longer
// one cannot be a record any peer means, so it ends the connection
// (PROTOCOL.md section 5). It bounds what a reader of records (the server,
// the client, the load tool) allocates for one.
const HardMaxRecord = 1 << 20

// MaxFrame is the longest frame body a 4-byte length can announce
// (PROTOCOL.md section 1), and so the largest attachment there can be.
const MaxFrame = 1<<32 - 1

// ErrOverLimit is the family of the refusals of PROTOCOL.md section 5: the
// server turns away what would take more than one connection's share.
var ErrOverLimit = errors.New("over a server limit")

// Refusals of a connection over a connection limit; the server sends one
// as a status reply and closes the connection.
var (
	ErrTooManyFromAddress = newRule(ErrOverLimit, "too many connections from your address")
	ErrTooManyOnServer    = newRule(ErrOverLimit, "too many connections on this server")
)

// Refusals of a record that leave the connection open, and the end of a
// login that took too long (PROTOCOL.md sections 3 and 5): the sentences
// the server sends after "error: ".
var (
	ErrMalformedRecord  = newRule(ErrRecordRefused, "malformed record")
	ErrNotStored        = newRule(ErrRecordRefused, "the server could not store this attachment")
	ErrAttachmentTooBig = newRule(ErrOverLimit, "attachment is over the size limit")
	ErrNoRoom           = newRule(ErrOverLimit, "the server has no room for this attachment now")
	ErrLoginTimeout     = newRule(ErrOverLimit, "login timed out")
)

// RecordTooLong is the refusal of a record longer than the record limit.
func RecordTooLong(limit int) error {
	return newRule(ErrOverLimit, fmt.Sprintf("record is longer than %d bytes", limit))
}

// RecordOverHardCap is what a peer is told before the connection ends for
// a record of n bytes, over HardMaxRecord.
func RecordOverHardCap(n uint32) error {
	return newRule(ErrOverLimit, fmt.Sprintf("record of %d bytes is over the hard limit of %d bytes", n, HardMaxRecord))
}
