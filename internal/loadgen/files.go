package loadgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"pcx/adapters/dictcodec"
	"pcx/domain"
)

// copyBuffer is what a file receiver reads at once: large, so that a
// gigabyte costs few system calls.
const copyBuffer = 256 << 10

// files is one file run: client 0 sends one attachment, clients 1..R
// receive it. With several servers the sender is on the first and the
// first receiver on the second: the file crosses from server to server.
type files struct {
	cfg   Config
	start time.Time // the epoch of every ns figure below
	name  string    // the attachment's file name
	want  []byte    // the payload's SHA-256, when verifying by hash
	nicks []string
	recv  []*fileReceiver // index 0, the sender, only drains
}

func runFiles(ctx context.Context, cfg Config) (Summary, error) {
	id := newRunID()
	f := &files{cfg: cfg, start: time.Now(), name: "lg-" + id + ".bin"}
	f.nicks = make([]string, cfg.Receivers+1)
	f.recv = make([]*fileReceiver, cfg.Receivers+1)
	for i := range f.nicks {
		f.nicks[i] = nickname(id, i)
		f.recv[i] = &fileReceiver{run: f}
	}
	if cfg.Verify == VerifySHA256 {
		f.want = payloadSum(cfg.Bytes) // before the clock starts
	}
	var readers sync.WaitGroup
	clients, _, err := loginAll(ctx, SplitServers(cfg.Server), f.nicks, cfg.Parallel, func(c *client) {
		r := f.recv[c.index]
		r.c = c
		readers.Go(r.read)
	})
	if err != nil {
		readers.Wait()
		return Summary{}, err
	}
	probe := newProbe(cfg)
	meter := startCPU(probe)
	stopProgress := progress(cfg.Progress, f.progressLine(probe))
	sendStart := time.Since(f.start)
	sendErr := f.send(clients[0])
	sendEnd := time.Since(f.start)
	waitErr := f.wait(ctx)
	meter.stop()
	stopProgress()
	closeAll(clients)
	readers.Wait()
	return f.summarize(sendStart, sendEnd, meter, probe, errors.Join(sendErr, waitErr)), nil
}

// send writes the attachment record and streams the payload after it.
func (f *files) send(c *client) error {
	req := domain.Request{Message: domain.ChatMessage{Text: "loadgen file " + f.name, Attachment: f.name, HasAttachment: true}}
	if err := c.conn.Writer().WriteFrames([][]byte{dictcodec.AppendRequest(nil, &req)}); err != nil {
		return fmt.Errorf("loadgen: send file: %w", err)
	}
	if err := c.conn.Writer().WritePayload(f.cfg.Bytes, newPayload(f.cfg.Bytes)); err != nil {
		return fmt.Errorf("loadgen: send file: %w", err)
	}
	return nil
}

