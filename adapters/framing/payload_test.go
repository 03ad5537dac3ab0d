package framing_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/framing"
	"pcx/ports"
)

// payloadWriterTo is what ReadPayload's reader offers beyond io.Reader.
type payloadWriterTo interface {
	io.Reader
	io.WriterTo
	Len() int64
}

// payloadSource is a Reader or a Conn's reading half.
type payloadSource interface {
	ReadPayload() (int64, io.Reader, error)
}

func readPayload(t *testing.T, r payloadSource) (int64, payloadWriterTo) {
	t.Helper()
	n, body, err := r.ReadPayload()
	require.NoError(t, err)
	p, ok := body.(payloadWriterTo)
	require.True(t, ok, "the payload reader has WriteTo and Len")
	return n, p
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(uint64(n), 5))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestPayloadWriteToOverAPlainReader(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 20_000)
	cases := []struct {
		name string
		body string
	}{
		{"empty payload", ""},
		{"payload inside the buffer", "file bytes"},
		{"payload larger than the read buffer", big},
	}
	dests := []struct {
		name string
		make func() io.Writer
	}{
		{"to a writer that reads for itself", func() io.Writer { return new(bytes.Buffer) }},
		{"to a plain writer", func() io.Writer { return &struct{ bytes.Buffer }{} }},
	}
	for _, tc := range cases {
		for _, shape := range readerShapes {
			for _, dest := range dests {
				t.Run(tc.name+"/"+shape.name+"/"+dest.name, func(t *testing.T) {
					r := framing.NewReader(shape.wrap(bytes.NewReader(wire(tc.body, "after"))))
					n, body := readPayload(t, r)
					require.Equal(t, int64(len(tc.body)), body.Len())
					w := dest.make()

					got, err := io.Copy(w, body)

					require.NoError(t, err)
					assert.Equal(t, n, got)
					assert.Equal(t, tc.body, w.(interface{ String() string }).String())
					assert.Zero(t, body.Len())
					rec, err := r.ReadRecord(nil, 10)
					require.NoError(t, err)
					assert.Equal(t, "after", string(rec), "the next frame is read in step")
				})
			}
		}
	}
}

func TestPayloadWriteToAfterPartialReads(t *testing.T) {
	body := strings.Repeat("abcdefghij", 10_000)
	r := framing.NewReader(bytes.NewReader(wire(body, "after")))
	_, p := readPayload(t, r)
	first := make([]byte, 7)
	_, err := io.ReadFull(p, first)
	require.NoError(t, err)
	assert.Equal(t, int64(len(body)-7), p.Len())

	var rest bytes.Buffer
	got, err := p.WriteTo(&rest)

	require.NoError(t, err)
	assert.Equal(t, int64(len(body)-7), got)
	assert.Equal(t, body, string(first)+rest.String())
	rec, err := r.ReadRecord(nil, 10)
	require.NoError(t, err)
	assert.Equal(t, "after", string(rec))
}

func TestPayloadWriteToCutShort(t *testing.T) {
	for _, shape := range readerShapes {
		t.Run(shape.name, func(t *testing.T) {
			r := framing.NewReader(shape.wrap(bytes.NewReader(append(header(100_000), "only this"...))))
			_, p := readPayload(t, r)
			var w bytes.Buffer

			got, err := p.WriteTo(&w)

			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			assert.Equal(t, int64(len("only this")), got)
			assert.Equal(t, "only this", w.String())
		})
	}
}

func TestStalePayloadWriteTo(t *testing.T) {
	r := framing.NewReader(bytes.NewReader(wire("old payload", "next")))
	_, p := readPayload(t, r)
	_, err := r.ReadRecord(nil, 10)
	require.NoError(t, err)

	var w bytes.Buffer
	got, err := p.WriteTo(&w)

	require.ErrorIs(t, err, framing.ErrStalePayload)
	assert.Zero(t, got)
	assert.Empty(t, w.String())
	assert.Zero(t, p.Len(), "a stale reader has nothing left")
}

var errDiskFull = errors.New("disk full")

