package dictcodec_test

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
)

func TestRoundTripRandomRecords(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		r := randomRecord(rng, 1)
		enc := encode(r)
		require.True(t, isCanonical(enc), "case %d: not canonical: %q", i, enc)
		got, err := dictcodec.Decode(enc)
		require.NoError(t, err, "case %d: %q", i, enc)
		require.Equal(t, *r, got, "case %d: %q", i, enc)
	}
}

// Whitespace anywhere between tokens changes nothing, and the canonical
// encoding of what was read is what the encoder writes for the record.
func TestRoundTripWithWhitespace(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		r := randomRecord(rng, 1)
		spaced := appendSpaced(nil, r, rng)
		got, err := dictcodec.Decode(spaced)
		require.NoError(t, err, "case %d: %q", i, spaced)
		require.Equal(t, *r, got, "case %d: %q", i, spaced)
		require.Equal(t, string(encode(r)), string(encode(&got)), "case %d", i)
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

// Hostile records cost memory in proportion to their size. The shapes below
// are the densest in values per input byte there are: a list item `,{}` is
// 3 bytes of input but 80 of record (a 56-byte Value and a 24-byte Record),
// and the scratch stacks that collect items before their container closes
// add up to four times that again. 100 bytes per input byte is the bound
// Decode's documentation promises.
func TestDecodeMemoryIsBoundedByInputSize(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	// Scratch stacks double, so the worst case is just past a power of two.
	for _, n := range []int{1 << 12, 20000, 1 << 15} {
		t.Run(strconv.Itoa(n), func(t *testing.T) { testDecodeMemory(t, n) })
	}
}

func testDecodeMemory(t *testing.T, n int) {
	tests := []struct {
		name string
		in   string
	}{
		{"list of empty strings", `{"a":[""` + strings.Repeat(`,""`, n) + `]}`},
		{"list of empty lists", `{"a":[[]` + strings.Repeat(`,[]`, n) + `]}`},
		{"list of empty objects", `{"a":[{}` + strings.Repeat(`,{}`, n) + `]}`},
		{"list of one-item lists", `{"a":[[""]` + strings.Repeat(`,[""]`, n) + `]}`},
		{"many keys", manyKeys(n, "")},
		{"many objects with a few keys", `{"a":[` + strings.Repeat(manyKeys(17, "")+",", n/100) + `{}]}`},
		{"escapes", `{"a":"` + strings.Repeat(`\"`, n) + `"}`},
		{"many escaped strings", `{"a":["\\"` + strings.Repeat(`,"\\"`, n) + `]}`},
		{"deep and wide", `{"a":[` + strings.Repeat(strings.Repeat("[", 30)+strings.Repeat("]", 30)+",", n/60) + `""]}`},
		{"whitespace", `{"a":` + strings.Repeat(" ", n) + `""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			allocated := bytesAllocated(t, func() {
				_, err := dictcodec.Decode(in)
				require.NoError(t, err)
			})
			perByte := float64(allocated) / float64(len(in))
			t.Logf("%d input bytes, %d allocated, %.1f per byte", len(in), allocated, perByte)
			assert.LessOrEqual(t, perByte, 100.0)
		})
	}
}

// bytesAllocated is the least of a few measurements, so that an allocation
// of the test runtime in between does not count against f.
func bytesAllocated(t *testing.T, f func()) uint64 {
	t.Helper()
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}
