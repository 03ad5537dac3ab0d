package dictcodec_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
)

// FuzzDecode checks, for any bytes, that the decoders do not panic, agree
// with the reference reader (the same values under the keys they read, or
// an error at the same offset), do not alias their input, and that a
// relayed message they read encodes canonically and reads back the same.
// Seeds are in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		checkTyped(t, in)
		got, err := dictcodec.DecodeRelay(in)
		if err != nil {
			return
		}

		scribbled := bytes.Repeat([]byte{'"'}, len(in))
		copy(scribbled, in)
		again, err := dictcodec.DecodeRelay(scribbled)
		require.NoError(t, err)
		for i := range scribbled {
			scribbled[i] = '"'
		}
		require.Equal(t, got, again, "values alias the input")

		rel, err := got.Relay()
		if err != nil {
			return
		}
		enc := dictcodec.AppendRelay(nil, &rel)
		require.True(t, isCanonical(enc), "not canonical: %q", enc)
		back, err := dictcodec.DecodeRelay(enc)
		require.NoError(t, err, "encoding %q", enc)
		relBack, err := back.Relay()
		require.NoError(t, err)
		require.True(t, rel.Time.Equal(relBack.Time))
		relBack.Time = rel.Time
		require.Equal(t, rel, relBack)
		require.Equal(t, string(enc), string(dictcodec.AppendRelay(nil, &relBack)), "encoding is not stable")
	})
}
