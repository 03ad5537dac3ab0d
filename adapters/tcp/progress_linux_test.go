package tcp_test

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/tcp"
	"pcx/ports"
)

// pair returns the server side of a loopback connection made with opts
// and the raw client side, whose receive buffer is rcvbuf bytes when
// rcvbuf > 0 (set before the handshake, so the window stays small).
func pair(t *testing.T, opts tcp.Options, rcvbuf int) (ports.Conn, net.Conn) {
	t.Helper()
	l, err := tcp.Listen("127.0.0.1:0", opts)
	require.NoError(t, err)
	defer l.Close()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		if rcvbuf <= 0 {
			return nil
		}
		var sockErr error
		err := rc.Control(func(fd uintptr) {
			sockErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		})
		return errors.Join(err, sockErr)
	}}
	client, err := d.Dial("tcp", l.Addr())
	require.NoError(t, err)
	server, err := l.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// The write timeout counts time in which the peer took nothing, not the
// length of a write: a peer that reads a large frame slowly outlives many
// timeouts, and is given up about one timeout after it stops.
func TestSlowSteadyReaderOutlivesTheWriteTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 400 * time.Millisecond
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB: more than the kernel buffers absorb
	path := filepath.Join(t.TempDir(), "payload")
	require.NoError(t, os.WriteFile(path, big, 0o600))

	for _, tc := range []struct {
		name  string
		write func(c ports.Conn) error
	}{
		{"frames from memory", func(c ports.Conn) error { return c.Writer().WriteFrames([][]byte{big}) }},
		{"a payload from a file (sendfile)", func(c ports.Conn) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			return c.Writer().WritePayload(int64(len(big)), f)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			server, client := pair(t, tcp.Options{WriteTimeout: timeout}, 4<<10)
			done := make(chan error, 1)
			go func() { done <- tc.write(server) }()

			// About 40 KiB/s for five timeouts, far less than the write: with a
			// receive buffer of 8 KiB the window opens every 100 ms or so.
			buf := make([]byte, 2<<10)
			for start := time.Now(); time.Since(start) < 5*timeout; time.Sleep(50 * time.Millisecond) {
				require.NoError(t, client.SetReadDeadline(time.Now().Add(time.Second)))
				_, err := client.Read(buf)
				require.NoError(t, err)
			}
			select {
			case err := <-done:
				t.Fatalf("the write ended while the peer was still reading: %v", err)
			default:
			}

			stoppedAt := time.Now()
			select {
			case err := <-done:
				require.ErrorIs(t, err, os.ErrDeadlineExceeded)
				assert.Less(t, time.Since(stoppedAt), 2*timeout+time.Second)
			case <-time.After(10 * timeout):
				t.Fatal("a peer that stopped reading was not given up")
			}
		})
	}
}

// A peer that never reads is given up after the write timeout.
func TestStalledReaderFailsTheWrite(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	server, _ := pair(t, tcp.Options{WriteTimeout: timeout}, 4<<10)
	start := time.Now()
	err := server.Writer().WriteFrames([][]byte{make([]byte, 8<<20)})
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), timeout*7/8)
	assert.Less(t, time.Since(start), 2*timeout+time.Second)
}
