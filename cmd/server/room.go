package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	pcxnats "pcx/adapters/nats"
	"pcx/app/server"
	"pcx/ports"
)

// joinRoom connects to NATS with --nats and returns the room's ports, or
// nil (a single server) without. Startup fails when no NATS server
// answers; after that the connection retries by itself. The cleanup closes
// the connection (the server closes the bus and the liveness first).
func joinRoom(s settings, log *slog.Logger) (*server.Room, func(), error) {
	if s.NATS == "" {
		return nil, func() {}, nil
	}
	c, err := pcxnats.Dial(pcxnats.Options{
		URLs: natsURLs(s.NATS), Node: s.NodeName,
		CredsFile: s.NATSCreds, TLSCA: s.NATSTLSCA, Logger: log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("joining the room over NATS: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	room, err := openRoom(ctx, c, s)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("joining the room %q over NATS: %w", s.Room, err)
	}
	// Files travel on a connection of their own, so that the chunks of a
	// large file never queue ahead of the room's events on the bus's.
	fc, err := pcxnats.Dial(pcxnats.Options{
		URLs: natsURLs(s.NATS), Node: s.NodeName,
		CredsFile: s.NATSCreds, TLSCA: s.NATSTLSCA, Logger: log.With("nats_link", "files"),
	})
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("joining the room over NATS (files): %w", err)
	}
	if room.Files, err = pcxnats.NewFiles(fc, s.Room, pcxnats.FileOptions{}); err != nil {
		fc.Close()
		c.Close()
		return nil, nil, fmt.Errorf("joining the room %q over NATS: %w", s.Room, err)
	}
	room.FileHold, room.FileFetches = s.FileHold, s.FileFetches
	log.Info("joining the room over NATS", "room", s.Room, "nats", s.NATS, "node_ttl", s.NodeTTL)
	return room, func() { fc.Close(); c.Close() }, nil
}

func openRoom(ctx context.Context, c *pcxnats.Conn, s settings) (*server.Room, error) {
	bus, err := pcxnats.NewBus(c, s.Room)
	if err != nil {
		return nil, err
	}
	store := pcxnats.StoreOptions{Replicas: s.NATSReplicas}
	names, err := pcxnats.NewNames(ctx, c, s.Room, store)
	if err != nil {
		return nil, err
	}
	nodes, err := pcxnats.NewNodes(ctx, c, s.Room, s.NodeTTL, store)
	if err != nil {
		return nil, err
	}
	// Before the file share subscribes under this node's name; the start
	// checks again, for real (Nodes.Watch).
	if err := nodes.Check(ctx); err != nil {
		return nil, err
	}
	return &server.Room{Node: s.NodeName, Bus: bus, Names: names, Nodes: nodes}, nil
}

// explainStart turns a start refused because a server of this node's name
// is alive in the room into what the operator can do about it; any other
// error is returned as it is.
func explainStart(err error, s settings) error {
	var alive *ports.NodeAliveError
	if !errors.As(err, &alive) {
		return err
	}
	return fmt.Errorf("joining the room over NATS: another server is running as node %q (its heartbeat is %v old); "+
		"give this one another --node-name, or wait --node-ttl (%v) if it was this server that stopped without cleaning up",
		alive.Node, alive.Age, s.NodeTTL)
}
