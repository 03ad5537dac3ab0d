package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// trimMemory hands memory back to the operating system after a burst.
//
// The Go runtime keeps freed heap for reuse until the next collection
// lowers its goal, and an idle server allocates nothing, so collects
// nothing: after a storm of join notices to 10,000 users, the server held
// twice its live memory for minutes. Every interval, if more than a
// threshold of heap lies free, trimMemory collects and releases it. The
// cost is one collection, only after a burst.
func trimMemory(ctx context.Context, interval time.Duration, threshold uint64, log *slog.Logger) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		metrics.Read(sample)
		if free := sample[0].Value.Uint64(); free > threshold {
			debug.FreeOSMemory()
			log.Debug("returned free memory to the system", "bytes", free)
		}
	}
}
