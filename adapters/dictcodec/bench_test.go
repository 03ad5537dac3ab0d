package dictcodec_test

import (
	"testing"

	"pcx/adapters/dictcodec"
)

// BenchmarkEncodeRelayed writes the record the server sends most into a
// reused buffer. Target: <= 150 ns/op, 0 allocs/op.
func BenchmarkEncodeRelayed(b *testing.B) {
	r := relayed()
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(encode(r))))
	b.ReportAllocs()
	for b.Loop() {
		buf = dictcodec.Append(buf[:0], r)
	}
}

// BenchmarkDecodeRelayed reads the same record. Target: <= 600 ns/op,
// <= 4 allocs/op.
func BenchmarkDecodeRelayed(b *testing.B) {
	in := encode(relayed())
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dictcodec.Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}
