package localfs

// SetFreeSpace replaces how d learns the free space, for tests.
func SetFreeSpace(d *Downloads, free func() (int64, bool)) { d.free = free }
