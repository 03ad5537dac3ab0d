package tls

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeLog is a net.Conn that records each Write.
type writeLog struct {
	net.Conn // nil: only Write is called
	writes   []string
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func TestBatchingConnGathersTheRecordsOfOneWrite(t *testing.T) {
	raw := &writeLog{}
	b := &batchingConn{Conn: raw}

	_, err := b.Write([]byte("handshake"))
	require.NoError(t, err)
	b.begin()
	for _, rec := range []string{"rec1", "rec2", "rec3"} {
		_, err := b.Write([]byte(rec))
		require.NoError(t, err)
	}
	require.Equal(t, []string{"handshake"}, raw.writes, "nothing goes out before flush")
	require.NoError(t, b.flush())
	_, err = b.Write([]byte("alert"))
	require.NoError(t, err)

	assert.Equal(t, []string{"handshake", "rec1rec2rec3", "alert"}, raw.writes)
}

func TestBatchingConnFlushesNothingForAnEmptyBatch(t *testing.T) {
	raw := &writeLog{}
	b := &batchingConn{Conn: raw}

	b.begin()
	require.NoError(t, b.flush())

	assert.Empty(t, raw.writes)
}
