package server_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"pcx/app/server"
	"pcx/internal/testpeer"
)

// BenchmarkFanOut relays 64-byte texts from one sender to 100 receivers on
// the in-memory transport; one op is one message delivered to all 100.
func BenchmarkFanOut(b *testing.B) {
	for _, receivers := range []int{10, 100} {
		b.Run(fmt.Sprint("receivers=", receivers), func(b *testing.B) {
			benchmarkFanOut(b, receivers)
		})
	}
}

func benchmarkFanOut(b *testing.B, receivers int) {
	// The rate limit off, as benchmarks run.
	h := start(b, server.Config{RateLimit: -1})
	sender := h.login("sender").Conn
	// The sender reads what it is sent (the join notices), as a client
	// does; on the in-memory transport a peer that never reads blocks its
	// writer at once.
	go func() {
		var body []byte
		for {
			var err error
			if body, err = sender.Reader().ReadRecord(body[:0], 1<<16); err != nil {
				return
			}
		}
	}()
	var ready, done sync.WaitGroup
	for i := range receivers {
		p := h.login(fmt.Sprint("r", i)).Conn
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			// Drain join notices until the sender's first message.
			want, first := b.N, true
			var body []byte
			for want > 0 {
				var err error
				body, err = p.Reader().ReadRecord(body[:0], 1<<16)
				if err != nil {
					b.Error(err)
					return
				}
				if bytes.Contains(body, []byte(`"nickname":"sender"`)) {
					if first {
						ready.Done()
						first = false
					}
					want--
				}
			}
		}()
	}
	text := testpeer.Encode("text", strings.Repeat("x", 64))
	// One message first so every receiver is known to be in the room.
	_ = sender.Writer().WriteFrames([][]byte{text})
	ready.Wait()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N - 1 {
		if err := sender.Writer().WriteFrames([][]byte{text}); err != nil {
			b.Fatal(err)
		}
	}
	done.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N*receivers)/time.Since(start).Seconds(), "deliveries/s")
}
