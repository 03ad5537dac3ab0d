package framing

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// unsentBytes returns a function that tells how many bytes written to nc
// the peer has not yet taken (SIOCOUTQ: sent but unacknowledged, or not
// sent yet), or nil when nc is not a TCP connection.
func unsentBytes(nc net.Conn) func() (int, error) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return func() (int, error) {
		var n int
		var ioctlErr error
		if err := rc.Control(func(fd uintptr) { n, ioctlErr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil {
			return 0, fmt.Errorf("framing: send queue: %w", err)
		}
		if ioctlErr != nil {
			return 0, fmt.Errorf("framing: send queue: %w", ioctlErr)
		}
		return n, nil
	}
}
