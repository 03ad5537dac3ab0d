//go:build linux || darwin

package localfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// freeSpace is the space left to an unprivileged user on the file system
// that holds root.
func freeSpace(root *os.Root) (int64, bool) {
	f, err := root.Open(".")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}
