package dictcodec_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/dictcodec"
)

func TestTypedMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	for _, size := range []int{100_003, 1 << 20} {
		for _, tt := range hostileShapes(size) {
			t.Run(fmt.Sprintf("%s/%d", tt.name, size), func(t *testing.T) {
				in := []byte(tt.in)
				allocated := bytesAllocated(t, func() {
					_, err := dictcodec.DecodeInbound(in)
					require.NoError(t, err)
				})
				perByte := float64(allocated) / float64(len(in))
				t.Logf("%s: %d input bytes, %d allocated, %.2f per byte", tt.name, len(in), allocated, perByte)
				assert.LessOrEqual(t, perByte, 2.0)
			})
		}
	}
}
