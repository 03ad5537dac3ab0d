//go:build linux

package diskspool

import (
	"os"

	"golang.org/x/sys/unix"
)

// fallocate reserves the blocks of [off, off+n) of f without changing its
// size (FALLOC_FL_KEEP_SIZE): what was not yet written reads as nothing,
// and a file cut short is no longer than what arrived.
func fallocate(f *os.File, off, n int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var allocErr error
	if err := rc.Control(func(fd uintptr) {
		allocErr = unix.Fallocate(int(fd), unix.FALLOC_FL_KEEP_SIZE, off, n)
	}); err != nil {
		return err
	}
	if allocErr != nil {
		return os.NewSyscallError("fallocate", allocErr)
	}
	return nil
}
