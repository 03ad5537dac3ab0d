package dictcodec_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
)

// maxBytesPerInputByte is the most Decode may allocate per byte of input,
// everything counted: the private copy of the input, the first pass's
// counts and the record. Decode's documentation promises it.
const maxBytesPerInputByte = 23

// Hostile records cost memory in proportion to their size, whatever their
// shape. Each shape below repeats one small item until the input has about
// size bytes; perByte is what its items cost by the layout of the record
// (a domain.Value is 32 bytes, a domain.Field 48, a domain.Record 24, a
// slice header 24), and the densest of them set maxBytesPerInputByte.
func TestDecodeMemoryIsBoundedByInputSize(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	// Two sizes, so that a cost that is not linear in the input shows; the
	// larger is the server's default record limit.
	for _, size := range []int{100_003, 1 << 20} {
		for _, tt := range hostileShapes(size) {
			t.Run(fmt.Sprintf("%s/%d", tt.name, size), func(t *testing.T) {
				in := []byte(tt.in)
				allocated := bytesAllocated(t, func() {
					_, err := dictcodec.Decode(in)
					require.NoError(t, err)
				})
				perByte := float64(allocated) / float64(len(in))
				t.Logf("%s: %d input bytes, %d allocated, %.1f per byte", tt.name, len(in), allocated, perByte)
				assert.LessOrEqual(t, perByte, tt.perByte)
				assert.LessOrEqual(t, perByte, float64(maxBytesPerInputByte))
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
		// One Value per 3 bytes, plus the copy: 11.7.
		{"list of empty strings", list(`""`), 12},
		// The same and a count byte: 12.
		{"list of empty lists", list(`[]`), 12.5},
		// A Value, a Record and a count per 3 bytes: 20.
		{"list of empty objects", list(`{}`), 20.5},
		// The densest shape: a Value, a slice header, two Values and two
		// Records per 8 bytes: 22.4.
		{"list of pairs of empty objects", list(`[{},{}]`), maxBytesPerInputByte},
		{"list of one-item lists", list(`[""]`), 14.5},
		{"list of pairs of empty strings", list(`["",""]`), 16.5},
		// A chain of one-item lists holds a Value and a count per 2
		// bytes: 17.2.
		{"chains of lists 32 deep", list(chain), 17.5},
		{"list of one-key objects", list(`{"":""}`), 14.5},
		{"list of objects of an empty object", list(`{"":{}}`), 17.5},
		// A Field per key and its slot in the key index: 8.2.
		{"many short keys", `{` + shortKeys(size) + `}`, 9},
		{"many short keys 32 deep", strings.Repeat(`{"a":`, 31) + `{` + shortKeys(size) + `}` + strings.Repeat("}", 31), 9},
		// A Record, 17 Fields and a key index of 64 slots per 142 bytes: 8.8.
		{"many objects of 17 keys", list(manyKeys(17, "")), 9.5},
		{"one string of escapes", `{"a":"` + strings.Repeat(`\"`, size/2) + `"}`, 2},
		{"list of escaped strings", list(`"\\"`), 8},
		{"whitespace", `{"a":` + strings.Repeat(" ", size) + `""}`, 1.5},
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
