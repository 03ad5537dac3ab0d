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
		dictcodec.New,
		wire.Bind(new(ports.ClientCodec), new(*dictcodec.Codec)),
		openUI,
		openDownloads,
		wire.Bind(new(ports.DownloadStore), new(*localfs.Downloads)),
		localfs.NewUploads,
		wire.Bind(new(ports.UploadSource), new(localfs.Uploads)),
		client.New,
	)
	return nil, nil, nil
}
