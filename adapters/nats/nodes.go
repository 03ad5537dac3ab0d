package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"pcx/ports"
)

// Nodes is a node's ports.Nodes over a JetStream key-value bucket whose
// entries live for the node TTL (the bucket's MaxAge): each node puts its
// heartbeat key every TTL/3, and lists the keys as often; a node whose key
// has expired (it stopped putting) or was deleted (it closed) is gone.
//
// Why a bucket-wide TTL and not a TTL per key: measured with nats.go v1.55,
// an Update of a key created with a per-key TTL clears that TTL. How a
// node's end is seen: a watcher of the bucket hears a delete (the node
// closed) or, as the bucket keeps limit markers (nats-server 2.11 and
// later), a purge marker when the key expires; and a list every TTL/3
// catches what a watcher cannot, such as the nodes that went while this
// one was cut off from NATS.
type Nodes struct {
	kv      jetstream.KeyValue
	node    string
	key     string
	ttl     time.Duration
	timeout time.Duration
	log     logger

	mu      sync.Mutex // guards watched and closed
	watched bool
	closed  bool
	stop    chan struct{}  // closed by Close
	running sync.WaitGroup // the heartbeat and the watch goroutines
}

type logger interface {
	Warn(msg string, args ...any)
}

var _ ports.Nodes = (*Nodes)(nil)

// NewNodes opens (creating if need be) the heartbeat bucket of room, whose
// entries live for ttl.
func NewNodes(ctx context.Context, c *Conn, room string, ttl time.Duration, opts StoreOptions) (*Nodes, error) {
	if err := checkRoom(room); err != nil {
		return nil, err
	}
	if ttl < 100*time.Millisecond {
		return nil, fmt.Errorf("nats: node TTL %v: want at least 100ms", ttl)
	}
	kv, err := c.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      "pcx_" + room + "_nodes",
		Description: "pcx: heartbeats of the nodes alive",
		History:     1,
		TTL:         ttl,
		// The server then writes a marker when a key expires, so that the
		// watchers hear of it at once (without, measured on nats-server
		// 2.15: nothing at all); it keeps the marker this long.
		LimitMarkerTTL: max(ttl, time.Second),
		Storage:        jetstream.FileStorage,
		Replicas:       opts.replicas(),
	})
	if err != nil {
		return nil, fmt.Errorf("nats: nodes bucket: %w", err)
	}
	return &Nodes{
		kv: kv, node: c.node, key: "n." + keyEncoding.EncodeToString([]byte(c.node)),
		ttl: ttl, timeout: opts.timeout(), log: c.log,
		stop: make(chan struct{}),
	}, nil
}

// Watch implements ports.Nodes.
func (n *Nodes) Watch(gone func(node string)) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.watched || n.closed {
		return errors.New("nats: watch called twice or after close")
	}
	if err := n.announce(); err != nil {
		return err
	}
	// The watcher gives the keys there now, then every put and delete:
	// a node that closes is seen at once, even one that came and went
	// between two lists.
	// Its context ends with run: nats.go keeps a goroutine per watcher
	// until the context given to Watch ends.
	ctx, cancel := context.WithCancel(context.Background())
	w, err := n.kv.Watch(ctx, "n.>")
	if err != nil {
		cancel()
		return storeErr("watch nodes", err)
	}
	n.watched = true
	// Two goroutines, so that a slow gone never delays the heartbeat (and
	// gets this node taken for dead).
	n.running.Go(n.beatEvery)
	n.running.Go(func() {
		defer cancel()
		n.run(gone, w)
	})
	return nil
}

// beatEvery puts the heartbeat every TTL/3 until Close.
func (n *Nodes) beatEvery() {
	tick := time.NewTicker(n.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-tick.C:
		}
		if err := n.beat(); err != nil {
			n.log.Warn("nats: heartbeat", "err", err)
		}
	}
}

