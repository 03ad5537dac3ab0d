package tcp

import (
	"context"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// socketOptions reads the keep-alive and Nagle settings of a connection.
func socketOptions(t *testing.T, c net.Conn) map[string]int {
	t.Helper()
	raw, err := c.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	opts := map[string]int{}
	var sockErr error
	err = raw.Control(func(fd uintptr) {
		for name, opt := range map[string][2]int{
			"SO_KEEPALIVE":  {syscall.SOL_SOCKET, syscall.SO_KEEPALIVE},
			"TCP_KEEPIDLE":  {syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE},
			"TCP_KEEPINTVL": {syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL},
			"TCP_KEEPCNT":   {syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT},
			"TCP_NODELAY":   {syscall.IPPROTO_TCP, syscall.TCP_NODELAY},
		} {
			v, err := syscall.GetsockoptInt(int(fd), opt[0], opt[1])
			if err != nil {
				sockErr = err
			}
			opts[name] = v
		}
	})
	require.NoError(t, err)
	require.NoError(t, sockErr)
	return opts
}

func TestBothEndsProbeADeadPeerWithinAboutFifteenSeconds(t *testing.T) {
	opts := Options{}
	ln, err := opts.listenConfig().Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err := opts.dialer().DialContext(context.Background(), "tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	server := <-accepted
	require.NotNil(t, server)
	t.Cleanup(func() { _ = server.Close() })

	want := map[string]int{"SO_KEEPALIVE": 1, "TCP_KEEPIDLE": 5, "TCP_KEEPINTVL": 3, "TCP_KEEPCNT": 3, "TCP_NODELAY": 1}
	for name, c := range map[string]net.Conn{"dialled": client, "accepted": server} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, want, socketOptions(t, c))
		})
	}
}
