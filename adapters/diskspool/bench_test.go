package diskspool_test

import (
	"bytes"
	"fmt"
	"testing"

	"pcx/adapters/diskspool"
)

func BenchmarkStoreRelease(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			s, err := diskspool.New(diskspool.Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			data := payload(size)
			r := bytes.NewReader(data)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(data)
				a, err := s.Store(int64(size), r)
				if err != nil {
					b.Fatal(err)
				}
				a.Release()
			}
		})
	}
}
