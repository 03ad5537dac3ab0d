package main

import (
	"fmt"
	"log/slog"
	"strings"

	"pcx/adapters/multilisten"
	"pcx/adapters/prometheus"
	"pcx/adapters/tcp"
	pcxtls "pcx/adapters/tls"
	"pcx/adapters/webpage"
	"pcx/adapters/websocket"
	"pcx/ports"
)

// listen opens the listeners the settings ask for: plain TCP (--listen),
// TLS (--tls-listen; certs is nil without it) and the web page with its
// WebSocket (--web-listen). With more than one the server accepts from any
// through one merged listener, and knows nothing of it.
func listen(s settings, certs *pcxtls.Certificates, metrics *prometheus.Metrics, log *slog.Logger) (ports.Listener, func(), error) {
	var ls []ports.Listener
	fail := func(err error) (ports.Listener, func(), error) {
		for _, l := range ls {
			l.Close()
		}
		return nil, nil, err
	}
	if s.Listen != "" {
		l, err := tcp.Listen(s.Listen, tcpOptions(s))
		if err != nil {
			return fail(err)
		}
		ls = append(ls, countConns(metrics, l, "tcp"))
	}
	if s.TLSListen != "" {
		l, err := listenTLS(s, certs, log)
		if err != nil {
			return fail(err)
		}
		ls = append(ls, countConns(metrics, l, "tls"))
	}
	if s.WebListen != "" {
		l, err := listenWeb(s, certs, log)
		if err != nil {
			return fail(err)
		}
		ls = append(ls, countConns(metrics, l, "websocket"))
	}
	if len(ls) == 1 {
		return ls[0], func() { ls[0].Close() }, nil
	}
	merged := multilisten.Merge(ls...)
	return merged, func() { merged.Close() }, nil
}

// listenWeb opens the web listener: the page and its WebSocket, as https
// and wss with --web-tls.
func listenWeb(s settings, certs *pcxtls.Certificates, log *slog.Logger) (*websocket.Listener, error) {
	opts := websocket.Options{
		WriteTimeout:   s.WriteTimeout,
		ReadTimeout:    s.ReadTimeout,
		OriginPatterns: origins(s.WebOrigins),
		Page:           webpage.Handler(),
		KeepAlive:      tcp.ServerKeepAlive,
	}
	if s.WebTLS {
		opts.TLS = certs.ServerConfig()
	}
	web, err := websocket.Listen(s.WebListen, opts)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	log.Info("chat from a browser: open "+web.URL("localhost"), "addr", web.Addr())
	return web, nil
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
