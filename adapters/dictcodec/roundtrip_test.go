package dictcodec_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
)

// Random records of every shape the grammar allows are accepted, and the
// typed decoders find in them what the reference reader finds.
func TestRandomRecordsAreRead(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		r := randomRecord(rng, 1)
		enc := encode(r)
		require.True(t, isCanonical(enc), "case %d: not canonical: %q", i, enc)
		checkTyped(t, enc)
	}
}

// Whitespace anywhere between tokens changes nothing.
func TestRandomRecordsWithWhitespace(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		r := randomRecord(rng, 1)
		spaced := appendSpaced(nil, r, rng)
		checkTyped(t, spaced)
		want, err := dictcodec.DecodeRelay(encode(r))
		require.NoError(t, err)
		got, err := dictcodec.DecodeRelay(spaced)
		require.NoError(t, err, "case %d: %q", i, spaced)
		require.Equal(t, want, got, "case %d: %q", i, spaced)
	}
}

// The random records must reach what the limits allow, or the two tests
// above prove less than they seem to.
func TestRandomRecordsReachTheLimits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var deepest, escapes, emptyLists, emptyRecords int
	for range 3000 {
		enc := string(encode(randomRecord(rng, 1)))
		deepest = max(deepest, maxNesting(enc))
		escapes += strings.Count(enc, `\\`) + strings.Count(enc, `\"`)
		emptyLists += strings.Count(enc, "[]")
		emptyRecords += strings.Count(enc, "{}")
	}
	assert.Equal(t, dictcodec.MaxDepth, deepest)
	assert.Positive(t, escapes)
	assert.Positive(t, emptyLists)
	assert.Positive(t, emptyRecords)
}

// maxNesting counts brackets outside strings of a canonical encoding.
func maxNesting(enc string) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(enc); i++ {
		switch c := enc[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && (c == '{' || c == '['):
			depth++
			deepest = max(deepest, depth)
		case !inString && (c == '}' || c == ']'):
			depth--
		}
	}
	return deepest
}

// isCanonical checks the writing rules of PROTOCOL.md section 2 on bytes
// the decoder accepted: outside strings nothing but structure (so no
// whitespace), inside strings a backslash only as `\"` or `\\`.
func isCanonical(enc []byte) bool {
	inString := false
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		switch {
		case c == '"':
			inString = !inString
		case inString && c == '\\':
			if i+1 == len(enc) || (enc[i+1] != '"' && enc[i+1] != '\\') {
				return false
			}
			i++
		case !inString && !strings.ContainsRune("{}[]:,", rune(c)):
			return false
		}
	}
	return true
}
