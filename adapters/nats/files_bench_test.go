//go:build unix

package nats_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"pcx/adapters/diskspool"
	pcxnats "pcx/adapters/nats"
	"pcx/internal/natstest"
	"pcx/ports"
	"pcx/ports/filesharetest"
)

// BenchmarkFetch moves a file from one node's spool to another's through
// one nats-server in this process, for chunk sizes and windows: what the
// defaults of FileOptions were chosen by. Run it as
//
//	go test -run '^$' -bench Fetch -benchtime 3x ./adapters/nats/
//
// (PCX_BENCH_FILE_MIB sets the file's size, default 64).
func BenchmarkFetch(b *testing.B) {
	size := int64(64) << 20
	if v := os.Getenv("PCX_BENCH_FILE_MIB"); v != "" {
		var mib int64
		if _, err := fmt.Sscan(v, &mib); err != nil {
			b.Fatal(err)
		}
		size = mib << 20
	}
	url := benchNATS(b)
	dir := b.TempDir()
	origin, err := diskspool.New(diskspool.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer origin.Close()
	att, err := origin.Store(size, io.LimitReader(payloadReader{}, size))
	if err != nil {
		b.Fatal(err)
	}
	defer att.Release()

	for _, chunk := range []int{64 << 10, 128 << 10, 256 << 10, 512 << 10, 1<<20 - 64} {
		for _, window := range []int{1, 2, 4, 8, 16, 32} {
			if chunk*window > 32<<20 {
				continue
			}
			name := fmt.Sprintf("chunk=%dKiB/window=%d", chunk>>10, window)
			b.Run(name, func(b *testing.B) {
				opts := pcxnats.FileOptions{Chunk: chunk, Window: window}
				a, fetcher := benchPair(b, url, opts)
				if err := a.Offer("f", att, ports.FileOffer{}); err != nil {
					b.Fatal(err)
				}
				defer a.Withdraw("f")
				into, err := diskspool.New(diskspool.Options{Dir: dir})
				if err != nil {
					b.Fatal(err)
				}
				defer into.Close()
				b.SetBytes(size)
				cpu := cpuTime()
				for b.Loop() {
					if err := fetchIntoSpool(fetcher, into, size); err != nil {
						b.Fatal(err)
					}
				}
				// The CPU the whole process (both nodes and nats-server)
				// spent on each GiB: what a busy machine cannot hide.
				b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N)/(float64(size)/(1<<30)), "cpu-s/GiB")
			})
		}
	}
}

// fetchIntoSpool fetches a's file "f" into spool through a pipe, as a
// server does, and drops it.
func fetchIntoSpool(f ports.FileShare, spool ports.Spool, size int64) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- pw.CloseWithError(f.Fetch(context.Background(), "a", "f", size, pw)) }()
	got, err := spool.Store(size, pr)
	pr.CloseWithError(io.ErrClosedPipe)
	if ferr := <-done; ferr != nil {
		return ferr
	}
	if err != nil {
		return err
	}
	got.Release()
	return nil
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// payloadReader gives bytes that are not all zero, endlessly.
type payloadReader struct{}

var benchBlock = filesharetest.Payload(1<<20, 1)

func (payloadReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], benchBlock)
	}
	return n, nil
}

// benchNATS starts a core nats-server for a benchmark: the share needs
// no JetStream.
func benchNATS(b *testing.B) string {
	return natstest.Start(b, natstest.WithoutJetStream()).URL()
}

// benchPair returns the shares of nodes "a" and "b".
func benchPair(b *testing.B, url string, opts pcxnats.FileOptions) (*pcxnats.Files, *pcxnats.Files) {
	var out []*pcxnats.Files
	for _, node := range []string{"a", "b"} {
		c, err := pcxnats.Dial(pcxnats.Options{URLs: []string{url}, Node: node})
		if err != nil {
			b.Fatal(err)
		}
		f, err := pcxnats.NewFiles(c, room, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close(); c.Close() })
		out = append(out, f)
	}
	return out[0], out[1]
}
