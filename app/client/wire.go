package client

import "github.com/google/wire"

// ProviderSet provides the client from its ports.
var ProviderSet = wire.NewSet(New)
