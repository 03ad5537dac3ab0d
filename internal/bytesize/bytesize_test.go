package bytesize_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/internal/bytesize"
)

func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{
		"512": 512, "64KiB": 64 << 10, " 8 MiB ": 8 << 20, "1GiB": 1 << 30, "1GB": 1e9, "2KB": 2000, "0": 0, "7B": 7,
	} {
		var s bytesize.Size
		require.NoError(t, s.Set(in), in)
		assert.Equal(t, want, int64(s), in)
	}
	for _, bad := range []string{"", "-1", "1.5MiB", "lots", "1TB", "9999999999GiB"} {
		var s bytesize.Size
		assert.Error(t, s.Set(bad), bad)
	}
}

func TestSizesAreWrittenInTheLargestUnitThatDividesThem(t *testing.T) {
	for n, want := range map[int64]string{64 << 10: "64KiB", 8 << 20: "8MiB", 1 << 30: "1GiB", 1500: "1500", 0: "0", 2 << 40: "2199023255552"} {
		s := bytesize.Size(n)
		assert.Equal(t, want, s.String())
	}
}
