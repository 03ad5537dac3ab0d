//go:build !linux

package diskspool

import (
	"errors"
	"os"
)

// fallocate is not tried outside Linux: the first call fails and the
// payload file is written without preallocation.
func fallocate(*os.File, int64, int64) error {
	return errors.ErrUnsupported
}
