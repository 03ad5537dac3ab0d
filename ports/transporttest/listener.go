package transporttest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/ports"
)

// RunListenerContract checks that a listener made by newListener, and the
// dialer that goes with it, behave as ports.Listener and ports.Dialer
// promise; it also runs the Conn contract over the connections they make.
// The suite closes the listener; closing it twice must be harmless.
func RunListenerContract(t *testing.T, newListener func(t *testing.T) (ports.Listener, ports.Dialer)) {
	listen := func(t *testing.T) (ports.Listener, ports.Dialer) {
		l, d := newListener(t)
		t.Cleanup(func() { _ = l.Close() })
		return l, d
	}
	t.Run("a dialled connection is accepted and carries frames both ways", func(t *testing.T) { dialAndAccept(t, listen) })
	t.Run("several peers are accepted", func(t *testing.T) { severalPeers(t, listen) })
	t.Run("Accept after Close gives ErrClosed", func(t *testing.T) {
		l, _ := listen(t)
		require.NoError(t, l.Close())

		_, err := l.Accept()

		assert.ErrorIs(t, err, ports.ErrClosed)
	})
	t.Run("Close unblocks a pending Accept", func(t *testing.T) { closeUnblocksAccept(t, listen) })
	t.Run("dialling a closed listener fails", func(t *testing.T) {
		l, d := listen(t)
		addr := l.Addr()
		require.NoError(t, l.Close())

		_, err := d.Dial(context.Background(), addr)

		assert.Error(t, err)
	})
	t.Run("dialling with a cancelled context fails", func(t *testing.T) {
		l, d := listen(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		_, err := d.Dial(ctx, l.Addr())

		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("Conn", func(t *testing.T) {
		RunConnContract(t, PairFromListener(newListener))
	})
}

// PairFromListener turns a listener factory into a connection-pair factory
// for RunConnContract: the client end is dialled, the server end accepted.
func PairFromListener(newListener func(t *testing.T) (ports.Listener, ports.Dialer)) func(t *testing.T) (client, server ports.Conn) {
	return func(t *testing.T) (ports.Conn, ports.Conn) {
		l, d := newListener(t)
		t.Cleanup(func() { _ = l.Close() })
		return connect(t, l, d)
	}
}

// connect dials l and returns both ends of the new connection.
func connect(t *testing.T, l ports.Listener, d ports.Dialer) (client, server ports.Conn) {
	t.Helper()
	accepted := make(chan ports.Conn, 1)
	acceptErr := async(func() error {
		c, err := l.Accept()
		accepted <- c
		return err
	})
	client = dial(t, d, l.Addr())
	closeOnCleanup(t, client)
	require.NoError(t, await(t, acceptErr, "Accept"))
	server = <-accepted
	closeOnCleanup(t, server)
	return client, server
}

func dialAndAccept(t *testing.T, listen func(t *testing.T) (ports.Listener, ports.Dialer)) {
	l, d := listen(t)
	client, server := connect(t, l, d)

	sent := writeRecords(client, "ping")
	assert.Equal(t, []string{"ping"}, readRecords(t, server, 1))
	require.NoError(t, await(t, sent, "client write"))
	sent = writeRecords(server, "pong")
	assert.Equal(t, []string{"pong"}, readRecords(t, client, 1))
	require.NoError(t, await(t, sent, "server write"))
}

func severalPeers(t *testing.T, listen func(t *testing.T) (ports.Listener, ports.Dialer)) {
	l, d := listen(t)
	const peers = 5
	for i := range peers {
		client, server := connect(t, l, d)
		name := string(rune('a' + i))
		sent := writeRecords(client, name)
		assert.Equal(t, []string{name}, readRecords(t, server, 1))
		require.NoError(t, await(t, sent, "write"))
	}
}

func closeUnblocksAccept(t *testing.T, listen func(t *testing.T) (ports.Listener, ports.Dialer)) {
	l, _ := listen(t)
	accepted := async(func() error {
		c, err := l.Accept()
		if err == nil {
			_ = c.Close()
			return errors.New("Accept returned a connection nobody dialled")
		}
		return err
	})

	require.NoError(t, l.Close())

	assert.ErrorIs(t, await(t, accepted, "Accept after Close"), ports.ErrClosed)
}
