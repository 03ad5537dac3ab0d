package diskspool_test

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/diskspool"
	"pcx/adapters/framing"
)

// sizedSource holds data, says how much is left and could write it all
// out itself, as framing's payload reader can; it notes whether it was
// asked to.
type sizedSource struct {
	r       *bytes.Reader
	wroteTo bool
}

func (s *sizedSource) Read(p []byte) (int, error) { return s.r.Read(p) }
func (s *sizedSource) Len() int64                 { return int64(s.r.Len()) }

func (s *sizedSource) WriteTo(w io.Writer) (int64, error) {
	s.wroteTo = true
	return s.r.WriteTo(w)
}

func TestStoreReadsExactlyNBytesFromASourceThatCouldWriteItself(t *testing.T) {
	for _, held := range []int{5000, 5007} {
		s := newSpool(t, diskspool.Options{MemoryThreshold: -1})
		data := payload(held)
		src := &sizedSource{r: bytes.NewReader(data)}

		a, err := s.Store(5000, src)

		require.NoError(t, err)
		assert.False(t, src.wroteTo, "read in steps, each one's room taken before it is written (held %d)", held)
		assert.Equal(t, data[:5000], readAll(t, a))
		assert.Equal(t, int64(held-5000), src.Len(), "what is past n stays in the source")
		a.Release()
	}
}

// tcpConns returns framing Conns joined over loopback TCP, closed at
// cleanup.
func tcpConns(t *testing.T) (sender, receiver *framing.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	a, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	b := <-accepted
	require.NotNil(t, b)
	sender = framing.NewConn(a, framing.Options{WriteTimeout: 10 * time.Second})
	receiver = framing.NewConn(b, framing.Options{})
	t.Cleanup(func() {
		_ = sender.Close()
		_ = receiver.Close()
	})
	return sender, receiver
}

// sendPayloadThenRecord has sender send a payload frame, then a record.
func sendPayloadThenRecord(sender *framing.Conn, data []byte, record string) <-chan error {
	sent := make(chan error, 1)
	go func() {
		err := sender.Writer().WritePayload(int64(len(data)), bytes.NewReader(data))
		if err == nil {
			err = sender.Writer().WriteFrames([][]byte{[]byte(record)})
		}
		sent <- err
	}()
	return sent
}

func TestStoreFromAFramingPayloadOverLoopbackTCP(t *testing.T) {
	for _, size := range []int{100_000, 3<<20 + 7} {
		sender, receiver := tcpConns(t)
		s := newSpool(t, diskspool.Options{})
		want := payload(size)
		sent := sendPayloadThenRecord(sender, want, "next record")
		n, body, err := receiver.Reader().ReadPayload()
		require.NoError(t, err)

		a, err := s.Store(n, body)

		require.NoError(t, err)
		require.NoError(t, <-sent)
		assert.Nil(t, a.Bytes(), "on disk")
		assert.True(t, bytes.Equal(want, readAll(t, a)), "the file holds the payload byte for byte (%d bytes)", size)
		rec, err := receiver.Reader().ReadRecord(nil, 100)
		require.NoError(t, err)
		assert.Equal(t, "next record", string(rec), "the stream is in step after the payload")
		a.Release()
		assert.Zero(t, s.Used())
	}
}

func TestStoreFromAFramingPayloadCutOffOverLoopbackTCP(t *testing.T) {
	sender, receiver := tcpConns(t)
	s := newSpool(t, diskspool.Options{MaxBytes: 1 << 30})
	go func() {
		// Announce 1 MiB, send 200,000 bytes of it, hang up.
		_ = sender.Writer().WritePayload(1<<20, io.LimitReader(bytes.NewReader(payload(1<<20)), 200_000))
		_ = sender.Close()
	}()
	n, body, err := receiver.Reader().ReadPayload()
	require.NoError(t, err)

	a, err := s.Store(n, body)

	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.ErrorContains(t, err, "of 1048576 bytes")
	assert.Nil(t, a)
	assert.Empty(t, files(t, s), "the partial file is removed")
	assert.Zero(t, s.Used(), "the reservation is returned")
}
