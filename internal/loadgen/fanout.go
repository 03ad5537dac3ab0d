package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"pcx/domain"
)

const (
	// sendBatch is how many messages an unpaced sender writes per system
	// call.
	sendBatch = 64
	// publishEvery is the step in which a receiver publishes how many
	// messages of each sender it has; a window must be larger.
	publishEvery = 64
	// sampleEvery is how often (one load message in so many, per
	// receiver) the fast path's reading is checked against a full decode.
	sampleEvery = 1024
	// autoWindowBytes is what the automatic window lets queue up for one
	// receiver, all senders together: well under the server's 8 MiB bound.
	autoWindowBytes = 2 << 20
	// relayOverhead is roughly what a relayed record adds to its text.
	relayOverhead = 100
)

// fanout is one fan-out run: every client reads, the first Senders also
// send.
type fanout struct {
	cfg    Config
	start  time.Time // the epoch of every Stamp.SentNS and receive time
	prefix string    // the nickname prefix shared by this run's clients
	nicks  [][]byte  // client index -> nickname
	size   int       // text length actually sent
	window int       // 0 = unbounded
	recv   []*fanReceiver
	sent   atomic.Uint64 // messages written, all senders together
}

func newFanout(cfg Config) *fanout {
	id := newRunID()
	f := &fanout{cfg: cfg, start: time.Now(), prefix: nickname(id, 0)[:len("lg-")+len(id)+1]}
	f.size = max(cfg.Size, StampLen)
	f.window = cfg.Window
	switch {
	case f.window == 0:
		f.window = autoWindowBytes / (cfg.Senders * (f.size + relayOverhead))
		f.window = min(max(f.window, 4*publishEvery), 1<<16)
	case f.window < 0:
		f.window = 0
	default:
		f.window = max(f.window, 2*publishEvery)
	}
	f.nicks = make([][]byte, cfg.Clients)
	f.recv = make([]*fanReceiver, cfg.Clients)
	for i := range f.nicks {
		f.nicks[i] = []byte(nickname(id, i))
		f.recv[i] = &fanReceiver{
			run:      f,
			checker:  NewChecker(cfg.Senders, uint64(cfg.Messages), i),
			progress: make([]atomic.Uint64, max(cfg.Senders, 8)), // 8: a cache line of its own
		}
	}
	return f
}

func runFanout(ctx context.Context, cfg Config) (Summary, error) {
	f := newFanout(cfg)
	var readers sync.WaitGroup
	names := make([]string, len(f.nicks))
	for i, n := range f.nicks {
		names[i] = string(n)
	}
	loginStart := time.Now()
	clients, logins, err := loginAll(ctx, SplitServers(cfg.Server), names, cfg.Parallel, func(c *client) {
		r := f.recv[c.index]
		r.c = c
		readers.Go(r.read)
	})
	if err != nil {
		readers.Wait()
		return Summary{}, err
	}
	loginTime := time.Since(loginStart)
	probe := newProbe(cfg)
	meter := startCPU(probe)
	stopProgress := progress(cfg.Progress, f.progressLine(probe))
	firstSend := time.Since(f.start)
	sendErr := f.sendAll(ctx, clients[:cfg.Senders])
	waitErr := f.drain(ctx)
	meter.stop()
	stopProgress()
	closeAll(clients)
	readers.Wait()
	return f.summarize(loginTime, logins, firstSend, meter, probe, errors.Join(sendErr, waitErr)), nil
}

