package memory_test

import (
	"context"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/adapters/memory"
	"pcx/ports"
	"pcx/ports/transporttest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newListener(opts ...memory.Option) func(t *testing.T) (ports.Listener, ports.Dialer) {
	return func(t *testing.T) (ports.Listener, ports.Dialer) {
		n := memory.NewNetwork(opts...)
		l, err := n.Listen("chat:23480")
		require.NoError(t, err)
		return l, n
	}
}

func TestListenerContract(t *testing.T) {
	transporttest.RunListenerContract(t, newListener())
}

func TestListenerContractWithWriteTimeout(t *testing.T) {
	transporttest.RunListenerContract(t, newListener(memory.WithWriteTimeout(10*time.Second)))
}

func TestListen(t *testing.T) {
	t.Run("an address in use is refused", func(t *testing.T) {
		n := memory.NewNetwork()
		first, err := n.Listen("chat")
		require.NoError(t, err)
		t.Cleanup(func() { _ = first.Close() })

		_, err = n.Listen("chat")

		require.ErrorIs(t, err, syscall.EADDRINUSE)
		assert.EqualError(t, err, "memory: listen on chat: address already in use")
	})
	t.Run("a closed listener frees its address", func(t *testing.T) {
		n := memory.NewNetwork()
		first, err := n.Listen("chat")
		require.NoError(t, err)
		require.NoError(t, first.Close())

		second, err := n.Listen("chat")

		require.NoError(t, err)
		assert.NoError(t, second.Close())
	})
	t.Run("the same address on two networks is two listeners", func(t *testing.T) {
		a, err := memory.NewNetwork().Listen("chat")
		require.NoError(t, err)
		b, err := memory.NewNetwork().Listen("chat")
		require.NoError(t, err)

		assert.NoError(t, a.Close())
		assert.NoError(t, b.Close())
	})
}

func TestDial(t *testing.T) {
	t.Run("with nobody listening is refused", func(t *testing.T) {
		_, err := memory.NewNetwork().Dial(context.Background(), "nowhere")

		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.EqualError(t, err, "memory: dial nowhere: connection refused")
	})
	t.Run("a connection never accepted is closed with its listener", func(t *testing.T) {
		n := memory.NewNetwork()
		l, err := n.Listen("chat")
		require.NoError(t, err)
		client, err := n.Dial(context.Background(), "chat")
		require.NoError(t, err)
		t.Cleanup(func() { _ = client.Close() })

		require.NoError(t, l.Close())

		_, err = client.Reader().ReadRecord(nil, 100)
		assert.ErrorIs(t, err, io.EOF)
	})
	t.Run("connections name their ends", func(t *testing.T) {
		n := memory.NewNetwork()
		l, err := n.Listen("chat")
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Close() })
		client, err := n.Dial(context.Background(), "chat")
		require.NoError(t, err)
		t.Cleanup(func() { _ = client.Close() })
		server, err := l.Accept()
		require.NoError(t, err)
		t.Cleanup(func() { _ = server.Close() })

		assert.Equal(t, "chat", client.RemoteAddr())
		assert.Equal(t, "peer-1", server.RemoteAddr())
	})
}

func TestWriteTimeoutReachesTheConnections(t *testing.T) {
	n := memory.NewNetwork(memory.WithWriteTimeout(50 * time.Millisecond))
	l, err := n.Listen("chat")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	client, err := n.Dial(context.Background(), "chat")
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	server, err := l.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { _ = server.Close() })

	// Nobody reads either end, so both writes stall.
	assert.ErrorIs(t, server.Writer().WriteFrames([][]byte{[]byte("hello")}), os.ErrDeadlineExceeded)
	assert.ErrorIs(t, client.Writer().WriteFrames([][]byte{[]byte("hello")}), os.ErrDeadlineExceeded)
}
