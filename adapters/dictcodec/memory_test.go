package dictcodec_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxBytesPerInputByte is the most a decoder may allocate per byte of
// input, everything counted (decode's documentation promises it).
const maxBytesPerInputByte = 2

// Hostile records cost memory in proportion to their size at most, whatever
// their shape. Each shape below repeats one small item until the input has
// about size bytes; perByte bounds what it may cost. Most cost nothing at
// all: the decoders keep only the strings under the keys they read.
func TestDecodeMemoryIsBoundedByInputSize(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	// Two sizes, so that a cost that is not linear in the input shows; the
	// larger is the server's hard limit.
	for _, size := range []int{100_003, 1 << 20} {
		for _, tt := range hostileShapes(size) {
			t.Run(fmt.Sprintf("%s/%d", tt.name, size), func(t *testing.T) {
				in := []byte(tt.in)
				for name, decode := range decoders {
					allocated := bytesAllocated(t, func() { require.NoError(t, decode(in)) })
					perByte := float64(allocated) / float64(len(in))
					t.Logf("%s %s: %d input bytes, %d allocated, %.2f per byte", name, tt.name, len(in), allocated, perByte)
					assert.LessOrEqual(t, perByte, tt.perByte, name)
					assert.LessOrEqual(t, perByte, float64(maxBytesPerInputByte), name)
				}
			})
		}
	}
}

type hostileShape struct {
	name string
	in   string
	// perByte bounds the bytes allocated per input byte.
	perByte float64
}

// hostileShapes returns records of about size bytes made of the smallest
// items there are.
func hostileShapes(size int) []hostileShape {
	// list repeats item in a list under one key.
	list := func(item string) string {
		return `{"a":[` + strings.Repeat(item+",", size/(len(item)+1)) + `""]}`
	}
	chain := strings.Repeat("[", 30) + strings.Repeat("]", 30)
	return []hostileShape{
		{"list of empty strings", list(`""`), 0.01},
		{"list of empty lists", list(`[]`), 0.01},
		{"list of empty objects", list(`{}`), 0.01},
		{"list of pairs of empty objects", list(`[{},{}]`), 0.01},
		{"list of one-item lists", list(`[""]`), 0.01},
		{"list of pairs of empty strings", list(`["",""]`), 0.01},
		{"chains of lists 32 deep", list(chain), 0.01},
		// Each object's one key sits in a fixed buffer while it is open.
		{"list of one-key objects", list(`{"":""}`), 0.01},
		{"list of objects of an empty object", list(`{"":{}}`), 0.01},
		// Four bytes per key, allocated once (at most 0.8 per byte).
		{"many short keys", `{` + shortKeys(size) + `}`, 0.8},
		{"many short keys 32 deep", strings.Repeat(`{"a":`, 31) + `{` + shortKeys(size) + `}` + strings.Repeat("}", 31), 0.8},
		{"many objects of 17 keys", list(manyKeys(17, "")), 0.01},
		// The strings read are kept: at most one byte per input byte, and
		// the allocator rounds large sizes up to whole pages.
		{"one long text", `{"text":"` + strings.Repeat("x", size) + `","status":"s","nickname":"n"}`, 1.1},
		// Room for an escaped string is its raw length.
		{"one string of escapes", `{"text":"` + strings.Repeat(`\"`, size/2) + `"}`, 1.1},
		{"list of escaped strings", list(`"\\"`), 0.01},
		{"whitespace", `{"a":` + strings.Repeat(" ", size) + `""}`, 0.01},
		// Lists and objects under the keys read are not kept, but for a
		// relay's "users" list of strings.
		{"a text that is a list", `{"text":[` + strings.Repeat(`"",`, size/3) + `""]}`, 0.01},
		{"a text that is an object", `{"text":{"a":"` + strings.Repeat("x", size) + `"}}`, 0.01},
	}
}

// shortKeys returns the pairs of an object of about size bytes whose keys
// are all different and as short as can be, with empty values.
func shortKeys(size int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for n := i; ; n /= len(alphabet) {
			b.WriteByte(alphabet[n%len(alphabet)])
			if n < len(alphabet) {
				break
			}
		}
		b.WriteString(`":""`)
	}
	return b.String()
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
