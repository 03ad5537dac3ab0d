package framing_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/framing"
	"pcx/ports"
	"pcx/ports/transporttest"
)

func TestConnContractOverPipe(t *testing.T) {
	transporttest.RunConnContract(t, func(t *testing.T) (ports.Conn, ports.Conn) {
		a, b := net.Pipe()
		return framing.NewConn(a, framing.Options{}), framing.NewConn(b, framing.Options{})
	})
}

func TestConnContractOverPipeWithWriteTimeout(t *testing.T) {
	transporttest.RunConnContract(t, func(t *testing.T) (ports.Conn, ports.Conn) {
		a, b := net.Pipe()
		opts := framing.Options{WriteTimeout: 10 * time.Second}
		return framing.NewConn(a, opts), framing.NewConn(b, opts)
	})
}

func TestConnContractOverLoopbackTCP(t *testing.T) {
	transporttest.RunConnContract(t, func(t *testing.T) (ports.Conn, ports.Conn) {
		a, b := tcpPair(t)
		opts := framing.Options{WriteTimeout: 10 * time.Second}
		return framing.NewConn(a, opts), framing.NewConn(b, opts)
	})
}

func TestConnWriteTimeout(t *testing.T) {
	cases := []struct {
		name  string
		write func(c *framing.Conn) error
	}{
		{"WriteFrames", func(c *framing.Conn) error { return c.Writer().WriteFrames([][]byte{[]byte("hello")}) }},
		{"WritePayload", func(c *framing.Conn) error { return c.Writer().WritePayload(5, strings.NewReader("hello")) }},
	}
	for _, tc := range cases {
		t.Run(tc.name+" to a peer that never reads fails with a deadline error", func(t *testing.T) {
			a, b := net.Pipe()
			t.Cleanup(func() { _ = b.Close() })
			c := framing.NewConn(a, framing.Options{WriteTimeout: 50 * time.Millisecond})
			t.Cleanup(func() { _ = c.Close() })

			err := tc.write(c)

			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			assert.Equal(t, err, c.Writer().WriteFrames([][]byte{[]byte("again")}), "the connection is unusable after a failed write")
		})
	}
}

// slowReader reads from a connection in small steps with pauses between
// them: it keeps making progress, but takes far longer in all than the
// write timeout.
func slowReader(t *testing.T, peer net.Conn, total int) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		var out bytes.Buffer
		step := make([]byte, 256)
		for out.Len() < total {
			time.Sleep(25 * time.Millisecond)
			n, err := peer.Read(step)
			out.Write(step[:n])
			if err != nil {
				break
			}
		}
		got <- out.Bytes()
	}()
	return got
}

