package sysclock

import (
	"github.com/google/wire"

	"pcx/ports"
)

// ProviderSet provides the system clock as the Clock port.
var ProviderSet = wire.NewSet(New, wire.Bind(new(ports.Clock), new(Clock)))
