package domain_test

import (
	"testing"

	"pcx/domain"
)

func BenchmarkParseNickname(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := domain.ParseNickname("Ivan_Petrov"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRegistryClaimRelease(b *testing.B) {
	reg := domain.NewRegistry()
	n, _ := domain.ParseNickname("Ivan")
	b.ReportAllocs()
	for b.Loop() {
		if err := reg.Claim(n); err != nil {
			b.Fatal(err)
		}
		reg.Release(n)
	}
}

func BenchmarkInboundRequest(b *testing.B) {
	in := domain.InboundRecord{Text: domain.RawOf("Hello, how are you doing today?"), Attachment: domain.RawOf("photo.jpg")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := in.Request(); err != nil {
			b.Fatal(err)
		}
	}
}