// sendAll starts every sender and waits for them; it returns the first
// error.
func (f *fanout) sendAll(ctx context.Context, senders []*client) error {
	errs := make([]error, len(senders))
	var wg sync.WaitGroup
	for i, c := range senders {
		wg.Go(func() { errs[i] = f.send(ctx, c) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// send writes sender c's messages: in batches as fast as the window lets
// it, or paced to its share of the rate.
func (f *fanout) send(ctx context.Context, c *client) error {
	per := f.cfg.Messages
	var interval time.Duration
	var pace time.Time // when message 0 is due
	if f.cfg.Rate > 0 {
		interval = time.Duration(float64(f.cfg.Senders) / f.cfg.Rate * float64(time.Second))
		// Spread the senders over one interval so they do not tick together.
		pace = time.Now().Add(interval * time.Duration(c.index) / time.Duration(f.cfg.Senders))
	}
	buf := make([]byte, 0, sendBatch*(f.size+len(chatHead)+len(chatTail)))
	bodies := make([][]byte, 0, sendBatch)
	for seq := 0; seq < per; {
		n := min(sendBatch, per-seq)
		if f.window > 0 {
			n = f.waitWindow(ctx, c.index, seq, n)
		}
		if interval > 0 && n > 0 {
			n = waitDue(ctx, pace, interval, seq, n)
		}
		if n == 0 {
			return fmt.Errorf("loadgen: sender %s stopped after %d of %d messages: %w", c.nick, seq, per, ctx.Err())
		}
		buf, bodies = buf[:0], bodies[:0]
		for i := range n {
			at := len(buf)
			buf = append(buf, chatHead...)
			buf = AppendStamp(buf, Stamp{Sender: c.index, Seq: uint64(seq + i), SentNS: int64(time.Since(f.start))}, f.size)
			buf = append(buf, chatTail...)
			bodies = append(bodies, buf[at:])
		}
		if err := c.conn.Writer().WriteFrames(bodies); err != nil {
			return fmt.Errorf("loadgen: sender %s: %w", c.nick, err)
		}
		seq += n
		f.sent.Add(uint64(n))
	}
	return nil
}

// waitDue sleeps until message seq is due and returns how many of the next
// n are due by then (at least 1); 0 if ctx ended first.
func waitDue(ctx context.Context, pace time.Time, interval time.Duration, seq, n int) int {
	due := pace.Add(interval * time.Duration(seq))
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0
		case <-t.C:
		}
	}
	late := time.Since(due)
	return min(n, 1+int(late/interval))
}

// waitWindow waits until sender may have n more messages in flight, or at
// least one, and returns how many; 0 if ctx ended first. A receiver whose
// connection has ended no longer holds the window back.
func (f *fanout) waitWindow(ctx context.Context, sender, seq, n int) int {
	for {
		room := int(f.slowest(sender)) + f.window - seq
		if room > 0 {
			return min(n, room)
		}
		if ctx.Err() != nil {
			return 0
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// slowest returns how many messages of sender the slowest live receiver
// has published.
func (f *fanout) slowest(sender int) uint64 {
	low := uint64(f.cfg.Messages)
	for i, r := range f.recv {
		if i != sender && !r.ended.Load() {
			low = min(low, r.progress[sender].Load())
		}
	}
	return low
}

// expected is the number of deliveries a faultless run makes: every
// message to every client but its sender.
func (f *fanout) expected() uint64 {
	return uint64(f.cfg.Senders) * uint64(f.cfg.Messages) * uint64(f.cfg.Clients-1)
}

// delivered sums the receivers' counts of distinct load messages.
func (f *fanout) delivered() uint64 {
	var n uint64
	for _, r := range f.recv {
		n += r.delivered.Load()
	}
	return n
}

// drain waits, once the senders are done, until every delivery has been
// made, or none has been made for the drain time, or ctx ends.
func (f *fanout) drain(ctx context.Context) error {
	want := f.expected()
	last, lastChange := f.delivered(), time.Now()
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		got := f.delivered()
		switch {
		case got >= want:
			return nil
		case got != last:
			last, lastChange = got, time.Now()
		case time.Since(lastChange) > f.cfg.Drain:
			return fmt.Errorf("loadgen: no delivery for %v with %d of %d made", f.cfg.Drain, got, want)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadgen: drain: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (f *fanout) progressLine(probe serverProbe) func(time.Duration) string {
	var prev uint64
	return func(el time.Duration) string {
		got := f.delivered()
		line := fmt.Sprintf("fanout %v: sent %d/%d delivered %d/%d (%d/s)%s",
			el, f.sent.Load(), f.cfg.Senders*f.cfg.Messages, got, f.expected(), got-prev, probe.note())
		prev = got
		return line
	}
}

// summarize merges the receivers' figures; it runs after they ended.
func (f *fanout) summarize(loginTime time.Duration, logins *Histogram, firstSend time.Duration, meter *cpuMeter, probe serverProbe, runErr error) Summary {
	var lat Histogram
	servers := len(SplitServers(f.cfg.Server))
	latEach := make([]Histogram, servers) // by the receiver's server
	var lost, dup, reorder, garbled, notices, foreign, noncanon uint64
	var last int64
	var shapeErr error
	for _, r := range f.recv {
		l, d, o, g := r.checker.Counts()
		lost, dup, reorder, garbled = lost+l, dup+d, reorder+o, garbled+g
		notices, foreign, noncanon = notices+r.notices, foreign+r.foreign, noncanon+r.noncanonical
		lat.Merge(&r.latency)
		if r.c != nil {
			latEach[serverOf(r.c.index, servers)].Merge(&r.latency)
		}
		last = max(last, r.lastNS.Load())
		if shapeErr == nil {
			shapeErr = r.shapeErr
		}
	}
	elapsed := time.Duration(last) - firstSend
	got := f.delivered()
	var s Summary
	var reasons []string
	if lost+dup+reorder+garbled > 0 {
		reasons = append(reasons, "deliveries faulty")
	}
	if shapeErr != nil {
		reasons = append(reasons, shapeErr.Error())
	}
	if runErr != nil {
		reasons = append(reasons, strings.ReplaceAll(runErr.Error(), "\n", "; "))
	}
	reason := strings.Join(reasons, "; ")
	s.Add("scenario", ScenarioFanout)
	s.Add("valid", reason == "")
	if reason != "" {
		s.Add("reason", reason)
	}
	s.Add("clients", f.cfg.Clients)
	addSpread(&s, SplitServers(f.cfg.Server), f.cfg.Clients)
	s.Add("senders", f.cfg.Senders)
	s.Add("messages", f.cfg.Messages)
	s.Add("size", f.size)
	s.Add("rate", f.cfg.Rate)
	s.Add("window", f.window)
	s.Add("expected", f.expected())
	s.Add("delivered", got)
	s.Add("lost", lost)
	s.Add("dup", dup)
	s.Add("reorder", reorder)
	s.Add("garbled", garbled)
	s.Add("notices", notices)
	s.Add("foreign", foreign)
	s.Add("noncanonical", noncanon)
	s.Add("login_s", loginTime.Seconds())
	s.Add("login_p99_ms", float64(logins.Quantile(0.99))/1e6)
	s.Add("elapsed_s", elapsed.Seconds())
	s.Add("deliveries_per_s", perSecond(got, elapsed))
	s.Add("sends_per_s", perSecond(f.sent.Load(), elapsed))
	s.Add("p50_us", float64(lat.Quantile(0.50))/1e3)
	s.Add("p99_us", float64(lat.Quantile(0.99))/1e3)
	s.Add("p999_us", float64(lat.Quantile(0.999))/1e3)
	s.Add("max_us", float64(lat.Max())/1e3)
	if servers > 1 {
		// Latency by the receiver's server: with one sender (on the first
		// server) the others' figures are those of the crossing.
		p50, p99 := make([]string, servers), make([]string, servers)
		for i := range latEach {
			p50[i] = strconv.FormatFloat(float64(latEach[i].Quantile(0.50))/1e3, 'f', 0, 64)
			p99[i] = strconv.FormatFloat(float64(latEach[i].Quantile(0.99))/1e3, 'f', 0, 64)
		}
		s.Add("p50_us_each", strings.Join(p50, ","))
		s.Add("p99_us_each", strings.Join(p99, ","))
	}
	meter.addTo(&s)
	addMemory(&s, probe)
	return s
}

func perSecond(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// fanReceiver is the reading side of one client of a fan-out run. Its
// reader goroutine owns every field but the atomics, which others read
// while it runs; the rest is read once it has ended.
type fanReceiver struct {
	run     *fanout
	c       *client
	checker *Checker
	latency Histogram

	delivered atomic.Uint64 // distinct load messages received
	lastNS    atomic.Int64  // receive time of the latest of them, ns since run.start
	ended     atomic.Bool   // the reader has stopped
	// progress[s] is how many messages of sender s have arrived, published
	// in steps of publishEvery (and at the last one).
	progress []atomic.Uint64

	loads        uint64 // load messages taken by the fast path, for sampling
	notices      uint64 // records from SERVER
	foreign      uint64 // messages of other clients than this run's
	noncanonical uint64 // load messages that needed a full decode
	shapeErr     error  // the first sampled record that failed checkShape
	err          error  // why reading stopped
}

// read reads frames until the connection ends.
func (r *fanReceiver) read() {
	defer r.ended.Store(true)
	buf := make([]byte, 0, 4096)
	for {
		body, err := r.c.conn.Reader().ReadRecord(buf, maxRecord)
		if err != nil {
			r.err = err
			return
		}
		if cap(body) > cap(buf) {
			buf = body[:0]
		}
		r.handle(body, int64(time.Since(r.run.start)))
	}
}

// handle classifies one record received at now.
func (r *fanReceiver) handle(body []byte, now int64) {
	nick, text, ok := splitRelay(body)
	if !ok {
		r.handleSlow(body, now)
		return
	}
	st, err := ParseStamp(text)
	switch {
	case errors.Is(err, ErrNotStamp):
		r.other(nick)
		return
	case err != nil:
		r.checker.Garble()
		return
	}
	if r.loads++; r.loads%sampleEvery == 1 {
		if err := checkShape(body, nick, text); err != nil {
			r.garble(err)
			return
		}
	}
	r.accept(st, nick, now)
}

// handleSlow decodes a record the fast path did not take.
func (r *fanReceiver) handleSlow(body []byte, now int64) {
	rel, err := decodeRelay(body)
	if err != nil {
		r.garble(err)
		return
	}
	if rel.HasAttachment {
		// Not ours: step over its payload frame.
		if _, _, err := r.c.conn.Reader().ReadPayload(); err != nil {
			r.err = err
		}
		r.foreign++
		return
	}
	st, err := ParseStamp([]byte(rel.Text))
	switch {
	case errors.Is(err, ErrNotStamp):
		r.other([]byte(rel.Nickname))
		return
	case err != nil:
		r.checker.Garble()
		return
	}
	r.noncanonical++
	r.accept(st, []byte(rel.Nickname), now)
}

// other counts a record whose text is not a load message.
func (r *fanReceiver) other(nick []byte) {
	switch {
	case string(nick) == domain.ServerName:
		r.notices++
	case bytes.HasPrefix(nick, []byte(r.run.prefix)):
		r.checker.Garble() // one of ours sent something that is not a load text
	default:
		r.foreign++
	}
}

func (r *fanReceiver) garble(err error) {
	r.checker.Garble()
	if r.shapeErr == nil {
		r.shapeErr = err
	}
}

// accept records a load message that came from nick.
func (r *fanReceiver) accept(st Stamp, nick []byte, now int64) {
	if st.Sender >= len(r.run.nicks) || !bytes.Equal(nick, r.run.nicks[st.Sender]) {
		r.garble(fmt.Errorf("loadgen: message of sender %d came from %q", st.Sender, nick))
		return
	}
	switch r.checker.Observe(st) {
	case Delivered, Reordered:
	default:
		return
	}
	r.latency.Record(uint64(max(now-st.SentNS, 0)))
	r.lastNS.Store(now)
	r.delivered.Add(1)
	if got := r.checker.Received(st.Sender); got%publishEvery == 0 || got == uint64(r.run.cfg.Messages) {
		r.progress[st.Sender].Store(got)
	}
}
