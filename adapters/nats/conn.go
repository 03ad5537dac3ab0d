// Package nats is the NATS adapter of the room ports: the room bus over core
// NATS (ports.RoomBus, subject pcx.<room>.events) and the nickname registry
// and node liveness over JetStream key-value buckets (ports.Names in
// pcx_<room>_names, ports.Nodes in pcx_<room>_nodes). One Conn per node
// carries all three, so that everything a node publishes goes out on one
// connection, in order. Attachments (ports.FileShare, files.go) may take a
// Conn of their own, so that their chunks never queue ahead of the events.
//
// A node's life: Dial; NewBus, NewNames, NewNodes on the Conn; Listen and
// Watch. To stop: Publish a ports.BusShutdown, then Close the Bus and the
// Nodes (which deletes the heartbeat: the others see the node gone at
// once), then the Conn. The Conn outlives a lost link: it reconnects by
// itself, and the bus's receiver hears Link(false) and Link(true).
package nats

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	gonats "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options says how a node reaches NATS.
type Options struct {
	// URLs of the NATS servers (any of one cluster); at least one.
	URLs []string
	// Node is this node's name: it stamps the node's events, holds its
	// nicknames and names its heartbeat. 1 to 255 bytes, unique in a room.
	Node string
	// CredsFile and TLSCA, when set, are a NATS credentials file and a CA
	// bundle to check the NATS servers' certificates with.
	CredsFile string
	TLSCA     string
	// ReconnectWait is the pause between reconnect attempts (default 1 s).
	ReconnectWait time.Duration
	// Logger gets the connection's events (default slog.Default()).
	Logger *slog.Logger
}

// Conn is one node's connection to NATS. It reconnects by itself, forever,
// and tells the listeners registered with onLink when the link goes and
// comes back.
type Conn struct {
	nc   *gonats.Conn
	js   jetstream.JetStream
	node string
	log  *slog.Logger

	mu    sync.Mutex      // guards links
	links []func(up bool) // called from nats.go's callback goroutine, in order
}

// Dial connects to NATS. It fails when no server answers now; after that
// the connection retries by itself.
func Dial(opts Options) (*Conn, error) {
	if len(opts.URLs) == 0 {
		return nil, errors.New("nats: no server URL")
	}
	if opts.Node == "" || len(opts.Node) > 255 {
		return nil, fmt.Errorf("nats: node name %q: want 1 to 255 bytes", opts.Node)
	}
	c := &Conn{node: opts.Node, log: opts.Logger}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("nats_node", opts.Node)
	wait := opts.ReconnectWait
	if wait <= 0 {
		wait = time.Second
	}
	nopts := []gonats.Option{
		gonats.Name("pcx " + opts.Node),
		gonats.MaxReconnects(-1),
		gonats.ReconnectWait(wait),
		// No buffer while reconnecting: a publish then fails at once
		// (ports.ErrBusDown) instead of being held and sent late, or
		// dropped when the buffer fills.
		gonats.ReconnectBufSize(-1),
		// A node never needs its own messages back.
		gonats.NoEcho(),
		gonats.DisconnectErrHandler(func(nc *gonats.Conn, err error) {
			if nc.IsClosed() {
				return // Close, not a lost link
			}
			c.log.Warn("nats: link lost", "err", err)
			c.setLink(false)
		}),
		gonats.ReconnectHandler(func(nc *gonats.Conn) {
			c.log.Info("nats: link back", "server", nc.ConnectedUrlRedacted())
			c.setLink(true)
		}),
		gonats.ErrorHandler(func(_ *gonats.Conn, sub *gonats.Subscription, err error) {
			// A slow consumer drops messages: the bus's sequence check
			// reports the hole; this says why.
			c.log.Warn("nats: asynchronous error", "err", err)
		}),
	}
	if opts.CredsFile != "" {
		nopts = append(nopts, gonats.UserCredentials(opts.CredsFile))
	}
	if opts.TLSCA != "" {
		nopts = append(nopts, gonats.RootCAs(opts.TLSCA))
	}
	nc, err := gonats.Connect(strings.Join(opts.URLs, ","), nopts...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect to %s: %w", strings.Join(opts.URLs, ","), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: jetstream: %w", err)
	}
	c.nc, c.js = nc, js
	return c, nil
}

// Close closes the connection; the buses, registries and liveness on it
// stop working. Close them first.
func (c *Conn) Close() { c.nc.Close() }

// onLink registers f to hear of the link going down and coming back.
func (c *Conn) onLink(f func(up bool)) {
	c.mu.Lock()
	c.links = append(c.links, f)
	c.mu.Unlock()
}

func (c *Conn) setLink(up bool) {
	c.mu.Lock()
	links := c.links
	c.mu.Unlock()
	for _, f := range links {
		f(up)
	}
}

// roomName is what a room's name may be: it becomes a subject token and
// part of bucket names.
var roomName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkRoom(room string) error {
	if !roomName.MatchString(room) {
		return fmt.Errorf("nats: room name %q: want 1 to 64 of A-Z a-z 0-9 _ -", room)
	}
	return nil
}
