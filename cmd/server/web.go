package main

import (
	"fmt"
	"log/slog"
	"strings"

	"pcx/adapters/multilisten"
	"pcx/adapters/tcp"
	"pcx/adapters/webpage"
	"pcx/adapters/websocket"
	"pcx/ports"
)

// listen opens the TCP listener and, with --web-listen, the web one (the
// page and its WebSocket); with both the server accepts from either
// through one merged listener, and knows nothing of it.
func listen(s settings, log *slog.Logger) (ports.Listener, func(), error) {
	plain, cleanup, err := listenTCP(s)
	if err != nil {
		return nil, nil, err
	}
	if s.WebListen == "" {
		return plain, cleanup, nil
	}
	web, err := websocket.Listen(s.WebListen, websocket.Options{
		WriteTimeout:   s.WriteTimeout,
		OriginPatterns: origins(s.WebOrigins),
		Page:           webpage.Handler(),
		KeepAlive:      tcp.ServerKeepAlive,
	})
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("web: %w", err)
	}
	log.Info("chat from a browser: open "+web.URL("localhost"), "addr", web.Addr())
	merged := multilisten.Merge(plain, web)
	return merged, func() { merged.Close() }, nil
}

// origins splits --web-origins.
func origins(list string) []string {
	var out []string
	for _, o := range strings.Split(list, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}
