package main

import (
	"log/slog"
	"os"

	"pcx/adapters/diskspool"
	"pcx/adapters/prometheus"
)

// openSpool creates the attachment spool; its cleanup removes every file
// it still holds. With --max-spool auto the limit is chosen from the free
// space of the spool's file system at start, and logged.
func openSpool(s settings, metrics *prometheus.Metrics, log *slog.Logger) (*diskspool.Spool, func(), error) {
	dir := s.SpoolDir
	if dir == "" {
		dir = os.TempDir()
	}
	limit := int64(s.MaxSpool)
	if s.MaxSpool == autoSpool {
		free, err := freeSpace(dir)
		if err != nil {
			log.Warn("free space of the spool directory unknown; spool limited to the fallback",
				"dir", dir, "err", err, "max_spool", fallbackSpool)
		}
		limit = spoolLimit(free, err)
	}
	sp, err := diskspool.New(diskspool.Options{Dir: s.SpoolDir, MaxBytes: limit})
	if err != nil {
		return nil, nil, err
	}
	log.Info("attachment spool", "dir", sp.Dir(), "max_spool", (*byteSize)(&limit).String(), "auto", s.MaxSpool == autoSpool)
	watchSpool(metrics, sp)
	return sp, func() { sp.Close() }, nil
}

// maxAutoSpool caps --max-spool auto; fallbackSpool is what it gives when
// the free space cannot be learnt.
const (
	maxAutoSpool  = 8 << 30
	fallbackSpool = 1 << 30
)

// spoolLimit is --max-spool auto: the lesser of 8 GiB and half of the free
// space at start, so that the spool alone cannot fill the disk. At least
// one byte: a limit of 0 would mean none.
func spoolLimit(free int64, err error) int64 {
	if err != nil {
		return fallbackSpool
	}
	return max(min(maxAutoSpool, free/2), 1)
}