func TestPayloadWriteToAWriterThatFailsKeepsTheStreamInStep(t *testing.T) {
	body := strings.Repeat("x", 50_000)
	for _, limit := range []int{0, 10, 30_000} {
		// A record first, so that the payload begins in the Reader's buffer.
		r := framing.NewReader(bytes.NewReader(wire("before", body, "after")))
		_, err := r.ReadRecord(nil, 10)
		require.NoError(t, err)
		_, p := readPayload(t, r)
		w := &failingWriter{after: limit, err: errDiskFull}

		got, err := p.WriteTo(w)

		require.ErrorIs(t, err, errDiskFull)
		assert.Equal(t, int64(limit), got)
		if limit < 1000 {
			// Refused while the buffered bytes were handed over: those
			// stay unread. Later, like io.Copy, what was read is consumed.
			assert.Equal(t, int64(len(body)-limit), p.Len(), "what the writer refused is still unread")
		}
		rec, err := r.ReadRecord(nil, 10)
		require.NoError(t, err)
		assert.Equal(t, "after", string(rec))
	}
}

// tcpConns returns two Conns joined over loopback TCP, closed at cleanup.
func tcpConns(t *testing.T) (sender, receiver *framing.Conn) {
	t.Helper()
	a, b := tcpPair(t)
	sender = framing.NewConn(a, framing.Options{WriteTimeout: 10 * time.Second})
	receiver = framing.NewConn(b, framing.Options{})
	t.Cleanup(func() {
		_ = sender.Close()
		_ = receiver.Close()
	})
	return sender, receiver
}

func TestPayloadWriteToFileOverLoopbackTCP(t *testing.T) {
	payload := randomBytes(3<<20 + 123)
	a, b := tcpPair(t)
	receiver := framing.NewConn(b, framing.Options{})
	t.Cleanup(func() {
		_ = a.Close()
		_ = receiver.Close()
	})
	// The record, the payload's header and its first bytes arrive first,
	// the rest only once the receiver holds them in its buffer.
	head := append(wire("record"), header(uint32(len(payload)))...)
	head = append(head, payload[:1000]...)
	rest := append(payload[1000:], wire("after")...)
	_, err := a.Write(head)
	require.NoError(t, err)
	sent := make(chan error, 1)
	goOn := make(chan struct{})
	go func() {
		<-goOn
		_, err := a.Write(rest)
		sent <- err
	}()

	rec, err := receiver.Reader().ReadRecord(nil, 100)
	require.NoError(t, err)
	require.Equal(t, "record", string(rec))
	n, p := readPayload(t, receiver.Reader())
	require.Equal(t, int64(len(payload)), n)
	require.Positive(t, framing.ConnBuffered(receiver), "part of the payload is already in the buffer")
	close(goOn)
	f, err := os.Create(filepath.Join(t.TempDir(), "payload"))
	require.NoError(t, err)
	defer f.Close()

	got, err := io.Copy(f, p)

	require.NoError(t, err)
	require.NoError(t, <-sent)
	assert.Equal(t, n, got)
	onDisk, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.True(t, bytes.Equal(payload, onDisk), "the file holds the payload byte for byte")
	rec, err = receiver.Reader().ReadRecord(nil, 100)
	require.NoError(t, err)
	assert.Equal(t, "after", string(rec), "the next frame is read in step")
}

// sourceSpy is a destination that reads for itself and notes what it was
// given to read from.
type sourceSpy struct {
	bytes.Buffer
	src io.Reader
}

func (s *sourceSpy) ReadFrom(r io.Reader) (int64, error) {
	s.src = r
	return s.Buffer.ReadFrom(r)
}

