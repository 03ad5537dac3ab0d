package nats_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	pcxnats "pcx/adapters/nats"
)

// dial connects node to the servers at urls; the connection is closed at
// the end of the test.
func dial(t *testing.T, node string, urls ...string) *pcxnats.Conn {
	t.Helper()
	c, err := pcxnats.Dial(pcxnats.Options{URLs: urls, Node: node, ReconnectWait: 100 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}
