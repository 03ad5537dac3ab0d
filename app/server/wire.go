package server

import "github.com/google/wire"

// ProviderSet provides the server from its ports.
var ProviderSet = wire.NewSet(New)
