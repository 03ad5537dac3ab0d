// Package localroom is the in-process adapter of the room ports: a Room
// joins the buses, registries, liveness and file shares of nodes that run
// in one process. A single server uses one node of it (its Names is
// domain.Registry with the holder of each nickname beside it); tests of
// several nodes use several nodes of one Room instead of a NATS server.
package localroom

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"pcx/domain"
	"pcx/ports"
)

// Room is what the nodes of one process share. Lock order: Room.mu before
// any mailbox's.
type Room struct {
	mu sync.Mutex // guards buses, holders, watchers and alive
	// buses are the listening buses, by node.
	buses map[string]*Bus
	// registry enforces the uniqueness of keys and shapes; holders has an
	// entry per nickname it holds, by key, naming the holder's node.
	registry *domain.Registry
	holders  map[string]ports.NameHolder
	// claims counts the claims won: the order of the last one.
	claims uint64
	// watchers are the Nodes that watch, by node; alive has the nodes that
	// announce themselves (every watcher, until it closes).
	watchers map[string]*Nodes
	// files are the nodes' file shares, from Files to their Close.
	files map[string]*Files
}

// NewRoom returns an empty room.
func NewRoom() *Room {
	return &Room{
		buses:    make(map[string]*Bus),
		registry: domain.NewRegistry(),
		holders:  make(map[string]ports.NameHolder),
		watchers: make(map[string]*Nodes),
		files:    make(map[string]*Files),
	}
}

// mailbox delivers values to one callback from one goroutine, in the order
// they were put, without ever making the putter wait for the callback.
type mailbox[T any] struct {
	mu     sync.Mutex // guards queue and closed
	queue  []T
	closed bool
	wake   chan struct{} // one slot: something was queued or closed
	done   chan struct{} // closed when the goroutine has returned
}

func newMailbox[T any](deliver func(T)) *mailbox[T] {
	m := &mailbox[T]{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go m.run(deliver)
	return m
}

func (m *mailbox[T]) put(v T) {
	m.mu.Lock()
	if !m.closed {
		m.queue = append(m.queue, v)
	}
	m.mu.Unlock()
	m.signal()
}

func (m *mailbox[T]) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *mailbox[T]) run(deliver func(T)) {
	defer close(m.done)
	for range m.wake {
		m.mu.Lock()
		batch, closed := m.queue, m.closed
		m.queue = nil
		m.mu.Unlock()
		if closed {
			return
		}
		for _, v := range batch {
			deliver(v)
		}
	}
}

// close drops what is queued and waits until no delivery runs. It must not
// be called from the callback.
func (m *mailbox[T]) close() {
	m.mu.Lock()
	m.closed = true
	m.queue = nil
	m.mu.Unlock()
	m.signal()
	<-m.done
}

// Bus is one node's ports.RoomBus.
type Bus struct {
	room *Room
	node string
	// seq is the number of events published; Room.mu guards it, so that
	// the numbers follow the order in which receivers' mailboxes get them.
	seq    uint64
	closed bool // guarded by Room.mu
	inbox  *mailbox[busItem]
}

// busItem is an event, or the link coming up, as the mailbox carries it.
type busItem struct {
	ev     ports.BusEvent
	linkUp bool
}

var _ ports.RoomBus = (*Bus)(nil)

// Bus returns node's bus. Each node has one.
func (r *Room) Bus(node string) *Bus { return &Bus{room: r, node: node} }

// Listen implements ports.RoomBus. The link of an in-process bus never
// goes down, so r.Link is called once, with up true, before any event.
func (b *Bus) Listen(rcv ports.BusReceiver) error {
	b.room.mu.Lock()
	defer b.room.mu.Unlock()
	if b.closed {
		return fmt.Errorf("localroom: listen: %w", ports.ErrBusClosed)
	}
	if b.inbox != nil || b.room.buses[b.node] != nil {
		return fmt.Errorf("localroom: node %q listens already", b.node)
	}
	// The link state goes through the mailbox too, so that it comes before
	// any event and never while the room's lock is held.
	b.inbox = newMailbox(func(it busItem) {
		if it.linkUp {
			rcv.Link(true)
			return
		}
		rcv.Receive(it.ev)
	})
	b.inbox.put(busItem{linkUp: true})
	b.room.buses[b.node] = b
	return nil
}

// Publish implements ports.RoomBus: ev goes into every other listening
// node's mailbox, in one step under the room's lock.
func (b *Bus) Publish(ctx context.Context, ev ports.BusEvent) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("localroom: publish: %w", err)
	}
	b.room.mu.Lock()
	defer b.room.mu.Unlock()
	if b.closed {
		return fmt.Errorf("localroom: publish: %w", ports.ErrBusClosed)
	}
	b.seq++
	ev.Node, ev.Seq = b.node, b.seq
	for node, other := range b.room.buses {
		if node != b.node {
			other.inbox.put(busItem{ev: ev})
		}
	}
	return nil
}

