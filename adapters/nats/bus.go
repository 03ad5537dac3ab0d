package nats

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	gonats "github.com/nats-io/nats.go"

	"pcx/ports"
)

// Bus is a node's ports.RoomBus over core NATS: every event is one message
// on the room's subject, published on the node's one connection, so that
// NATS keeps the node's order to every subscriber.
type Bus struct {
	c       *Conn
	subject string
	// epoch tells this run of the node from an earlier one of the same
	// name, whose numbers started at 1 too.
	epoch uint64

	// pubMu guards seq and closed. It is held across the publish (a
	// buffered write that rarely reaches the socket) so that the numbers
	// go on the wire in their order: that order is the contract.
	pubMu  sync.Mutex
	seq    uint64
	closed bool

	// recvMu guards rcv, stopped and origins, and is held while rcv is
	// called, so that Close waits for a call under way and no call starts
	// after it.
	recvMu  sync.Mutex
	rcv     ports.BusReceiver
	stopped bool
	origins map[string]origin
	sub     *gonats.Subscription // set by Listen, under recvMu
}

// origin is the last event heard from one node.
type origin struct{ epoch, seq uint64 }

var _ ports.RoomBus = (*Bus)(nil)

// NewBus returns the bus of room for the node c belongs to.
func NewBus(c *Conn, room string) (*Bus, error) {
	if err := checkRoom(room); err != nil {
		return nil, err
	}
	var e [8]byte
	if _, err := rand.Read(e[:]); err != nil {
		return nil, fmt.Errorf("nats: bus epoch: %w", err)
	}
	return &Bus{
		c:       c,
		subject: "pcx." + room + ".events",
		epoch:   binary.BigEndian.Uint64(e[:]),
		origins: make(map[string]origin),
	}, nil
}

// Listen implements ports.RoomBus. Link(true) comes once the server has the
// subscription (or, if the link is down now, when it is back).
func (b *Bus) Listen(r ports.BusReceiver) error {
	b.recvMu.Lock()
	defer b.recvMu.Unlock()
	if b.stopped {
		return fmt.Errorf("nats: listen: %w", ports.ErrBusClosed)
	}
	if b.rcv != nil {
		return errors.New("nats: listen called twice")
	}
	sub, err := b.c.nc.Subscribe(b.subject, b.onMessage)
	if err != nil {
		return fmt.Errorf("nats: subscribe to %s: %w", b.subject, err)
	}
	// The default pending limits (64 MiB, 512 Ki messages) hold several
	// seconds of a busy room; beyond them NATS drops, and the sequence
	// check reports it.
	b.sub, b.rcv = sub, r
	b.c.onLink(b.onLink)
	if err := b.c.nc.Flush(); err == nil {
		r.Link(true)
	}
	return nil
}

func (b *Bus) onLink(up bool) {
	b.recvMu.Lock()
	defer b.recvMu.Unlock()
	if b.rcv != nil && !b.stopped {
		b.rcv.Link(up)
	}
}

// onMessage runs in the subscription's goroutine, one message at a time.
func (b *Bus) onMessage(m *gonats.Msg) {
	ev, err := decodeEvent(m.Data)
	if err != nil {
		b.c.log.Warn("nats: bus: dropped an event", "err", err, "bytes", len(m.Data))
		return
	}
	if ev.Node == b.c.node {
		b.c.log.Warn("nats: bus: dropped an event in this node's name", "seq", ev.Seq)
		return
	}
	b.recvMu.Lock()
	defer b.recvMu.Unlock()
	if b.stopped {
		return
	}
	last, known := b.origins[ev.Node]
	switch {
	case !known || last.epoch != ev.epoch:
		// The first event heard of this run of the node: what it sent
		// before this node listened is not this node's to miss.
	case ev.Seq <= last.seq:
		b.c.log.Warn("nats: bus: dropped an event out of sequence", "from", ev.Node, "seq", ev.Seq, "last", last.seq)
		return
	case ev.Seq > last.seq+1:
		b.rcv.Missed(ev.Node, ev.Seq-last.seq-1)
	}
	if ev.Kind == ports.BusShutdown {
		delete(b.origins, ev.Node)
	} else {
		b.origins[ev.Node] = origin{epoch: ev.epoch, seq: ev.Seq}
	}
	b.rcv.Receive(ev.BusEvent)
}

// Publish implements ports.RoomBus. While the link is down it fails with
// ErrBusDown and the number is not used, so the receivers see no hole for
// what was refused; an event lost in the connection's buffer when the link
// broke is a hole they report.
func (b *Bus) Publish(ctx context.Context, ev ports.BusEvent) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("nats: publish: %w", err)
	}
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	if b.closed {
		return fmt.Errorf("nats: publish: %w", ports.ErrBusClosed)
	}
	if !b.c.nc.IsConnected() {
		return fmt.Errorf("nats: publish: %w", ports.ErrBusDown)
	}
	ev.Node, ev.Seq = b.c.node, b.seq+1
	data, err := encodeEvent(wireEvent{BusEvent: ev, epoch: b.epoch})
	if err != nil {
		return err
	}
	if err := b.c.nc.Publish(b.subject, data); err != nil {
		if errors.Is(err, gonats.ErrReconnectBufExceeded) || errors.Is(err, gonats.ErrConnectionClosed) ||
			errors.Is(err, gonats.ErrConnectionReconnecting) {
			return fmt.Errorf("nats: publish: %w: %w", ports.ErrBusDown, err)
		}
		return fmt.Errorf("nats: publish: %w", err)
	}
	b.seq++
	return nil
}

// Close implements ports.RoomBus. It leaves the connection open.
func (b *Bus) Close() error {
	b.pubMu.Lock()
	b.closed = true
	b.pubMu.Unlock()
	b.recvMu.Lock()
	b.stopped = true
	sub := b.sub
	b.sub = nil
	b.recvMu.Unlock()
	if sub != nil {
		if err := sub.Unsubscribe(); err != nil && !errors.Is(err, gonats.ErrConnectionClosed) {
			return fmt.Errorf("nats: unsubscribe: %w", err)
		}
	}
	return nil
}
