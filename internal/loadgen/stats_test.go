package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistogramExactBelow256(t *testing.T) {
	var h Histogram
	for v := uint64(1); v <= 100; v++ {
		h.Record(v)
	}
	tests := []struct {
		name string
		q    float64
		want uint64
	}{
		{name: "zero quantile is the minimum", q: 0, want: 1},
		{name: "median by nearest rank", q: 0.5, want: 50},
		{name: "p99", q: 0.99, want: 99},
		{name: "p99.9 rounds up to the last rank", q: 0.999, want: 100},
		{name: "maximum", q: 1, want: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, h.Quantile(tt.q))
		})
	}
	assert.Equal(t, uint64(100), h.Count())
	assert.Equal(t, uint64(1), h.Min())
	assert.Equal(t, uint64(100), h.Max())
	assert.InDelta(t, 50.5, h.Mean(), 1e-9)
}

// Against the exact nearest-rank quantile of a wide random sample, every
// reported quantile is no lower than the truth and less than 1/128 above it.
func TestHistogramQuantileBoundedError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	vals := make([]uint64, 20000)
	for i := range vals {
		vals[i] = uint64(math.Exp(rng.Float64() * 30)) // 1 .. ~1e13, log-uniform
		h.Record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1} {
		rank := int(math.Ceil(q * float64(len(vals))))
		exact := vals[rank-1]
		got := h.Quantile(q)
		assert.GreaterOrEqual(t, got, exact, "q=%v", q)
		assert.LessOrEqual(t, float64(got-exact), float64(exact)/128, "q=%v", q)
	}
	assert.Equal(t, vals[len(vals)-1], h.Max())
}

func TestHistogramBucketsTileTheRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	check := func(v uint64) {
		i := bucketOf(v)
		require.Less(t, i, histBuckets, "v=%d", v)
		require.GreaterOrEqual(t, bucketHigh(i), v, "v=%d", v)
		if i > 0 {
			require.Less(t, bucketHigh(i-1), v, "v=%d", v)
		}
	}
	for v := range uint64(5000) {
		check(v)
	}
	for range 100000 {
		check(rng.Uint64() >> rng.IntN(64))
	}
	check(math.MaxUint64)
}

func TestHistogramMergeEqualsOneHistogram(t *testing.T) {
	var a, b, all Histogram
	for v := uint64(0); v < 3000; v += 7 {
		a.Record(v)
		all.Record(v)
	}
	for v := uint64(1e6); v < 2e6; v += 997 {
		b.Record(v)
		all.Record(v)
	}
	var merged, empty Histogram
	merged.Merge(&a)
	merged.Merge(&empty)
	merged.Merge(&b)
	for _, q := range []float64{0, 0.25, 0.5, 0.75, 0.99, 1} {
		assert.Equal(t, all.Quantile(q), merged.Quantile(q), "q=%v", q)
	}
	assert.Equal(t, all.Count(), merged.Count())
	assert.Equal(t, all.Min(), merged.Min())
	assert.Equal(t, all.Max(), merged.Max())
}

func TestHistogramEmptyReportsZero(t *testing.T) {
	var h Histogram
	assert.Equal(t, uint64(0), h.Quantile(0.99))
	assert.Equal(t, uint64(0), h.Max())
	assert.Equal(t, uint64(0), h.Min())
	assert.Zero(t, h.Mean())
}
