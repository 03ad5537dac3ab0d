//go:build wireinject

package main

import (
	"github.com/google/wire"

	"pcx/adapters/dictcodec"
	"pcx/adapters/localfs"
	"pcx/app/client"
	"pcx/ports"
)

// initClient builds the client on TCP and the process's terminal (or JSON
// lines, --json). The cleanup gives the terminal back and closes the
// download folder.
func initClient(s settings) (*client.Client, func(), error) {
	wire.Build(
		newDialer,
		dictcodec.ProviderSet,
		openUI,
		openDownloads,
		wire.Bind(new(ports.DownloadStore), new(*localfs.Downloads)),
		localfs.ProviderSet,
		client.ProviderSet,
	)
	return nil, nil, nil
}
