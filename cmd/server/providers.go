package main

import (
	"pcx/adapters/diskspool"
	"pcx/adapters/memory"
	"pcx/adapters/tcp"
)

// listenTCP opens the server's TCP listener.
func listenTCP(s settings) (*tcp.Listener, func(), error) {
	l, err := tcp.Listen(s.Listen, tcp.Options{WriteTimeout: s.WriteTimeout, KeepAlive: tcp.ServerKeepAlive})
	if err != nil {
		return nil, nil, err
	}
	return l, func() { l.Close() }, nil
}

// listenMemory opens a listener on an in-memory network, for tests.
func listenMemory(s settings, network *memory.Network) (*memory.Listener, func(), error) {
	l, err := network.Listen(s.Listen)
	if err != nil {
		return nil, nil, err
	}
	return l, func() { l.Close() }, nil
}

// openSpool creates the attachment spool; its cleanup removes every file
// it still holds.
func openSpool(s settings) (*diskspool.Spool, func(), error) {
	sp, err := diskspool.New(diskspool.Options{Dir: s.SpoolDir, MaxBytes: int64(s.MaxSpool)})
	if err != nil {
		return nil, nil, err
	}
	return sp, func() { sp.Close() }, nil
}
