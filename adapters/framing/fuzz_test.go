package framing_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/framing"
	"pcx/ports"
)

// FuzzReadRecord checks the Reader against a direct reading of the wire
// format on arbitrary input, handed over one byte at a time.
func FuzzReadRecord(f *testing.F) {
	f.Add(wire("abc", "", "0123456789abcdefXYZ"))
	f.Add(append(header(0xFFFFFFFF), 1, 2, 3))
	f.Add([]byte{0, 0})
	f.Add(append(wire("ok"), 0, 0, 0, 9, 'a'))
	f.Fuzz(func(t *testing.T, stream []byte) {
		const max = 16
		r := framing.NewReader(iotest.OneByteReader(bytes.NewReader(stream)))
		want := referenceRead(stream, max)
		for i, w := range want {
			got, err := r.ReadRecord(make([]byte, 0, max), max)
			switch w.outcome {
			case outcomeRecord:
				require.NoError(t, err, "frame %d", i)
				require.Equal(t, w.body, got, "frame %d", i)
			case outcomeTooLarge:
				var tooLarge *ports.FrameTooLargeError
				require.ErrorAs(t, err, &tooLarge, "frame %d", i)
			case outcomeTruncated:
				require.ErrorIs(t, err, io.ErrUnexpectedEOF, "frame %d", i)
				return
			case outcomeEOF:
				require.Same(t, io.EOF, err, "frame %d", i)
				return
			}
		}
	})
}

type outcome int

const (
	outcomeRecord outcome = iota
	outcomeTooLarge
	outcomeTruncated
	outcomeEOF
)

type readResult struct {
	outcome outcome
	body    []byte
}

// referenceRead says what successive ReadRecord calls with max must return
// on stream, ending with EOF or a truncation.
func referenceRead(stream []byte, max int) []readResult {
	var out []readResult
	for {
		switch {
		case len(stream) == 0:
			return append(out, readResult{outcome: outcomeEOF})
		case len(stream) < 4:
			return append(out, readResult{outcome: outcomeTruncated})
		}
		n := uint64(binary.BigEndian.Uint32(stream))
		stream = stream[4:]
		if n > uint64(max) {
			out = append(out, readResult{outcome: outcomeTooLarge})
			if n > uint64(len(stream)) { // the next read fails skipping it
				return append(out, readResult{outcome: outcomeTruncated})
			}
			stream = stream[n:]
			continue
		}
		if n > uint64(len(stream)) {
			return append(out, readResult{outcome: outcomeTruncated})
		}
		out = append(out, readResult{outcome: outcomeRecord, body: stream[:n]})
		stream = stream[n:]
	}
}

// FuzzRoundTrip checks that what a Writer writes a Reader reads back, as
// records and as payloads, whatever the bodies.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("one\xfftwo\xff\xffthree"), true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, asPayload bool) {
		bodies := bytes.Split(data, []byte{0xff})
		var stream bytes.Buffer
		w := framing.NewWriter(&stream)
		if asPayload {
			for _, b := range bodies {
				require.NoError(t, w.WritePayload(int64(len(b)), bytes.NewReader(b)))
			}
		} else {
			require.NoError(t, w.WriteFrames(bodies))
		}

		r := framing.NewReader(iotest.HalfReader(&stream))
		for _, want := range bodies {
			var got []byte
			var err error
			if asPayload {
				var body io.Reader
				_, body, err = r.ReadPayload()
				require.NoError(t, err)
				got, err = io.ReadAll(body)
			} else {
				got, err = r.ReadRecord(nil, len(data))
			}
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		}
		_, err := r.ReadRecord(nil, 1)
		assert.ErrorIs(t, err, io.EOF)
	})
}
