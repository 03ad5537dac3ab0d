package framing_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/framing"
	"pcx/ports"
)

func TestReadRecordReadsEveryFrameThenEOF(t *testing.T) {
	cases := []struct {
		name   string
		bodies []string
	}{
		{"one record", []string{`{"nickname":"Ivan"}`}},
		{"several records", []string{`{"a":"1"}`, `{"b":"22"}`, `{"c":"333"}`}},
		{"empty frame between records", []string{"x", "", "y"}},
		{"record of exactly the limit", []string{strings.Repeat("z", 64)}},
		{"record longer than the read buffer", []string{strings.Repeat("big", 40000)}},
	}
	for _, tc := range cases {
		for _, shape := range readerShapes {
			t.Run(tc.name+"/"+shape.name, func(t *testing.T) {
				r := framing.NewReader(shape.wrap(bytes.NewReader(wire(tc.bodies...))))
				var buf []byte
				for _, want := range tc.bodies {
					got, err := r.ReadRecord(buf, 1<<20)
					require.NoError(t, err)
					assert.Equal(t, want, string(got))
					buf = got
				}
				_, err := r.ReadRecord(buf, 1<<20)
				assert.Same(t, io.EOF, err, "a stream that ends between frames ends with bare io.EOF")
			})
		}
	}
}

func TestReadRecordReusesTheCallersBuffer(t *testing.T) {
	r := framing.NewReader(bytes.NewReader(wire("hello")))
	buf := make([]byte, 0, 16)

	got, err := r.ReadRecord(buf, 16)

	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
	assert.Same(t, &buf[:1][0], &got[0], "a buffer with room is used, not replaced")
}

func TestReadRecordTruncatedStream(t *testing.T) {
	cases := []struct {
		name     string
		stream   []byte
		wantText string
	}{
		{"header cut after two bytes", []byte{0, 0}, "framing: frame header: unexpected EOF"},
		{"header cut after three bytes", []byte{0, 0, 0}, "framing: frame header: unexpected EOF"},
		{"body cut short", append(header(10), "abc"...), "framing: frame body: unexpected EOF"},
		{"body missing", header(10), "framing: frame body: unexpected EOF"},
		{"second frame cut short", append(wire("ok"), 0, 0, 0, 5, 'a'), "framing: frame body: unexpected EOF"},
	}
	for _, tc := range cases {
		for _, shape := range readerShapes {
			t.Run(tc.name+"/"+shape.name, func(t *testing.T) {
				r := framing.NewReader(shape.wrap(bytes.NewReader(tc.stream)))
				var err error
				for err == nil {
					_, err = r.ReadRecord(nil, 100)
				}
				require.ErrorIs(t, err, io.ErrUnexpectedEOF)
				assert.EqualError(t, err, tc.wantText)
			})
		}
	}
}

func TestReadRecordOverLimit(t *testing.T) {
	t.Run("reports the length and the limit and grows nothing", func(t *testing.T) {
		r := framing.NewReader(bytes.NewReader(append(header(0xFFFFFFFF), "abc"...)))
		buf := make([]byte, 0, 8)

		got, err := r.ReadRecord(buf, 16)

		var tooLarge *ports.FrameTooLargeError
		require.ErrorAs(t, err, &tooLarge)
		assert.Equal(t, &ports.FrameTooLargeError{Len: 0xFFFFFFFF, Max: 16}, tooLarge)
		assert.Nil(t, got)
		assert.Equal(t, 8, cap(buf))
	})
	t.Run("allocates nothing near the announced length", func(t *testing.T) {
		r := framing.NewReader(bytes.NewReader(append(header(0xFFFFFFFF), "abc"...)))
		before := totalAlloc()

		_, err := r.ReadRecord(nil, 1<<10)

		require.Error(t, err)
		assert.Less(t, totalAlloc()-before, uint64(1<<20))
	})
	for _, shape := range readerShapes {
		t.Run("SkipFrame resynchronises/"+shape.name, func(t *testing.T) {
			stream := wire(strings.Repeat("x", 100_000), "next")
			r := framing.NewReader(shape.wrap(bytes.NewReader(stream)))

			_, err := r.ReadRecord(nil, 10)
			var tooLarge *ports.FrameTooLargeError
			require.ErrorAs(t, err, &tooLarge)
			require.NoError(t, r.SkipFrame())

			got, err := r.ReadRecord(nil, 10)
			require.NoError(t, err)
			assert.Equal(t, "next", string(got))
		})
		t.Run("the next read skips the refused body itself/"+shape.name, func(t *testing.T) {
			r := framing.NewReader(shape.wrap(bytes.NewReader(wire(strings.Repeat("x", 100_000), "next"))))

			_, err := r.ReadRecord(nil, 10)
			require.Error(t, err)

			got, err := r.ReadRecord(nil, 10)
			require.NoError(t, err)
			assert.Equal(t, "next", string(got))
		})
	}
}

