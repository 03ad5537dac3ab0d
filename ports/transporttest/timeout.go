package transporttest

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/ports"
)

// RunReadTimeoutContract checks the read timeout of an adapter whose
// connections newPair makes with a read timeout of timeout: waiting for
// the next frame is never bounded by it, the caller's own deadline is told
// apart from it, and a frame that has begun and stops fails with
// ports.ErrStalled after about timeout, unless the linger of CloseWrite
// ended it first.
func RunReadTimeoutContract(t *testing.T, timeout time.Duration, newPair func(t *testing.T) (client, server ports.Conn)) {
	t.Run("idle between frames is not bounded", func(t *testing.T) {
		t.Parallel()
		client, server := newPair(t)
		sent := async(func() error {
			time.Sleep(2 * timeout)
			return client.Writer().WriteFrames([][]byte{[]byte("hello")})
		})
		body, err := server.Reader().ReadRecord(nil, recordLimit)
		require.NoError(t, err, "idle for longer than the read timeout before a frame is fine")
		assert.Equal(t, "hello", string(body))
		require.NoError(t, await(t, sent, "WriteFrames"))
	})
	t.Run("the caller's deadline is not a stall", func(t *testing.T) {
		t.Parallel()
		_, server := newPair(t)
		require.NoError(t, server.Reader().SetReadDeadline(time.Now().Add(timeout/3)))
		_, err := server.Reader().ReadRecord(nil, recordLimit)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		require.NotErrorIs(t, err, ports.ErrStalled)
	})
	t.Run("a frame begun that stops is cut off", func(t *testing.T) {
		t.Parallel()
		client, server := newPair(t)
		src := &stallingReader{data: []byte("half"), release: make(chan struct{})}
		sent := async(func() error { return client.Writer().WritePayload(10, src) })
		n, body, err := server.Reader().ReadPayload()
		require.NoError(t, err)
		require.Equal(t, int64(10), n)
		start := time.Now()
		err = await(t, async(func() error {
			_, err := io.ReadAll(body)
			return err
		}), "reading a stalled payload")
		require.ErrorIs(t, err, ports.ErrStalled)
		assert.GreaterOrEqual(t, time.Since(start), timeout/2)
		close(src.release)
		assert.Error(t, await(t, sent, "WritePayload"), "the writer's payload ran short")
	})
	// The linger of CloseWrite ends the wait: the peer did not stop, the
	// server stopped waiting, so it is no stall.
	t.Run("a linger that ends a frame begun is not a stall", func(t *testing.T) {
		t.Parallel()
		client, server := newPair(t)
		src := &stallingReader{data: []byte("half"), release: make(chan struct{})}
		sent := async(func() error { return client.Writer().WritePayload(10, src) })
		n, body, err := server.Reader().ReadPayload()
		require.NoError(t, err)
		require.Equal(t, int64(10), n)
		require.NoError(t, server.Writer().CloseWrite(timeout/3))
		err = await(t, async(func() error {
			_, err := io.ReadAll(body)
			return err
		}), "reading a payload through the linger")
		require.Error(t, err)
		require.NotErrorIs(t, err, ports.ErrStalled)
		close(src.release)
		assert.Error(t, await(t, sent, "WritePayload"), "the writer's payload ran short")
	})
}

// stallingReader yields data, then blocks until release and fails.
type stallingReader struct {
	data    []byte
	release chan struct{}
}

func (r *stallingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		<-r.release
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}
