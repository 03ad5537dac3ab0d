package domain_test

import (
	"testing"
	"time"

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

func BenchmarkBuildRelay(b *testing.B) {
	var r domain.Record
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		domain.BuildRelay(&r, at, "Ivan", "Hello", "1.jpg", true)
	}
}

func BenchmarkParseChatMessage(b *testing.B) {
	r := domain.NewRecord(field("text", "Hello, how are you doing today?"), field("attachment", "photo.jpg"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := domain.ParseChatMessage(r); err != nil {
			b.Fatal(err)
		}
	}
}
