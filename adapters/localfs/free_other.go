//go:build !linux && !darwin

package localfs

import "os"

// freeSpace cannot be known here: --min-free does not apply.
func freeSpace(*os.Root) (int64, bool) { return 0, false }