func TestSkipFrame(t *testing.T) {
	t.Run("streams a huge body without allocating it", func(t *testing.T) {
		const size = 64 << 20
		stream := io.MultiReader(bytes.NewReader(header(size)), zeros(size), bytes.NewReader(wire("after")))
		r := framing.NewReader(stream)
		_, err := r.ReadRecord(nil, 10)
		require.Error(t, err)
		before := totalAlloc()

		require.NoError(t, r.SkipFrame())

		assert.Less(t, totalAlloc()-before, uint64(1<<20))
		got, err := r.ReadRecord(nil, 10)
		require.NoError(t, err)
		assert.Equal(t, "after", string(got))
	})
	t.Run("does nothing between frames", func(t *testing.T) {
		r := framing.NewReader(bytes.NewReader(wire("a")))

		require.NoError(t, r.SkipFrame())

		got, err := r.ReadRecord(nil, 10)
		require.NoError(t, err)
		assert.Equal(t, "a", string(got))
	})
	t.Run("reports a body cut short", func(t *testing.T) {
		r := framing.NewReader(bytes.NewReader(append(header(100), "abc"...)))
		_, err := r.ReadRecord(nil, 10)
		require.Error(t, err)

		err = r.SkipFrame()

		require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	})
}

func TestReadPayload(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 20_000)
	cases := []struct {
		name string
		body string
	}{
		{"empty payload", ""},
		{"small payload", "file bytes"},
		{"payload larger than the read buffer", big},
	}
	for _, tc := range cases {
		for _, shape := range readerShapes {
			t.Run(tc.name+"/"+shape.name, func(t *testing.T) {
				r := framing.NewReader(shape.wrap(bytes.NewReader(wire(tc.body, "after"))))

				n, body, err := r.ReadPayload()

				require.NoError(t, err)
				assert.Equal(t, int64(len(tc.body)), n)
				require.NoError(t, iotest.TestReader(body, []byte(tc.body)))
				got, err := r.ReadRecord(nil, 10)
				require.NoError(t, err)
				assert.Equal(t, "after", string(got))
			})
		}
	}
}

func TestReadPayloadLeftUnfinished(t *testing.T) {
	t.Run("the next read skips the rest of the body", func(t *testing.T) {
		r := framing.NewReader(bytes.NewReader(wire("0123456789", "after")))
		_, body, err := r.ReadPayload()
		require.NoError(t, err)
		_, err = io.ReadFull(body, make([]byte, 3))
		require.NoError(t, err)

		got, err := r.ReadRecord(nil, 10)

		require.NoError(t, err)
		assert.Equal(t, "after", string(got))
	})
	t.Run("the old payload reader fails once the next frame is read", func(t *testing.T) {
		r := framing.NewReader(bytes.NewReader(wire("0123456789", "after")))
		_, body, err := r.ReadPayload()
		require.NoError(t, err)
		_, err = r.ReadRecord(nil, 10)
		require.NoError(t, err)

		_, err = body.Read(make([]byte, 4))

		assert.ErrorIs(t, err, framing.ErrStalePayload)
	})
	t.Run("SkipFrame discards the rest of the body", func(t *testing.T) {
		r := framing.NewReader(bytes.NewReader(wire("0123456789", "after")))
		_, body, err := r.ReadPayload()
		require.NoError(t, err)
		_, err = io.ReadFull(body, make([]byte, 3))
		require.NoError(t, err)

		require.NoError(t, r.SkipFrame())

		got, err := r.ReadRecord(nil, 10)
		require.NoError(t, err)
		assert.Equal(t, "after", string(got))
	})
}

