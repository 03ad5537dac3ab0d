package dictcodec

import (
	"github.com/google/wire"

	"pcx/ports"
)

// ProviderSet provides the codec as both ends of the connection see it.
var ProviderSet = wire.NewSet(
	New,
	wire.Bind(new(ports.ServerCodec), new(*Codec)),
	wire.Bind(new(ports.ClientCodec), new(*Codec)),
)