// wait returns once every receiver has the whole file, or none has made
// progress for the drain time, or ctx ends.
func (f *files) wait(ctx context.Context) error {
	last, lastChange := int64(-1), time.Now()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		done, got := f.progress()
		switch {
		case done == f.cfg.Receivers:
			return nil
		case got != last:
			last, lastChange = got, time.Now()
		case time.Since(lastChange) > f.cfg.Drain:
			return fmt.Errorf("loadgen: no file progress for %v: %d of %d receivers done", f.cfg.Drain, done, f.cfg.Receivers)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadgen: file wait: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// progress returns how many receivers are done and the bytes received.
func (f *files) progress() (done int, got int64) {
	for _, r := range f.recv[1:] {
		got += r.got.Load()
		if r.doneNS.Load() > 0 {
			done++
		}
	}
	return done, got
}

func (f *files) progressLine(probe serverProbe) func(time.Duration) string {
	var prev int64
	return func(el time.Duration) string {
		done, got := f.progress()
		line := fmt.Sprintf("files %v: received %d MB of %d MB, %d/%d done (%d MB/s)%s",
			el, got/1e6, int64(f.cfg.Receivers)*f.cfg.Bytes/1e6, done, f.cfg.Receivers, (got-prev)/1e6, probe.note())
		prev = got
		return line
	}
}

func (f *files) summarize(sendStart, sendEnd time.Duration, meter *cpuMeter, probe serverProbe, runErr error) Summary {
	var slowest, fastest time.Duration
	var matched int
	for _, r := range f.recv[1:] {
		took := time.Duration(r.doneNS.Load()) - sendStart
		if r.doneNS.Load() == 0 {
			took = 0
		}
		slowest = max(slowest, took)
		if fastest == 0 || (took > 0 && took < fastest) {
			fastest = took
		}
		if r.doneNS.Load() > 0 && r.intact {
			matched++
		}
	}
	reason := ""
	switch {
	case runErr != nil:
		reason = runErr.Error()
	case matched < f.cfg.Receivers:
		reason = fmt.Sprintf("%d of %d receivers got the file intact", matched, f.cfg.Receivers)
	}
	mb := float64(f.cfg.Bytes) / 1e6
	var s Summary
	s.Add("scenario", ScenarioFiles)
	s.Add("valid", reason == "")
	if reason != "" {
		s.Add("reason", reason)
	}
	s.Add("receivers", f.cfg.Receivers)
	addSpread(&s, SplitServers(f.cfg.Server), f.cfg.Receivers+1) // the sender is client 0
	s.Add("bytes", f.cfg.Bytes)
	s.Add("verify", f.cfg.Verify)
	s.Add("intact", matched)
	s.Add("upload_s", (sendEnd - sendStart).Seconds())
	s.Add("seconds", slowest.Seconds())
	s.Add("first_done_s", fastest.Seconds())
	s.Add("mb_per_s_receiver", ratio(mb, slowest))
	s.Add("mb_per_s_aggregate", ratio(mb*float64(f.cfg.Receivers), slowest))
	if f.want != nil {
		s.Add("sha256", hex.EncodeToString(f.want))
	}
	meter.addTo(&s)
	addMemory(&s, probe)
	return s
}

func ratio(x float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return x / d.Seconds()
}

// fileReceiver is the reading side of one client of a file run. Its reader
// goroutine owns every field but the atomics; sum is read once it ended.
type fileReceiver struct {
	run *files
	c   *client

	got    atomic.Int64 // payload bytes received so far
	doneNS atomic.Int64 // when the payload was whole, ns since run.start; 0 = not yet
	intact bool         // the payload passed the run's check
	err    error        // why reading stopped
}

// read takes records until the connection ends; the run's attachment is
// read (and hashed), every other frame skipped.
func (r *fileReceiver) read() {
	for {
		body, err := r.c.conn.Reader().ReadRecord(nil, maxRecord)
		if err != nil {
			r.err = err
			return
		}
		rel, err := decodeRelay(body)
		if err != nil || !rel.HasAttachment {
			continue // notices; a broken record is the fan-out run's concern
		}
		n, payload, err := r.c.conn.Reader().ReadPayload()
		if err != nil {
			r.err = err
			return
		}
		if rel.Nickname != r.run.nicks[0] || rel.Attachment != r.run.name {
			continue // someone else's file: the next read skips it
		}
		if err := r.take(n, payload); err != nil {
			r.err = err
			return
		}
	}
}

// take reads the run's payload to its end and checks it.
func (r *fileReceiver) take(n int64, payload io.Reader) error {
	var sink io.Writer = io.Discard
	var h hash.Hash
	var cmp *compareWriter
	switch r.run.cfg.Verify {
	case VerifySHA256:
		h = sha256.New()
		sink = h
	case VerifyCompare:
		cmp = &compareWriter{want: newPayload(n)}
		sink = cmp
	}
	_, err := io.CopyBuffer(countingWriter{sink, &r.got}, payload, make([]byte, copyBuffer))
	if err != nil {
		return fmt.Errorf("loadgen: file payload: %w", err)
	}
	if r.got.Load() != n || n != r.run.cfg.Bytes {
		return fmt.Errorf("loadgen: file payload of %d bytes, want %d", n, r.run.cfg.Bytes)
	}
	switch {
	case h != nil:
		r.intact = bytes.Equal(h.Sum(nil), r.run.want)
	case cmp != nil:
		r.intact = !cmp.differs
	default:
		r.intact = true
	}
	r.doneNS.Store(int64(time.Since(r.run.start)))
	return nil
}

// compareWriter compares what is written to it with the payload stream.
type compareWriter struct {
	want    *payloadReader
	buf     []byte
	differs bool // some byte written differed from the stream
}

func (c *compareWriter) Write(p []byte) (int, error) {
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	exp := c.buf[:len(p)]
	k, _ := io.ReadFull(c.want, exp) // short only past the stream's end
	if k < len(p) || !bytes.Equal(exp, p) {
		c.differs = true
	}
	return len(p), nil
}

// countingWriter adds what it writes to a counter others may read.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
