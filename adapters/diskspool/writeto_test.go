package diskspool_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/diskspool"
	"pcx/adapters/framing"
)

// sizedSource holds data and says how much is left; it notes whether it was
// asked to write itself out.
type sizedSource struct {
	r       *bytes.Reader
	wroteTo bool
	// write, if set, replaces the honest WriteTo.
	write func(w io.Writer) (int64, error)
}

func newSizedSource(data []byte) *sizedSource {
	return &sizedSource{r: bytes.NewReader(data)}
}

func (s *sizedSource) Read(p []byte) (int, error) { return s.r.Read(p) }
func (s *sizedSource) Len() int64                 { return int64(s.r.Len()) }

func (s *sizedSource) WriteTo(w io.Writer) (int64, error) {
	s.wroteTo = true
	if s.write != nil {
		return s.write(w)
	}
	return s.r.WriteTo(w)
}

func TestStoreLetsASourceOfExactlyNBytesWriteItself(t *testing.T) {
	for _, tt := range []struct {
		name        string
		direct      bool
		held        int
		wantWroteTo bool
	}{
		{"source of exactly n bytes writes itself out", true, 5000, true},
		{"source of more than n bytes is read up to n", true, 5007, false},
		{"without DirectCopy every source is read", false, 5000, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpool(t, diskspool.Options{MemoryThreshold: -1, DirectCopy: tt.direct})
			data := payload(tt.held)
			src := newSizedSource(data)

			a, err := s.Store(5000, src)

			require.NoError(t, err)
			defer a.Release()
			assert.Equal(t, tt.wantWroteTo, src.wroteTo)
			assert.Equal(t, data[:5000], readAll(t, a))
			assert.Equal(t, int64(tt.held-5000), src.Len(), "what is past n stays in the source")
		})
	}
}

func TestStoreFromASourceThatWritesBadly(t *testing.T) {
	errReset := errors.New("connection reset")
	for _, tt := range []struct {
		name     string
		write    func(w io.Writer) (int64, error)
		wantIs   error
		wantText string
	}{
		{
			name: "cut off inside the payload",
			write: func(w io.Writer) (int64, error) {
				n, _ := w.Write(payload(300))
				return int64(n), io.ErrUnexpectedEOF
			},
			wantIs:   io.ErrUnexpectedEOF,
			wantText: "diskspool: copying payload into the spool file after 300 of 5000 bytes",
		},
		{
			name: "failed with the connection",
			write: func(w io.Writer) (int64, error) {
				n, _ := w.Write(payload(10))
				return int64(n), errReset
			},
			wantIs:   errReset,
			wantText: "diskspool: copying payload into the spool file after 10 of 5000 bytes",
		},
		{
			name:     "bare io.EOF counts as cut off",
			write:    func(io.Writer) (int64, error) { return 0, io.EOF },
			wantIs:   io.ErrUnexpectedEOF,
			wantText: "diskspool: copying payload into the spool file after 0 of 5000 bytes",
		},
		{
			name: "short without an error",
			write: func(w io.Writer) (int64, error) {
				n, err := w.Write(payload(4999))
				return int64(n), err
			},
			wantIs:   io.ErrUnexpectedEOF,
			wantText: "diskspool: payload cut off after 4999 of 5000 bytes",
		},
		{
			name: "more than it said it held",
			write: func(w io.Writer) (int64, error) {
				n, err := w.Write(payload(5001))
				return int64(n), err
			},
			wantText: "diskspool: payload source wrote 5001 bytes, more than the 5000 it said it held",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpool(t, diskspool.Options{MemoryThreshold: -1, MaxBytes: 1 << 20, DirectCopy: true})
			src := newSizedSource(payload(5000))
			src.write = tt.write

			a, err := s.Store(5000, src)

			require.Error(t, err)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			assert.ErrorContains(t, err, tt.wantText)
			assert.Nil(t, a)
			assert.Empty(t, files(t, s), "the partial file is removed")
			assert.Zero(t, s.Used(), "the reservation is returned")
		})
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
		err := sender.WritePayload(int64(len(data)), bytes.NewReader(data))
		if err == nil {
			err = sender.WriteFrames([][]byte{[]byte(record)})
		}
		sent <- err
	}()
	return sent
}

func TestStoreFromAFramingPayloadOverLoopbackTCP(t *testing.T) {
	for _, tt := range []struct {
		size   int
		direct bool
	}{{100_000, false}, {100_000, true}, {3<<20 + 7, false}, {3<<20 + 7, true}} {
		size := tt.size
		sender, receiver := tcpConns(t)
		s := newSpool(t, diskspool.Options{DirectCopy: tt.direct})
		want := payload(size)
		sent := sendPayloadThenRecord(sender, want, "next record")
		n, body, err := receiver.ReadPayload()
		require.NoError(t, err)

		a, err := s.Store(n, body)

		require.NoError(t, err)
		require.NoError(t, <-sent)
		assert.Nil(t, a.Bytes(), "on disk")
		assert.True(t, bytes.Equal(want, readAll(t, a)), "the file holds the payload byte for byte (%d bytes, direct %v)", size, tt.direct)
		rec, err := receiver.ReadRecord(nil, 100)
		require.NoError(t, err)
		assert.Equal(t, "next record", string(rec), "the stream is in step after the payload")
		a.Release()
		assert.Zero(t, s.Used())
	}
}

func TestStoreFromAFramingPayloadCutOffOverLoopbackTCP(t *testing.T) {
	for _, direct := range []bool{false, true} {
		storeCutOff(t, direct)
	}
}

func storeCutOff(t *testing.T, direct bool) {
	t.Helper()
	sender, receiver := tcpConns(t)
	s := newSpool(t, diskspool.Options{MaxBytes: 1 << 30, DirectCopy: direct})
	go func() {
		// Announce 1 MiB, send 200,000 bytes of it, hang up.
		_ = sender.WritePayload(1<<20, io.LimitReader(bytes.NewReader(payload(1<<20)), 200_000))
		_ = sender.Close()
	}()
	n, body, err := receiver.ReadPayload()
	require.NoError(t, err)

	a, err := s.Store(n, body)

	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.ErrorContains(t, err, "of 1048576 bytes")
	assert.Nil(t, a)
	assert.Empty(t, files(t, s), "the partial file is removed")
	assert.Zero(t, s.Used(), "the reservation is returned")
}
