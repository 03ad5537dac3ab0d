package framing_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/framing"
)

func TestWriteFramesPutsEachBodyBehindItsLength(t *testing.T) {
	cases := []struct {
		name   string
		bodies []string
		want   []byte
	}{
		{"no frames", nil, nil},
		{"one record", []string{"abc"}, []byte{0, 0, 0, 3, 'a', 'b', 'c'}},
		{"empty body", []string{""}, []byte{0, 0, 0, 0}},
		{"several frames in order", []string{"a", "", "bc"}, []byte{0, 0, 0, 1, 'a', 0, 0, 0, 0, 0, 0, 0, 2, 'b', 'c'}},
		{"a body of 256 bytes", []string{strings.Repeat("x", 256)}, append([]byte{0, 0, 1, 0}, strings.Repeat("x", 256)...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := framing.NewWriter(&out)

			require.NoError(t, w.WriteFrames(byteSlices(tc.bodies...)))

			assert.Equal(t, tc.want, nonNil(out.Bytes()))
		})
	}
}

func TestWriteFramesLeavesTheBodiesAlone(t *testing.T) {
	bodies := byteSlices("one", "two")
	var out bytes.Buffer

	require.NoError(t, framing.NewWriter(&out).WriteFrames(bodies))

	assert.Equal(t, byteSlices("one", "two"), bodies)
}

// Ten thousand idle connections must not each keep scratch sized for the
// last burst they wrote: a Writer holds its scratch only during a write,
// with no timer to trim it afterwards.
func TestAWriterHoldsNoScratchBetweenWrites(t *testing.T) {
	w := framing.NewWriter(io.Discard)
	burst := make([][]byte, 3000)
	for i := range burst {
		burst[i] = bytes.Repeat([]byte{'b'}, 2<<10) // large bodies: one iovec each
	}

	require.NoError(t, w.WriteFrames(burst))

	assert.Zero(t, framing.WriterScratch(w))
}

func TestWriteFramesAllocatesNothingInSteadyState(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	w := framing.NewWriter(io.Discard)
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i] = bytes.Repeat([]byte{'r'}, 100)
	}

	allocs := testing.AllocsPerRun(100, func() {
		if err := w.WriteFrames(bodies); err != nil {
			t.Fatal(err)
		}
	})

	assert.Zero(t, allocs)
}

func TestWriteErrorsAreSticky(t *testing.T) {
	boom := errors.New("boom")
	w := framing.NewWriter(&failingWriter{after: 2, err: boom})

	first := w.WriteFrames(byteSlices("abc"))
	second := w.WriteFrames(byteSlices("def"))
	third := w.WritePayload(3, strings.NewReader("ghi"))

	require.ErrorIs(t, first, boom)
	assert.Equal(t, first, second)
	assert.Equal(t, first, third)
}

func TestWritePayload(t *testing.T) {
	cases := []struct {
		name   string
		source io.Reader
		n      int64
		want   []byte
	}{
		{"empty payload", strings.NewReader(""), 0, []byte{0, 0, 0, 0}},
		{"the whole source", strings.NewReader("file"), 4, []byte{0, 0, 0, 4, 'f', 'i', 'l', 'e'}},
		{"only n bytes of a longer source", strings.NewReader("file and more"), 4, []byte{0, 0, 0, 4, 'f', 'i', 'l', 'e'}},
		{"a source that hands over one byte at a time", iotest.OneByteReader(strings.NewReader("file")), 4, []byte{0, 0, 0, 4, 'f', 'i', 'l', 'e'}},
		{"a source that ends with its last data", iotest.DataErrReader(strings.NewReader("file")), 4, []byte{0, 0, 0, 4, 'f', 'i', 'l', 'e'}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer

			require.NoError(t, framing.NewWriter(&out).WritePayload(tc.n, tc.source))

			assert.Equal(t, tc.want, out.Bytes())
		})
	}
}

func TestWritePayloadFromAShortSource(t *testing.T) {
	var out bytes.Buffer
	w := framing.NewWriter(&out)

	err := w.WritePayload(10, strings.NewReader("abc"))

	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Contains(t, err.Error(), "3 of 10 bytes")
	assert.Equal(t, err, w.WriteFrames(byteSlices("x")), "a frame cut short leaves the writer unusable")
}

func TestWritePayloadLetsTheDestinationReadTheSource(t *testing.T) {
	source := strings.NewReader("payload")
	dst := &readerFromRecorder{}

	require.NoError(t, framing.NewWriter(dst).WritePayload(7, source))

	require.NotEmpty(t, dst.sources, "the destination's ReadFrom is used")
	assert.Same(t, source, dst.sources[0],
		"the source comes as an *io.LimitedReader around the caller's reader, the form net recognises for sendfile")
	assert.Equal(t, append([]byte{0, 0, 0, 7}, "payload"...), dst.Bytes())
}

func TestWriteRefusesBodiesThatDoNotFitAFrame(t *testing.T) {
	var out bytes.Buffer
	w := framing.NewWriter(&out)

	err := w.WritePayload(1<<32, strings.NewReader(""))

	require.Error(t, err)
	assert.Zero(t, out.Len())
	require.NoError(t, w.WriteFrames(byteSlices("ok")), "nothing was written, so the writer stays usable")
}

func byteSlices(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// nonNil turns an empty result into nil, so that "nothing written" compares
// equal to a nil expectation.
func nonNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// failingWriter accepts after bytes, then fails every write with err.
type failingWriter struct {
	after int
	err   error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= w.after {
		w.after -= len(p)
		return len(p), nil
	}
	n := w.after
	w.after = 0
	return n, w.err
}

// readerFromRecorder is a destination with io.ReaderFrom that remembers,
// for each call, the reader inside the *io.LimitedReader it was given (nil
// when it was given anything else).
type readerFromRecorder struct {
	bytes.Buffer
	sources []io.Reader
}

func (d *readerFromRecorder) ReadFrom(r io.Reader) (int64, error) {
	var inner io.Reader
	if lr, ok := r.(*io.LimitedReader); ok {
		inner = lr.R
	}
	d.sources = append(d.sources, inner)
	return d.Buffer.ReadFrom(r)
}
