package ports

import "time"

//go:generate go tool mockgen -typed -destination=mocks/metrics.go -package=mocks pcx/ports Metrics

// Metrics counts what the server does, for its operator. Every method is
// safe from any goroutine and cheap enough for the server's hot paths,
// which call it once per batch where they can. Label values come only from
// the closed sets below, never from what a peer sent: no nicknames.
type Metrics interface {
	// Add counts n more of c.
	Add(c Counter, n int)
	// Event counts one refusal, cut-off or login result, by its reason.
	Event(kind MetricEvent, reason Reason)
	// ObserveDelivery records how long a frame waited from being queued
	// for a receiver to being written to it.
	ObserveDelivery(d time.Duration)
}

// Counter is a quantity the server counts.
type Counter uint8

const (
	MessagesReceived     Counter = iota // whole messages read from senders, then relayed
	MessagesDelivered                   // relayed messages written to receivers
	AttachmentBytesIn                   // attachment payload bytes read from senders
	AttachmentBytesOut                  // attachment payload bytes written to receivers
	UsersJoined                         // logins; with UsersLeft, the users online
	UsersLeft                           // sessions of logged-in users that ended
	BusEventsOut                        // events this node published on the room bus
	BusEventsIn                         // events of other nodes received from the room bus
	BusEventsMissed                     // events of other nodes that never arrived (holes in their numbers)
	RoomFilesFetched                    // attachments of other nodes fetched whole into the spool
	RoomFileBytesFetched                // their bytes
	RoomFilesLost                       // attachments of other nodes that could not be fetched (their messages dropped)
	NumCounters                         // the number of counters above
)

// MetricEvent sorts the events counted by reason.
type MetricEvent uint8

const (
	Refusal MetricEvent = iota // a record or connection refused, the session going on or not
	CutOff                     // a session the server ended for a limit
	Login                      // a login attempt's result
	NumMetricEvents
)

// Reason is a short, fixed label for an event: one of the constants below.
type Reason string

// Login results.
const (
	LoginOK      Reason = "ok"
	LoginTaken   Reason = "taken"
	LoginInvalid Reason = "invalid"
)

// Reasons for refusals and cut-offs.
const (
	ReasonMalformed          Reason = "malformed_record"
	ReasonRecordTooLong      Reason = "record_too_long"
	ReasonInvalidMessage     Reason = "invalid_message"
	ReasonAttachmentTooBig   Reason = "attachment_too_big"
	ReasonSpoolFull          Reason = "spool_full"
	ReasonStoreFailed        Reason = "store_failed"
	ReasonUnknownCommand     Reason = "unknown_command"
	ReasonTooManyFromAddress Reason = "too_many_conns_from_address"
	ReasonTooManyOnServer    Reason = "too_many_conns_on_server"
	ReasonSlowQueue          Reason = "slow_consumer_queue"
	ReasonSlowWrite          Reason = "slow_consumer_write_timeout"
	ReasonBacklog            Reason = "slow_consumer_backlog"
	ReasonMemory             Reason = "server_memory"
	ReasonHardCap            Reason = "record_over_hard_cap"
	ReasonLoginTimeout       Reason = "login_timeout"
	ReasonReadTimeout        Reason = "read_timeout"
	// A login or message refused because the other servers of the room
	// are out of reach (PROTOCOL.md section 9); a user cut off because
	// another server's user took its nickname while they were.
	ReasonRoomUnreachable Reason = "room_unreachable"
	ReasonNicknameLost    Reason = "nickname_lost"
)
