package tls

import (
	"bytes"
	"io"
	"net"
	"os"
	"testing"
	"time"

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

// tcpPair is a connected pair of loopback TCP sockets.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	server = <-accepted
	require.NotNil(t, server)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func TestReadAheadTakesWhatTheSocketHoldsAndHoldsNoBufferWhenDrained(t *testing.T) {
	client, server := tcpPair(t)
	b := newBatchingConn(server)
	require.NotNil(t, b.raw)
	sent := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16,000 bytes
	_, err := client.Write(sent)
	require.NoError(t, err)

	var got []byte
	buf := make([]byte, 100)
	for len(got) < len(sent) {
		n, err := b.Read(buf)
		require.NoError(t, err)
		got = append(got, buf[:n]...)
	}

	assert.Equal(t, sent, got)
	assert.Nil(t, b.aheadBuf, "a drained connection holds no buffer")
	assert.Empty(t, b.ahead)
}

func TestReadAheadHonoursTheDeadlineAndTheEnd(t *testing.T) {
	client, server := tcpPair(t)
	b := newBatchingConn(server)
	buf := make([]byte, 10)

	require.NoError(t, b.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, err := b.Read(buf)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Nil(t, b.aheadBuf, "no buffer is held while waiting")

	require.NoError(t, b.SetReadDeadline(time.Time{}))
	_, err = client.Write([]byte("late"))
	require.NoError(t, err)
	n, err := b.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "late", string(buf[:n]), "the connection is usable after a deadline")

	require.NoError(t, client.Close())
	_, err = b.Read(buf)
	assert.ErrorIs(t, err, io.EOF)
}
