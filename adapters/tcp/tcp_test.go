package tcp_test

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/adapters/tcp"
	"pcx/ports"
	"pcx/ports/transporttest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newLoopback(opts tcp.Options) func(t *testing.T) (ports.Listener, ports.Dialer) {
	return func(t *testing.T) (ports.Listener, ports.Dialer) {
		l, err := tcp.Listen("127.0.0.1:0", opts)
		require.NoError(t, err)
		return l, tcp.Dialer{Options: opts}
	}
}

func TestListenerContract(t *testing.T) {
	transporttest.RunListenerContract(t, newLoopback(tcp.Options{}))
}

func TestReadTimeoutContract(t *testing.T) {
	const timeout = 300 * time.Millisecond
	transporttest.RunReadTimeoutContract(t, timeout, transporttest.PairFromListener(newLoopback(tcp.Options{ReadTimeout: timeout})))
}

func TestListenerContractWithTimeoutsAndKeepAlive(t *testing.T) {
	transporttest.RunListenerContract(t, newLoopback(tcp.Options{
		WriteTimeout: 10 * time.Second,
		ReadTimeout:  10 * time.Second,
		KeepAlive:    net.KeepAliveConfig{Enable: true, Idle: time.Second, Interval: time.Second, Count: 2},
	}))
}

func TestListenOnAnAddressInUse(t *testing.T) {
	first, err := tcp.Listen("127.0.0.1:0", tcp.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Close() })

	_, err = tcp.Listen(first.Addr(), tcp.Options{})

	require.ErrorIs(t, err, syscall.EADDRINUSE)
	assert.EqualError(t, err, "tcp: listen on "+first.Addr()+": address already in use")
}

func TestDialWithNobodyListening(t *testing.T) {
	l, err := tcp.Listen("127.0.0.1:0", tcp.Options{})
	require.NoError(t, err)
	addr := l.Addr()
	require.NoError(t, l.Close())

	_, err = tcp.Dialer{}.Dial(context.Background(), addr)

	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.EqualError(t, err, "tcp: dial "+addr+": connection refused")
}

func TestAddrNamesTheBoundPort(t *testing.T) {
	l, err := tcp.Listen("127.0.0.1:0", tcp.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })

	host, port, err := net.SplitHostPort(l.Addr())

	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)
	assert.NotEqual(t, "0", port)
}

func TestCloseIsIdempotent(t *testing.T) {
	l, err := tcp.Listen("127.0.0.1:0", tcp.Options{})
	require.NoError(t, err)

	require.NoError(t, l.Close())
	assert.NoError(t, l.Close())
}
