package loadgen

import (
	"math"
	"math/bits"
)

// Histogram counts non-negative durations (or any uint64 values) in
// log-linear buckets: values below 256 each have their own bucket, larger
// ones share a bucket with the values that agree in their 8 leading bits, so
// a quantile is off by less than 1/128 of its value. It holds a fixed 59 KiB
// whatever the number of samples, which is what lets every receiver of a
// run record every latency. The zero Histogram is empty and ready to use. It
// is not safe for concurrent use: each reader goroutine keeps its own and
// they are merged at the end.
type Histogram struct {
	counts []uint64 // allocated on the first Record; histBuckets long
	n      uint64
	max    uint64
	min    uint64
	sum    float64
}

const (
	// histSubBits is how many bits below the leading one a bucket keeps.
	histSubBits = 7
	histSub     = 1 << histSubBits // buckets per power of two
	histExact   = 2 * histSub      // values below this are exact
	histBuckets = histExact + (64-histSubBits-1)*histSub
)

// bucketOf maps a value to its bucket index.
func bucketOf(v uint64) int {
	if v < histExact {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1 // >= 1
	return histExact + (shift-1)*histSub + int(v>>shift) - histSub
}

// bucketHigh is the largest value that falls into bucket i.
func bucketHigh(i int) uint64 {
	if i < histExact {
		return uint64(i)
	}
	shift := (i-histExact)/histSub + 1
	m := uint64((i-histExact)%histSub + histSub)
	return (m+1)<<shift - 1
}

// Record adds one sample.
func (h *Histogram) Record(v uint64) {
	if h.counts == nil {
		h.counts = make([]uint64, histBuckets)
		h.min = math.MaxUint64
	}
	h.counts[bucketOf(v)]++
	h.n++
	h.sum += float64(v)
	h.max = max(h.max, v)
	h.min = min(h.min, v)
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, histBuckets)
		h.min = math.MaxUint64
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
	h.min = min(h.min, o.min)
}

// Count is the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest sample, exactly; 0 when empty.
func (h *Histogram) Max() uint64 { return h.max }

// Min is the smallest sample, exactly; 0 when empty.
func (h *Histogram) Min() uint64 {
	if h.n == 0 {
		return 0
	}
	return h.min
}

// Mean is the average sample; 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// Quantile returns the sample of rank ceil(q·n) (nearest-rank definition,
// q in [0, 1]), rounded up to the top of its bucket but never above the
// largest sample: a reported p99 is never better than the truth. It
// returns 0 when the histogram is empty.
func (h *Histogram) Quantile(q float64) uint64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(bucketHigh(i), h.max)
		}
	}
	return h.max
}
