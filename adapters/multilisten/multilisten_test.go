package multilisten_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/adapters/memory"
	"pcx/adapters/multilisten"
	"pcx/ports"
	"pcx/ports/transporttest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// mergedPair listens on two addresses of an in-memory network and merges
// them; the dialer reaches either.
func mergedPair(t *testing.T) (*multilisten.Listener, *memory.Network, [2]string) {
	t.Helper()
	network := memory.NewNetwork()
	a, err := network.Listen("plain")
	require.NoError(t, err)
	b, err := network.Listen("tls")
	require.NoError(t, err)
	m := multilisten.Merge(a, b)
	t.Cleanup(func() { _ = m.Close() })
	return m, network, [2]string{a.Addr(), b.Addr()}
}

func TestListenerContract(t *testing.T) {
	transporttest.RunListenerContract(t, func(t *testing.T) (ports.Listener, ports.Dialer) {
		m, network, _ := mergedPair(t)
		return m, network
	})
}

func TestAcceptsFromEveryListener(t *testing.T) {
	m, network, addrs := mergedPair(t)
	for _, addr := range addrs {
		t.Run(addr, func(t *testing.T) {
			dialled := make(chan ports.Conn, 1)
			go func() {
				c, err := network.Dial(context.Background(), addr)
				assert.NoError(t, err)
				dialled <- c
			}()

			c, err := m.Accept()

			require.NoError(t, err)
			require.NoError(t, c.Close())
			if d := <-dialled; d != nil {
				require.NoError(t, d.Close())
			}
		})
	}
}

func TestAddrIsTheFirstListeners(t *testing.T) {
	m, _, addrs := mergedPair(t)

	assert.Equal(t, addrs[0], m.Addr())
}

func TestCloseClosesEveryListener(t *testing.T) {
	m, network, addrs := mergedPair(t)

	require.NoError(t, m.Close())

	for _, addr := range addrs {
		_, err := network.Dial(context.Background(), addr)
		assert.Error(t, err, addr)
	}
	_, err := m.Accept()
	assert.ErrorIs(t, err, ports.ErrClosed)
}
