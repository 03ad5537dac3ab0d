package dictcodec_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
)

// FuzzDecode checks, for any bytes, that Decode does not panic, agrees with
// the reference reader (same record, or an error at the same offset), does
// not alias its input, and that what it reads re-encodes canonically and
// stably. Seeds are in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := dictcodec.Decode(in)
		want, wantAt, wantOK := refDecode(in)
		if err != nil {
			var se *dictcodec.SyntaxError
			require.ErrorAs(t, err, &se)
			require.ErrorIs(t, err, dictcodec.ErrSyntax)
			require.False(t, wantOK, "reference accepts %q: %v", in, err)
			require.Equal(t, wantAt, se.Offset, "error offset for %q: %v", in, err)
			return
		}
		require.True(t, wantOK, "reference refuses %q at %d", in, wantAt)
		require.Equal(t, *want, got)

		scribbled := bytes.Repeat([]byte{'"'}, len(in))
		copy(scribbled, in)
		again, err := dictcodec.Decode(scribbled)
		require.NoError(t, err)
		for i := range scribbled {
			scribbled[i] = '"'
		}
		require.Equal(t, got, again, "record aliases its input")

		enc := dictcodec.Append(nil, &got)
		require.True(t, isCanonical(enc), "not canonical: %q", enc)
		if isCanonical(in) {
			require.Equal(t, string(in), string(enc), "canonical input must encode back to itself")
		}
		redecoded, err := dictcodec.Decode(enc)
		require.NoError(t, err, "encoding %q", enc)
		require.Equal(t, got, redecoded)
		require.Equal(t, string(enc), string(dictcodec.Append(nil, &redecoded)), "encoding is not stable")
	})
}
