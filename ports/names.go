package ports

import (
	"context"
	"errors"
	"fmt"
	"time"

	"pcx/domain"
)

//go:generate go tool mockgen -typed -destination=mocks/names.go -package=mocks pcx/ports Names,Nodes

// ErrNamesDown is returned (wrapped) by Names and Nodes calls that could
// not reach the shared store (the bus is lost); nothing was changed.
var ErrNamesDown = errors.New("names: store unreachable")

// NodeAliveError is what Nodes.Watch returns when a node of its name is
// alive already: two live nodes of one name would free each other's
// nicknames as an earlier run's, and their users' events would mix.
type NodeAliveError struct {
	Node string        // the name in use
	Age  time.Duration // how old its latest announcement is (0 if unknown)
}

func (e *NodeAliveError) Error() string {
	return fmt.Sprintf("node %q is alive already (its heartbeat is %v old)", e.Node, e.Age)
}

// NameHolder is one claimed nickname and the node that holds it.
type NameHolder struct {
	Node     string          // the node whose user holds the nickname
	Nickname domain.Nickname // as its holder typed it
}

// Names is the nickname registry shared by every node of a room, with the
// guarantees of domain.Registry across nodes: no two users anywhere hold
// nicknames with the same Key or the same Shape, and no one holds a
// look-alike of domain.ServerName. It is safe for concurrent use.
type Names interface {
	// Claim takes n for a user of this node: its key and its shape both,
	// or neither. Of several claims of the same key or shape at once, on
	// any nodes, exactly one wins; the others get domain.ErrNicknameTaken.
	// Rarely, a claim in such a race is refused and yet no one ends up
	// holding the nickname (the winner of its key lost its shape and gave
	// the key back; a replicated store's read lagged): a false "taken",
	// which a retry fixes, never two holders.
	//
	// A claim that wins returns its order: its place among all the claims
	// of the room, on any node, that won. Orders are never 0, no two
	// claims get the same one, and a claim that ends before another
	// begins gets a smaller one. The server tells a user's join only to
	// those whose own claim came before it (app/server/room.go).
	Claim(ctx context.Context, n domain.Nickname) (order uint64, err error)
	// Release frees n if this node holds it; a nickname held by another
	// node is left alone. Releasing what is not held is not an error.
	Release(ctx context.Context, n domain.Nickname) error
	// List returns every held nickname with its node, in no set order. On a
	// replicated store it may lag the latest claims and releases for a
	// moment (a follower answers), even show a losing claim that was given
	// back; it comes to show the store as it is.
	List(ctx context.Context) ([]NameHolder, error)
	// ReleaseNode frees every nickname that node holds: any node may call
	// it for a node it saw gone, and several may, at once or again.
	ReleaseNode(ctx context.Context, node string) error
}

// Nodes tells which nodes of a room are alive. A node is alive from the
// moment it starts announcing itself until it closes (then the others
// learn at once) or stops announcing (it crashed or lost the bus: the
// others learn within the node TTL, plus a third of it).
type Nodes interface {
	// Watch starts announcing this node and calls gone, from one
	// goroutine, once for each other node that was alive since Watch and
	// no longer is. A node seen gone that comes back is alive again and
	// may be reported gone again later. A slow gone delays the next
	// reports, never this node's own announcement. It is called once,
	// or again after it failed.
	//
	// Announcing is also a check: while a node of this name is alive
	// (its announcement is neither removed nor expired), Watch fails with
	// a *NodeAliveError and announces nothing. Of several Watch calls of
	// one name at once, on any nodes, exactly one succeeds and the others
	// get a *NodeAliveError.
	Watch(gone func(node string)) error
	// Alive returns the names of the nodes alive now, this one included.
	Alive(ctx context.Context) ([]string, error)
	// Close stops announcing this node and removes its announcement, so
	// the others see it gone at once (and a node of its name may start at
	// once); gone is not called after it returns (so gone must not call
	// it). A node whose Watch failed removes nothing: the announcement is
	// another's.
	Close() error
}