// run lists the nodes every TTL/3, and follows the watcher between lists,
// until Close. A failing list is skipped: no node is declared gone on a
// list this node could not read.
func (n *Nodes) run(gone func(string), w jetstream.KeyWatcher) {
	defer func() { _ = w.Stop() }()
	tick := time.NewTicker(n.ttl / 3)
	defer tick.Stop()
	alive := make(map[string]bool) // the other nodes known alive
	lost := func(node string) bool {
		if !alive[node] {
			return true
		}
		delete(alive, node)
		select {
		case <-n.stop:
			return false
		default:
		}
		gone(node)
		return true
	}
	updates := w.Updates()
	for {
		select {
		case <-n.stop:
			return
		case e, ok := <-updates:
			if !ok {
				updates = nil // the list goes on alone
				continue
			}
			if e == nil { // the end of the keys there at the start
				continue
			}
			node, err := keyEncoding.DecodeString(strings.TrimPrefix(e.Key(), "n."))
			if err != nil || string(node) == n.node {
				continue
			}
			if op := e.Operation(); op == jetstream.KeyValueDelete || op == jetstream.KeyValuePurge {
				if !lost(string(node)) {
					return
				}
			} else {
				alive[string(node)] = true
			}
		case <-tick.C:
			now, err := n.alive(context.Background())
			if err != nil {
				n.log.Warn("nats: list nodes", "err", err)
				continue
			}
			for node := range alive {
				if !slices.Contains(now, node) && !lost(node) {
					return
				}
			}
			for _, node := range now {
				if node != n.node {
					alive[node] = true
				}
			}
		}
	}
}

// announce puts the first heartbeat only if no node of this name is alive:
// Create fails on a key that is there (alive: an expired key is gone, its
// marker left by the server or by a clean Close does not count), and of
// several at once exactly one wins, as the store compares revisions.
func (n *Nodes) announce() error {
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	_, err := n.kv.Create(ctx, n.key, []byte(n.node))
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return storeErr("heartbeat", err)
	}
	alive := &ports.NodeAliveError{Node: n.node}
	// The age is for the operator (how long until it expires); a failed
	// read, or the key gone meanwhile, leaves it unknown: a retry decides.
	if e, err := n.kv.Get(ctx, n.key); err == nil {
		alive.Age = age(e)
	}
	return alive
}

// Check returns a *ports.NodeAliveError if a node of this name is alive
// now. It is only a first look: two nodes starting at once may both pass
// it, and Watch decides. It lets a server refuse before it subscribes
// anything under its name (cmd/server: its file share, which would answer
// the live node's fetches meanwhile).
func (n *Nodes) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	e, err := n.kv.Get(ctx, n.key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound): // never there, expired or deleted
		return nil
	case err != nil:
		return storeErr("read heartbeat", err)
	}
	return &ports.NodeAliveError{Node: n.node, Age: age(e)}
}

// age is how long ago e was put, by the NATS server's clock.
func age(e jetstream.KeyValueEntry) time.Duration {
	return max(time.Since(e.Created()), 0).Round(100 * time.Millisecond)
}

func (n *Nodes) beat() error {
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	if _, err := n.kv.Put(ctx, n.key, []byte(n.node)); err != nil {
		return storeErr("heartbeat", err)
	}
	return nil
}

func (n *Nodes) alive(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	es, err := collect(ctx, n.kv, "n.>")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, string(e.Value()))
	}
	slices.Sort(out)
	return out, nil
}

// Alive implements ports.Nodes.
func (n *Nodes) Alive(ctx context.Context) ([]string, error) {
	return n.alive(ctx)
}

// Close implements ports.Nodes: the heartbeat stops and its key is
// deleted, so that the others see this node gone at their next look.
func (n *Nodes) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	watched := n.watched
	close(n.stop)
	n.mu.Unlock()
	if !watched {
		return nil
	}
	n.running.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	if err := n.kv.Delete(ctx, n.key); err != nil {
		return storeErr("delete heartbeat", err)
	}
	return nil
}
