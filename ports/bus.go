package ports

import (
	"context"
	"errors"
)

//go:generate go tool mockgen -typed -destination=mocks/bus.go -package=mocks pcx/ports RoomBus,BusReceiver

// ErrBusDown is returned (wrapped) by RoomBus.Publish while the node is cut
// off from the bus. The event is not sent and not kept for later: the
// caller knows at once that the other nodes will not see it, instead of a
// buffer sending it late or losing it silently when the buffer fills.
var ErrBusDown = errors.New("bus: not connected")

// ErrBusClosed is returned (wrapped) by RoomBus.Publish after Close.
var ErrBusClosed = errors.New("bus: closed")

// BusEventKind says what happened on the node that published an event.
type BusEventKind uint8

const (
	BusJoin     BusEventKind = iota + 1 // a user logged in; Record is the join notice
	BusMessage                          // a user's message; Record is the relayed record
	BusLeave                            // a user left; Record is the leave notice
	BusShutdown                         // the node is stopping: all its users are gone
)

// BusEvent is one thing that happened in the room on one node, for the
// other nodes to relay to their users.
type BusEvent struct {
	Kind BusEventKind
	// Node and Seq are stamped by the bus: the publishing node's name and
	// its sequence number (1, 2, 3, ... in the order Publish was called).
	// Publish ignores what the caller put there.
	Node string
	Seq  uint64
	// Nickname is the user's nickname as typed (not for BusShutdown).
	Nickname string
	// Order is, for BusJoin, the order of the user's nickname claim
	// (Names.Claim): the receiving node tells the join only to its users
	// whose own claim came before. 0 when unknown: told to every user.
	Order uint64
	// Record is the encoded record as the receiving node writes it to its
	// users (not for BusShutdown), relayed as it is. Neither the bus nor
	// the receivers modify it, and the publisher must not either once
	// Publish is called: the bytes may be shared, not copied.
	Record []byte
	// Attachment, when set, names the payload that follows Record; its
	// bytes travel apart from the event (the origin node holds them).
	Attachment *BusAttachment
}

// BusAttachment names an attachment held by the node that published the
// event.
type BusAttachment struct {
	ID   string // the origin node's handle of the payload, opaque to others
	Size int64  // the payload's length in bytes
}

// RoomBus carries the room's events between the nodes of one room. What
// is ordered: the events of one node reach every other node in the order
// that node published them (so one user's join, messages and leave keep
// their order everywhere). What is not: events of two nodes may interleave
// differently on two receivers. A node never receives its own events.
//
// A lost event is never skipped silently: each receiver checks every
// origin's sequence numbers and reports a hole through BusReceiver.Missed.
type RoomBus interface {
	// Listen starts delivering the other nodes' events to r, and the
	// state of the link to the bus: Link(true) once this node hears the
	// others (events published before it are not delivered). It is called
	// once, before Publish.
	Listen(r BusReceiver) error
	// Publish sends ev to every other node of the room. It does not wait
	// for them, and it never blocks on a slow receiver. It fails with
	// ErrBusDown while the node is cut off from the bus (the event is
	// dropped, not queued) and with ErrBusClosed after Close. It is safe
	// for concurrent use; concurrent calls are ordered as the bus takes
	// them.
	Publish(ctx context.Context, ev BusEvent) error
	// Close stops delivery (no BusReceiver call runs after it returns)
	// and releases the link. It publishes nothing: a node that stops
	// cleanly publishes BusShutdown first.
	Close() error
}

// BusReceiver is what the application gives RoomBus.Listen. The bus calls
// it from one goroutine at a time, in the order of each origin node's
// events; a call must not block for long, since it holds up every later
// event.
type BusReceiver interface {
	// Receive is one event of another node.
	Receive(ev BusEvent)
	// Missed says that count events of node, published before the one
	// about to be received, never arrived (a bus message was lost, for
	// instance while this node was cut off): the room as this node sees it
	// may differ from the others' until the origin's users reconnect.
	Missed(node string, count uint64)
	// Link says the link to the bus was lost (up false) or is back (up
	// true). While it is down Publish fails and nothing is received.
	Link(up bool)
}
