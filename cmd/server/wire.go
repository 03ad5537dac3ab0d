//go:build wireinject

package main

import (
	"log/slog"

	"github.com/google/wire"

	"pcx/adapters/dictcodec"
	"pcx/adapters/diskspool"
	"pcx/adapters/prometheus"
	"pcx/adapters/sysclock"
	pcxtls "pcx/adapters/tls"
	"pcx/app/server"
	"pcx/ports"
)

// common is everything but the transport.
var common = wire.NewSet(
	serverConfig,
	dictcodec.ProviderSet,
	sysclock.ProviderSet,
	openSpool,
	wire.Bind(new(ports.Spool), new(*diskspool.Spool)),
	serverMetrics,
	joinRoom,
	server.ProviderSet,
)

// initServer builds the server on TCP, plain or TLS or both (certs is nil
// without TLS), and, with --web-listen, WebSocket. The cleanup closes the
// listeners and removes the spool. With metrics (nil without
// --admin-addr) the server and its listeners are counted.
func initServer(s settings, certs *pcxtls.Certificates, metrics *prometheus.Metrics, log *slog.Logger) (*server.Server, func(), error) {
	wire.Build(common, listen)
	return nil, nil, nil
}
