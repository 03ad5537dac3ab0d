//go:build linux

package diskspool

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPayloadFile writes a 64 MiB payload into a file of the
// benchmark's temporary directory, with and without reserving its blocks
// ahead, and reports the process's CPU per payload (the writes' cost in
// the kernel is most of it): go test -bench PayloadFile -benchtime 20x
// ./adapters/diskspool/
func BenchmarkPayloadFile(b *testing.B) {
	const n = 64 << 20
	data := pattern(n)
	for _, tc := range []struct {
		name     string
		allocate func(*os.File, int64, int64) error
	}{{"plain", nil}, {"prealloc", fallocate}} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(n)
			start := cpuTime()
			for b.Loop() {
				f, err := os.Create(filepath.Join(dir, "payload"))
				if err != nil {
					b.Fatal(err)
				}
				dst := &budgetFile{s: &Spool{}, f: f, size: n, allocate: tc.allocate, step: preallocStep}
				if err := copyPayload(dst, bytes.NewReader(data), n); err != nil {
					b.Fatal(err)
				}
				f.Close()
				os.Remove(f.Name())
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
