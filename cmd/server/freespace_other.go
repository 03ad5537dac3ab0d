//go:build !linux

package main

import "errors"

// freeSpace is not known here: --max-spool auto falls back to a fixed
// limit.
func freeSpace(string) (int64, error) {
	return 0, errors.New("free space is known on Linux only")
}
