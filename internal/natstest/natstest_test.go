package natstest_test

import (
	"testing"

	gonats "github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"pcx/internal/natstest"
)

// A restarted server listens on the port it had, with the store it had:
// a key written before the restart is there after it.
func TestRestartKeepsPortAndStore(t *testing.T) {
	s := natstest.Start(t)
	_, err := bucket(t, s.URL()).PutString("k", "v")
	require.NoError(t, err)

	url := s.URL()
	s = s.Restart()
	require.Equal(t, url, s.URL())
	e, err := bucket(t, s.URL()).Get("k")
	require.NoError(t, err)
	require.Equal(t, "v", string(e.Value()))
}

// bucket is the key-value bucket "b" of the server at url, made if new.
func bucket(t *testing.T, url string) gonats.KeyValue {
	t.Helper()
	nc, err := gonats.Connect(url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := nc.JetStream()
	require.NoError(t, err)
	kv, err := js.CreateKeyValue(&gonats.KeyValueConfig{Bucket: "b"})
	require.NoError(t, err)
	return kv
}
