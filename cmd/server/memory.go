package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// trimMemory hands memory back to the operating system once a burst is
// over.
//
// The Go runtime keeps freed heap for reuse until a later collection lowers
// its goal, and an idle server allocates nothing, so it collects nothing:
// after a storm of join notices to 10,000 users the server held half again
// its live memory for as long as it stayed idle. Every interval trimMemory
// looks at how much was allocated: when a quiet interval (under quiet
// bytes) follows at least burst bytes of allocation since the last trim, it
// collects and releases what is free. The cost is one collection per burst.
func trimMemory(ctx context.Context, interval time.Duration, quiet, burst uint64, log *slog.Logger) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	last := sample[0].Value.Uint64()
	var sinceTrim uint64
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		metrics.Read(sample)
		now := sample[0].Value.Uint64()
		delta := now - last
		last = now
		sinceTrim += delta
		if delta < quiet && sinceTrim >= burst {
			debug.FreeOSMemory()
			log.Debug("returned free memory to the system after a burst", "allocated", sinceTrim)
			sinceTrim = 0
		}
	}
}
