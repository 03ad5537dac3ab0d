package localfs

import (
	"github.com/google/wire"

	"pcx/ports"
)

// ProviderSet provides the file opener as the UploadSource port. The
// download folder is opened by the command, from its settings.
var ProviderSet = wire.NewSet(NewUploads, wire.Bind(new(ports.UploadSource), new(Uploads)))
