//go:build !linux

package framing

import "net"

// unsentBytes is nil where the send queue cannot be asked: the Conn then
// re-arms its write deadline per chunk instead of measuring progress.
func unsentBytes(net.Conn) func() (int, error) { return nil }