func TestPayloadWriteToAReaderFromReadsThroughTheReader(t *testing.T) {
	sender, receiver := tcpConns(t)
	payload := randomBytes(1 << 20)
	sent := sendPayloadThenRecord(sender, payload, "after")
	_, p := readPayload(t, receiver.Reader())
	dst := new(sourceSpy)

	_, err := io.Copy(dst, p)

	require.NoError(t, err)
	require.NoError(t, <-sent)
	assert.True(t, bytes.Equal(payload, dst.Bytes()))
	_, isConn := dst.src.(net.Conn)
	_, isLimited := dst.src.(*io.LimitedReader)
	assert.False(t, isConn || isLimited, "the connection is never handed out, got %T", dst.src)
	_, hasWriteTo := dst.src.(io.WriterTo)
	assert.False(t, hasWriteTo, "the source hides WriteTo, which would call ReadFrom again")
	rec, err := receiver.Reader().ReadRecord(nil, 100)
	require.NoError(t, err)
	assert.Equal(t, "after", string(rec), "the next frame is read in step")
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

func TestPayloadWriteToAPlainWriterOverLoopbackTCP(t *testing.T) {
	sender, receiver := tcpConns(t)
	payload := randomBytes(2<<20 + 5)
	sent := make(chan error, 1)
	go func() {
		err := sender.Writer().WritePayload(int64(len(payload)), bytes.NewReader(payload))
		if err == nil {
			err = sender.Writer().WriteFrames([][]byte{[]byte("after")})
		}
		sent <- err
	}()
	_, p := readPayload(t, receiver.Reader())
	h := sha256.New() // no ReadFrom: the body goes through the buffer

	got, err := io.Copy(h, p)

	require.NoError(t, err)
	require.NoError(t, <-sent)
	assert.Equal(t, int64(len(payload)), got)
	want := sha256.Sum256(payload)
	assert.Equal(t, want[:], h.Sum(nil))
	rec, err := receiver.Reader().ReadRecord(nil, 100)
	require.NoError(t, err)
	assert.Equal(t, "after", string(rec))
}

func TestPayloadWriteToFileCutShortOverLoopbackTCP(t *testing.T) {
	a, b := tcpPair(t)
	receiver := framing.NewConn(b, framing.Options{})
	t.Cleanup(func() { _ = receiver.Close() })
	sent := randomBytes(200_000)
	go func() {
		_, _ = a.Write(append(header(1<<20), sent...))
		_ = a.Close() // the peer goes away inside the payload
	}()
	_, p := readPayload(t, receiver.Reader())
	f, err := os.Create(filepath.Join(t.TempDir(), "payload"))
	require.NoError(t, err)
	defer f.Close()

	got, err := io.Copy(f, p)

	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, int64(len(sent)), got)
	onDisk, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.True(t, bytes.Equal(sent, onDisk))
	assert.Zero(t, framing.ConnBuffered(receiver))
}

// brokenDestination reads some bytes from its source, then fails, the way a
// file fails when the disk fills.
type brokenDestination struct{ take int64 }

func (d brokenDestination) Write(p []byte) (int, error) { return len(p), nil }

func (d brokenDestination) ReadFrom(r io.Reader) (int64, error) {
	_, _ = io.CopyN(io.Discard, r, d.take)
	return 0, errDiskFull
}

func TestFailedPayloadCopyToAReaderFromKeepsTheStreamInStep(t *testing.T) {
	sender, receiver := tcpConns(t)
	sent := sendPayloadThenRecord(sender, randomBytes(1<<20), "after")
	_, p := readPayload(t, receiver.Reader())

	_, err := io.Copy(brokenDestination{take: 5000}, p)

	require.ErrorIs(t, err, errDiskFull)
	assert.Positive(t, p.Len(), "the rest of the body is still unread")
	rec, err := receiver.Reader().ReadRecord(nil, 100)
	require.NoError(t, err, "the rest of the payload is skipped")
	assert.Equal(t, "after", string(rec))
	require.NoError(t, <-sent)
}