func TestConnWriteTimeoutBoundsStallsNotSlowProgress(t *testing.T) {
	// The receiver takes 256 bytes every 25 ms, so a chunk of 1 KiB takes
	// about 100 ms, well within the 500 ms timeout, while the whole 16 KiB
	// takes over 1.6 s, more than three timeouts.
	const timeout = 500 * time.Millisecond
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<10)
	frame := append(header(uint32(len(body))), body...)
	cases := []struct {
		name  string
		write func(c *framing.Conn) error
	}{
		{"WriteFrames", func(c *framing.Conn) error { return c.Writer().WriteFrames([][]byte{body}) }},
		{"WritePayload", func(c *framing.Conn) error { return c.Writer().WritePayload(int64(len(body)), bytes.NewReader(body)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name+" to a slow but steady reader succeeds", func(t *testing.T) {
			defer framing.SetWriteChunk(1 << 10)()
			a, b := net.Pipe()
			t.Cleanup(func() { _ = b.Close() })
			c := framing.NewConn(a, framing.Options{WriteTimeout: timeout})
			t.Cleanup(func() { _ = c.Close() })
			got := slowReader(t, b, len(frame))

			require.NoError(t, tc.write(c))

			assert.Equal(t, frame, <-got)
		})
		t.Run(tc.name+" in one chunk to the same reader is cut off, so the chunking is what saves it", func(t *testing.T) {
			a, b := net.Pipe()
			c := framing.NewConn(a, framing.Options{WriteTimeout: timeout})
			got := slowReader(t, b, len(frame))

			err := tc.write(c)

			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
			require.NoError(t, c.Close())
			<-got
		})
	}
}

func TestConnClose(t *testing.T) {
	t.Run("fails the read and the write in progress with ErrClosed", func(t *testing.T) {
		a, b := net.Pipe()
		t.Cleanup(func() { _ = b.Close() })
		c := framing.NewConn(a, framing.Options{})
		readErr := make(chan error, 1)
		writeErr := make(chan error, 1)
		go func() {
			_, err := c.Reader().ReadRecord(nil, 100)
			readErr <- err
		}()
		go func() { writeErr <- c.Writer().WriteFrames([][]byte{[]byte("never read")}) }()
		time.Sleep(20 * time.Millisecond) // let both block; they must fail either way

		closed := make(chan error, 2)
		go func() { closed <- c.Close() }()
		go func() { closed <- c.Close() }()

		assert.NoError(t, <-closed)
		assert.NoError(t, <-closed)
		assert.ErrorIs(t, <-readErr, ports.ErrClosed)
		assert.ErrorIs(t, <-writeErr, ports.ErrClosed)
	})
	t.Run("is idempotent", func(t *testing.T) {
		a, b := net.Pipe()
		t.Cleanup(func() { _ = b.Close() })
		c := framing.NewConn(a, framing.Options{})

		require.NoError(t, c.Close())
		assert.NoError(t, c.Close())
	})
	t.Run("a payload read in progress fails with ErrClosed", func(t *testing.T) {
		a, b := net.Pipe()
		t.Cleanup(func() { _ = b.Close() })
		c := framing.NewConn(a, framing.Options{})
		go func() { _, _ = b.Write(append(header(10), "abc"...)) }()
		_, body, err := c.Reader().ReadPayload()
		require.NoError(t, err)
		_, err = io.ReadFull(body, make([]byte, 3))
		require.NoError(t, err)

		require.NoError(t, c.Close())
		_, err = body.Read(make([]byte, 7))

		assert.ErrorIs(t, err, ports.ErrClosed)
	})
}

// tcpPair returns the two ends of a loopback TCP connection.
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
	return client, server
}

func TestConnChunkingKeepsTheBytesIntact(t *testing.T) {
	bodies := []string{"", "a", "0123456789", strings.Repeat("long body ", 30), "", "z"}
	want := wire(bodies...)
	for _, chunk := range []int{1, 3, 4, 5, 64, 1 << 20} {
		t.Run(fmt.Sprintf("chunks of %d bytes", chunk), func(t *testing.T) {
			defer framing.SetWriteChunk(chunk)()
			a, b := net.Pipe()
			t.Cleanup(func() { _ = b.Close() })
			c := framing.NewConn(a, framing.Options{WriteTimeout: 10 * time.Second})
			t.Cleanup(func() { _ = c.Close() })
			got := make(chan []byte, 1)
			go func() {
				buf := make([]byte, 2*len(want)+4+10)
				n, _ := io.ReadFull(b, buf)
				got <- buf[:n]
			}()

			require.NoError(t, c.Writer().WriteFrames(byteSlices(bodies...)))
			require.NoError(t, c.Writer().WritePayload(10, strings.NewReader("0123456789")))
			require.NoError(t, c.Writer().WriteFrames(byteSlices(bodies...)))
			require.NoError(t, c.Close())

			assert.Equal(t, slices.Concat(want, wire("0123456789"), want), <-got)
		})
	}
}

func TestFillPayloadReadsWaitsForAFullBuffer(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	reader := framing.NewConn(b, framing.Options{FillPayloadReads: true})
	defer reader.Close()
	body := bytes.Repeat([]byte("0123456789"), 30) // 300 bytes, sent 10 at a time
	go func() {
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
		a.Write(hdr[:])
		for chunk := range slices.Chunk(body, 10) {
			a.Write(chunk)
		}
	}()

	n, payload, err := reader.Reader().ReadPayload()
	require.NoError(t, err)
	require.Equal(t, int64(300), n)
	buf := make([]byte, 128)
	var sizes []int
	for {
		got, err := payload.Read(buf)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		sizes = append(sizes, got)
	}

	assert.Equal(t, []int{128, 128, 44}, sizes, "each read fills the buffer, the last stops at the body's end")
}
