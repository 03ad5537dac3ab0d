package dictcodec_test

import (
	"testing"

	"pcx/adapters/dictcodec"
)

// BenchmarkEncodeRelayed writes the record the server sends most into a
// reused buffer. Target: <= 150 ns/op, 0 allocs/op.
func BenchmarkEncodeRelayed(b *testing.B) {
	r := relayedValue()
	buf := make([]byte, 0, 512)
	b.SetBytes(int64(len(encode(relayed()))))
	b.ReportAllocs()
	for b.Loop() {
		buf = dictcodec.AppendRelay(buf[:0], &r)
	}
}

// BenchmarkDecodeRelayed reads the same record as a client does. Target:
// <= 600 ns/op, 1 alloc/op.
func BenchmarkDecodeRelayed(b *testing.B) {
	in := encode(relayed())
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dictcodec.DecodeRelay(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeInbound reads a client's message as the server does.
func BenchmarkDecodeInbound(b *testing.B) {
	in := []byte(`{"text":"The quick brown fox jumps over the lazy dog, then naps at noon!!"}`)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dictcodec.DecodeInbound(in); err != nil {
			b.Fatal(err)
		}
	}
}