// Close implements ports.RoomBus.
func (b *Bus) Close() error {
	b.room.mu.Lock()
	b.closed = true
	if b.room.buses[b.node] == b {
		delete(b.room.buses, b.node)
	}
	inbox := b.inbox
	b.room.mu.Unlock()
	if inbox != nil {
		inbox.close()
	}
	return nil
}

// Names is one node's ports.Names.
type Names struct {
	room *Room
	node string
}

var _ ports.Names = (*Names)(nil)

// Names returns node's view of the room's nickname registry.
func (r *Room) Names(node string) *Names { return &Names{room: r, node: node} }

// Claim implements ports.Names with domain.Registry.Claim; the order is a
// count of the claims won, taken under the room's lock.
func (n *Names) Claim(ctx context.Context, nick domain.Nickname) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("localroom: claim: %w", err)
	}
	n.room.mu.Lock()
	defer n.room.mu.Unlock()
	if err := n.room.registry.Claim(nick); err != nil {
		return 0, err
	}
	n.room.holders[nick.Key()] = ports.NameHolder{Node: n.node, Nickname: nick}
	n.room.claims++
	return n.room.claims, nil
}

// Release implements ports.Names.
func (n *Names) Release(ctx context.Context, nick domain.Nickname) error {
	n.room.mu.Lock()
	defer n.room.mu.Unlock()
	if h, ok := n.room.holders[nick.Key()]; ok && h.Node == n.node {
		n.room.release(h)
	}
	return nil
}

// release frees h's nickname. Room.mu must be held.
func (r *Room) release(h ports.NameHolder) {
	delete(r.holders, h.Nickname.Key())
	// The registry forgets the key and shape it is given: the holder's own,
	// never a caller's look-alike with another shape.
	r.registry.Release(h.Nickname)
}

// List implements ports.Names.
func (n *Names) List(ctx context.Context) ([]ports.NameHolder, error) {
	n.room.mu.Lock()
	defer n.room.mu.Unlock()
	out := make([]ports.NameHolder, 0, len(n.room.holders))
	for _, h := range n.room.holders {
		out = append(out, h)
	}
	return out, nil
}

// ReleaseNode implements ports.Names.
func (n *Names) ReleaseNode(ctx context.Context, node string) error {
	n.room.mu.Lock()
	defer n.room.mu.Unlock()
	for _, h := range n.room.holders {
		if h.Node == node {
			n.room.release(h)
		}
	}
	return nil
}

// Nodes is one node's ports.Nodes. In a process a node is alive from Watch
// to Close; it cannot stop without closing.
type Nodes struct {
	room    *Room
	node    string
	watched bool             // guarded by Room.mu
	closed  bool             // guarded by Room.mu
	gone    *mailbox[string] // set by Watch, under Room.mu
}

var _ ports.Nodes = (*Nodes)(nil)

// Nodes returns node's liveness.
func (r *Room) Nodes(node string) *Nodes { return &Nodes{room: r, node: node} }

// Watch implements ports.Nodes.
func (n *Nodes) Watch(gone func(node string)) error {
	n.room.mu.Lock()
	defer n.room.mu.Unlock()
	if n.watched || n.closed {
		return fmt.Errorf("localroom: node %q: watch called twice or after close", n.node)
	}
	if n.room.watchers[n.node] != nil {
		// It never stops announcing without closing: its age is unknown.
		return &ports.NodeAliveError{Node: n.node}
	}
	n.watched = true
	n.gone = newMailbox(gone)
	n.room.watchers[n.node] = n
	return nil
}

// Alive implements ports.Nodes.
func (n *Nodes) Alive(ctx context.Context) ([]string, error) {
	n.room.mu.Lock()
	defer n.room.mu.Unlock()
	out := make([]string, 0, len(n.room.watchers))
	for node := range n.room.watchers {
		out = append(out, node)
	}
	slices.Sort(out)
	return out, nil
}

// Close implements ports.Nodes: every other watcher hears of it.
func (n *Nodes) Close() error {
	n.room.mu.Lock()
	n.closed = true
	if n.room.watchers[n.node] == n {
		delete(n.room.watchers, n.node)
		for _, other := range n.room.watchers {
			other.gone.put(n.node)
		}
	}
	gone := n.gone
	n.room.mu.Unlock()
	if gone != nil {
		gone.close()
	}
	return nil
}
