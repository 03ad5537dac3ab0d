package domain

import "errors"

// HardMaxRecord is the longest record frame anyone skips over: a longer
// one cannot be a record any peer means, so it ends the connection
// (PROTOCOL.md section 5). It bounds what a reader of records (the server,
// the client, the load tool) allocates for one.
const HardMaxRecord = 1 << 20

// ErrOverLimit is the family of the refusals of PROTOCOL.md section 5: the
// server turns away what would take more than one connection's share.
var ErrOverLimit = errors.New("over a server limit")

// Refusals of a connection over a connection limit; the server sends one
// as a status reply and closes the connection.
var (
	ErrTooManyFromAddress = newRule(ErrOverLimit, "too many connections from your address")
	ErrTooManyOnServer    = newRule(ErrOverLimit, "too many connections on this server")
)