// stalledPayload has a raw peer send the header of a 1 MiB payload and its
// first bytes, then nothing; it returns the peer, the receiver and its
// payload reader, and a file to copy the payload to.
func stalledPayload(t *testing.T, opts framing.Options) (net.Conn, *framing.Conn, payloadWriterTo, *os.File) {
	t.Helper()
	a, b := tcpPair(t)
	receiver := framing.NewConn(b, opts)
	t.Cleanup(func() {
		_ = a.Close()
		_ = receiver.Close()
	})
	_, err := a.Write(append(header(1<<20), "start"...))
	require.NoError(t, err)
	_, p := readPayload(t, receiver.Reader())
	f, err := os.Create(filepath.Join(t.TempDir(), "payload"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return a, receiver, p, f
}

func TestPayloadCopyToAFileFailsOnTheReadDeadlineAndStaysInStep(t *testing.T) {
	peer, receiver, p, f := stalledPayload(t, framing.Options{})
	require.NoError(t, receiver.Reader().SetReadDeadline(time.Now().Add(50*time.Millisecond)))

	got, err := io.Copy(f, p)

	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.Equal(t, int64(len("start")), got)
	require.NoError(t, receiver.Reader().SetReadDeadline(time.Time{}))
	go func() { _, _ = peer.Write(append(make([]byte, 1<<20-len("start")), wire("after")...)) }()
	rec, err := receiver.Reader().ReadRecord(nil, 100)
	require.NoError(t, err, "the interrupted payload is skipped")
	assert.Equal(t, "after", string(rec))
}

func TestPayloadCopyToAFileFailsWithErrClosedOnClose(t *testing.T) {
	_, receiver, p, f := stalledPayload(t, framing.Options{})
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(f, p)
		copied <- err
	}()

	require.NoError(t, receiver.Close())

	require.ErrorIs(t, <-copied, ports.ErrClosed)
	_, err := receiver.Reader().ReadRecord(nil, 100)
	assert.ErrorIs(t, err, ports.ErrClosed, "the next read, skipping the rest, fails the same way")
}

// TestPayloadCopyToAFileRestartsTheReadTimeoutOnEachRead has a peer send a
// payload in pieces spaced well within the read timeout, for several
// times the timeout in all, then stop: the copy takes every piece and
// fails only on the stall.
func TestPayloadCopyToAFileRestartsTheReadTimeoutOnEachRead(t *testing.T) {
	const timeout = 300 * time.Millisecond
	const pieces, pieceLen = 10, 10_000
	peer, _, p, f := stalledPayload(t, framing.Options{ReadTimeout: timeout})
	go func() {
		for range pieces {
			time.Sleep(timeout / 6)
			if _, err := peer.Write(make([]byte, pieceLen)); err != nil {
				return
			}
		}
	}()

	got, err := io.Copy(f, p)

	require.ErrorIs(t, err, ports.ErrStalled)
	assert.Equal(t, int64(len("start")+pieces*pieceLen), got, "every piece arrived before the stall")
}

// readSizes notes the largest read asked of it.
type readSizes struct {
	r   io.Reader
	max int
}

func (s *readSizes) Read(p []byte) (int, error) {
	s.max = max(s.max, len(p))
	return s.r.Read(p)
}

func TestPayloadWriteToAPlainWriterReadsInLargeSteps(t *testing.T) {
	src := &readSizes{r: bytes.NewReader(wire(strings.Repeat("y", 1<<20)))}
	r := framing.NewReader(src)
	_, p := readPayload(t, r)
	h := sha256.New()

	// The caller's small buffer goes unused: io.CopyBuffer calls WriteTo.
	got, err := io.CopyBuffer(h, p, make([]byte, 512))

	require.NoError(t, err)
	assert.Equal(t, int64(1<<20), got)
	assert.GreaterOrEqual(t, src.max, 256<<10, "a large payload is read in large steps, past the Reader's buffer")
}

// scriptedSource returns its chunks one Read at a time, an error where a
// chunk is nil.
type scriptedSource struct{ chunks [][]byte }

var errTimeout = errors.New("timeout")

func (s *scriptedSource) Read(p []byte) (int, error) {
	if len(s.chunks) == 0 {
		return 0, io.EOF
	}
	c := s.chunks[0]
	if c == nil {
		s.chunks = s.chunks[1:]
		return 0, errTimeout
	}
	n := copy(p, c)
	if n == len(c) {
		s.chunks = s.chunks[1:]
	} else {
		s.chunks[0] = c[n:]
	}
	return n, nil
}

func TestAnIdleReaderFinishesAHeaderCutShortByAnError(t *testing.T) {
	src := &scriptedSource{chunks: [][]byte{{0, 0}, nil, {0, 3}, []byte("abc"), nil, {0, 0, 0}, {1, 'z'}}}
	r := framing.NewReader(src)

	_, err := r.ReadRecord(nil, 10)
	require.ErrorIs(t, err, errTimeout)
	rec, err := r.ReadRecord(nil, 10)
	require.NoError(t, err, "the two header bytes that came before the error count")
	assert.Equal(t, "abc", string(rec))

	_, err = r.ReadRecord(nil, 10)
	require.ErrorIs(t, err, errTimeout)
	rec, err = r.ReadRecord(nil, 10)
	require.NoError(t, err)
	assert.Equal(t, "z", string(rec))
	_, err = r.ReadRecord(nil, 10)
	assert.ErrorIs(t, err, io.EOF)
}
