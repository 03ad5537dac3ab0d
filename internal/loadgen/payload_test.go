package loadgen

import (
	"bytes"
	"crypto/sha256"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPayloadIsDeterministicWhateverTheReadSizes(t *testing.T) {
	const n = 3*patternLen + 1234
	whole, err := io.ReadAll(newPayload(n))
	require.NoError(t, err)
	require.Len(t, whole, n)
	var pieces bytes.Buffer
	p := newPayload(n)
	for step := 1; ; step = step*3 + 1 {
		buf := make([]byte, step%70000+1)
		k, err := p.Read(buf)
		pieces.Write(buf[:k])
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	assert.Equal(t, whole, pieces.Bytes())
	sum := sha256.Sum256(whole)
	assert.Equal(t, sum[:], payloadSum(n))
}

func TestPayloadBlocksDiffer(t *testing.T) {
	whole, err := io.ReadAll(newPayload(3 * patternLen))
	require.NoError(t, err)
	a, b, c := whole[:patternLen], whole[patternLen:2*patternLen], whole[2*patternLen:]
	assert.NotEqual(t, a, b)
	assert.NotEqual(t, b, c)
	assert.Equal(t, a[8:], b[8:], "only the block index changes between repetitions")
}