func TestReadPayloadTruncated(t *testing.T) {
	for _, shape := range readerShapes {
		t.Run(shape.name, func(t *testing.T) {
			r := framing.NewReader(shape.wrap(bytes.NewReader(append(header(10), "abc"...))))
			n, body, err := r.ReadPayload()
			require.NoError(t, err)
			require.Equal(t, int64(10), n)

			got, err := io.ReadAll(body)

			assert.Equal(t, "abc", string(got))
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		})
	}
}

func TestReadErrorsKeepTheStreamInStep(t *testing.T) {
	t.Run("a header interrupted by a deadline is read whole on retry", func(t *testing.T) {
		s := &script{
			{data: []byte{0, 0}},
			{err: os.ErrDeadlineExceeded},
			{data: []byte{0, 3, 'a', 'b', 'c'}},
		}
		r := framing.NewReader(s)

		_, err := r.ReadRecord(nil, 10)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		got, err := r.ReadRecord(nil, 10)

		require.NoError(t, err)
		assert.Equal(t, "abc", string(got))
	})
	t.Run("a body interrupted by an error is skipped by the next read", func(t *testing.T) {
		s := &script{
			{data: append(header(5), "ab"...)},
			{err: os.ErrDeadlineExceeded},
			{data: append([]byte("cde"), wire("next")...)},
		}
		r := framing.NewReader(s)

		_, err := r.ReadRecord(nil, 10)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		got, err := r.ReadRecord(nil, 10)

		require.NoError(t, err)
		assert.Equal(t, "next", string(got))
	})
	t.Run("a payload read interrupted by an error may be resumed", func(t *testing.T) {
		s := &script{
			{data: append(header(5), "ab"...)},
			{err: os.ErrDeadlineExceeded},
			{data: []byte("cde")},
		}
		r := framing.NewReader(s)
		_, body, err := r.ReadPayload()
		require.NoError(t, err)

		first, err := io.ReadAll(body)
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
		rest, err := io.ReadAll(body)

		require.NoError(t, err)
		assert.Equal(t, "abcde", string(first)+string(rest))
	})
	t.Run("a source error other than EOF is wrapped, not disguised", func(t *testing.T) {
		boom := errors.New("boom")
		r := framing.NewReader(iotest.ErrReader(boom))

		_, err := r.ReadRecord(nil, 10)

		require.ErrorIs(t, err, boom)
		assert.NotErrorIs(t, err, io.EOF)
	})
}

// zeros returns a reader of n zero bytes that holds no buffer of that size.
func zeros(n int64) io.Reader {
	return io.LimitReader(zeroReader{}, n)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// totalAlloc is the number of heap bytes allocated so far by the process.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

func TestATLSClientHelloAsTheFirstFrameIsNamed(t *testing.T) {
	clientHello := []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}
	for _, shape := range readerShapes {
		t.Run(shape.name, func(t *testing.T) {
			r := framing.NewReader(shape.wrap(bytes.NewReader(clientHello)))

			_, err := r.ReadRecord(nil, 1<<20)
			require.ErrorIs(t, err, framing.ErrTLSOnPlainPort)
			_, _, err = r.ReadPayload()
			assert.ErrorIs(t, err, framing.ErrTLSOnPlainPort, "the stream stays refused")
		})
	}
}

func TestTheSameLengthLaterIsJustTooLarge(t *testing.T) {
	stream := append(wire("first"), 0x16, 0x03, 0x01, 0x02)
	r := framing.NewReader(bytes.NewReader(stream))
	_, err := r.ReadRecord(nil, 1<<20)
	require.NoError(t, err)

	_, err = r.ReadRecord(nil, 1<<20)

	var tooLarge *ports.FrameTooLargeError
	assert.ErrorAs(t, err, &tooLarge)
}
