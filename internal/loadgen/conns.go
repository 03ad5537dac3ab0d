package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"pcx/domain"
)

const (
	// broadcastTimeout bounds the wait for one broadcast to reach everyone.
	broadcastTimeout = 10 * time.Second
)

// joinSuffix ends the text of a join notice, escaped (`\" connected`, as
// the fast path sees it) or not.
var joinSuffix = []byte(`" connected`)

// conns is one connections run: many idle clients, then a few broadcasts
// from client 0 to all the others.
type conns struct {
	cfg   Config
	start time.Time // the epoch of every ns figure
	nicks []string
	recv  []*connReceiver

	// The broadcast in flight: its number, how many receivers have it, and
	// when the latest of them got it (ns since start).
	round   atomic.Uint64
	reached atomic.Int64
	lastNS  atomic.Int64
}

func runConns(ctx context.Context, cfg Config) (Summary, error) {
	limit, err := raiseFileLimit()
	if err != nil {
		return Summary{}, err
	}
	if need := uint64(cfg.Clients) + 64; limit < need {
		return Summary{}, fmt.Errorf("%w: %d clients need %d open files, the limit is %d", ErrConfig, cfg.Clients, need, limit)
	}
	id := newRunID()
	c := &conns{cfg: cfg, start: time.Now()}
	c.round.Store(^uint64(0)) // no broadcast yet
	c.nicks = make([]string, cfg.Clients)
	c.recv = make([]*connReceiver, cfg.Clients)
	for i := range c.nicks {
		c.nicks[i] = nickname(id, i)
		c.recv[i] = &connReceiver{run: c}
	}
	probe := newProbe(cfg)
	before := probe.memory()
	stopProgress := progress(cfg.Progress, c.progressLine(probe))
	defer stopProgress()
	var readers sync.WaitGroup
	meter := startCPU(probe)
	loginStart := time.Now()
	clients, logins, err := loginAll(ctx, SplitServers(cfg.Server), c.nicks, cfg.Parallel, func(cl *client) {
		r := c.recv[cl.index]
		r.c = cl
		readers.Go(r.read)
	})
	if err != nil {
		readers.Wait()
		return Summary{}, err
	}
	loginTime := time.Since(loginStart)
	settleErr := c.settle(ctx)
	settleTime := time.Since(loginStart) - loginTime
	meter.stop()
	after := probe.memory()
	idle := after
	if probe.known() && settleErr == nil {
		idle = waitIdle(ctx, probe, c.cfg.Idle)
	}
	took, bcastErr := c.broadcasts(ctx, clients[0])
	closeAll(clients)
	readers.Wait()
	res := connsResult{
		limit: limit, loginTime: loginTime, logins: logins, settleTime: settleTime,
		before: before, after: after, idle: idle, broadcasts: took, meter: meter,
		err: errors.Join(settleErr, bcastErr),
	}
	return c.summarize(res, probe), nil
}

// joins sums the join notices the receivers have counted.
func (c *conns) joins() int64 {
	var n int64
	for _, r := range c.recv {
		n += r.joins.Load()
	}
	return n
}

// wantJoins is how many join notices a complete login makes: of any two
// clients, the one logged in first hears of the other.
func (c *conns) wantJoins() int64 {
	n := int64(c.cfg.Clients)
	return n * (n - 1) / 2
}

// settle waits until every join notice has arrived, so that the server is
// idle when its memory is read.
func (c *conns) settle(ctx context.Context) error {
	want := c.wantJoins()
	last, lastChange := int64(-1), time.Now()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		got := c.joins()
		switch {
		case got >= want:
			return nil
		case got != last:
			last, lastChange = got, time.Now()
		case time.Since(lastChange) > c.cfg.Drain:
			return fmt.Errorf("loadgen: %d of %d join notices arrived", got, want)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadgen: settle: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// broadcasts sends cfg.Messages messages from sender, one at a time, and
// returns how long each took to reach every other client.
func (c *conns) broadcasts(ctx context.Context, sender *client) ([]time.Duration, error) {
	var took []time.Duration
	for k := range c.cfg.Messages {
		d, err := c.broadcast(ctx, sender, uint64(k))
		if err != nil {
			return took, err
		}
		took = append(took, d)
	}
	return took, nil
}

func (c *conns) broadcast(ctx context.Context, sender *client, k uint64) (time.Duration, error) {
	c.reached.Store(0)
	c.lastNS.Store(0)
	c.round.Store(k)
	sent := int64(time.Since(c.start))
	body := append([]byte(chatHead), AppendStamp(nil, Stamp{Sender: 0, Seq: k, SentNS: sent}, 0)...)
	body = append(body, chatTail...)
	if err := sender.conn.Writer().WriteFrames([][]byte{body}); err != nil {
		return 0, fmt.Errorf("loadgen: broadcast: %w", err)
	}
	want := int64(c.cfg.Clients - 1)
	deadline := time.Now().Add(broadcastTimeout)
	for c.reached.Load() < want {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return 0, fmt.Errorf("loadgen: broadcast %d reached %d of %d clients", k, c.reached.Load(), want)
		}
		time.Sleep(100 * time.Microsecond)
	}
	return time.Duration(c.lastNS.Load() - sent), nil
}

// waitIdle lets the server sit idle for d (time for its runtime to hand
// back what the login storm left behind) and reads its memory then, or
// when ctx ends, whichever is first.
func waitIdle(ctx context.Context, probe serverProbe, d time.Duration) Memory {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return probe.memory()
}

func (c *conns) progressLine(probe serverProbe) func(time.Duration) string {
	return func(el time.Duration) string {
		logged := 0
		for _, r := range c.recv {
			if r.started.Load() {
				logged++
			}
		}
		return fmt.Sprintf("conns %v: logged in %d/%d, join notices %d/%d%s",
			el, logged, c.cfg.Clients, c.joins(), c.wantJoins(), probe.note())
	}
}

// connsResult gathers what a connections run measured.
type connsResult struct {
	limit         uint64
	loginTime     time.Duration
	logins        *Histogram
	settleTime    time.Duration
	before, after Memory // before the logins, and once every join notice arrived
	idle          Memory // idleWait later
	broadcasts    []time.Duration
	meter         *cpuMeter // over the logins and their notices
	err           error
}

func (c *conns) summarize(res connsResult, probe serverProbe) Summary {
	var garbled uint64
	for _, r := range c.recv {
		garbled += r.garbled
	}
	reason := ""
	switch {
	case res.err != nil:
		reason = res.err.Error()
	case garbled > 0:
		reason = "garbled records"
	}
	n := float64(c.cfg.Clients)
	var s Summary
	s.Add("scenario", ScenarioConns)
	s.Add("valid", reason == "")
	if reason != "" {
		s.Add("reason", reason)
	}
	s.Add("clients", c.cfg.Clients)
	addSpread(&s, SplitServers(c.cfg.Server), c.cfg.Clients)
	s.Add("fd_limit", res.limit)
	s.Add("login_s", res.loginTime.Seconds())
	s.Add("login_per_client_ms", res.loginTime.Seconds()*1e3/n)
	s.Add("login_p50_ms", float64(res.logins.Quantile(0.5))/1e6)
	s.Add("login_p99_ms", float64(res.logins.Quantile(0.99))/1e6)
	s.Add("join_notices", c.joins())
	s.Add("settle_s", res.settleTime.Seconds())
	s.Add("garbled", garbled)
	s.Add("broadcasts", len(res.broadcasts))
	if len(res.broadcasts) > 0 {
		sorted := slices.Sorted(slices.Values(res.broadcasts))
		s.Add("broadcast_ms", sorted[len(sorted)/2].Seconds()*1e3)
		s.Add("broadcast_max_ms", sorted[len(sorted)-1].Seconds()*1e3)
	}
	if probe.known() {
		s.Add("server_rss_before_kb", res.before.RSSKB)
		s.Add("server_rss_after_kb", res.after.RSSKB)
		s.Add("server_rss_per_client_kb", float64(res.after.RSSKB-res.before.RSSKB)/n)
		s.Add("server_rss_idle_kb", res.idle.RSSKB)
		s.Add("server_rss_idle_per_client_kb", float64(res.idle.RSSKB-res.before.RSSKB)/n)
		s.Add("server_hwm_kb", probe.memory().PeakKB)
	}
	res.meter.addTo(&s)
	return s
}

// connReceiver is the reading side of one idle client. Its reader
// goroutine owns garbled, read once it has ended.
type connReceiver struct {
	run     *conns
	c       *client
	started atomic.Bool  // the reader is running
	joins   atomic.Int64 // join notices received
	garbled uint64       // load records that did not parse
}

// read counts join notices and takes broadcasts until the connection ends.
func (r *connReceiver) read() {
	r.started.Store(true)
	buf := make([]byte, 0, 512)
	for {
		body, err := r.c.conn.Reader().ReadRecord(buf, maxRecord)
		if err != nil {
			return
		}
		if cap(body) > cap(buf) {
			buf = body[:0]
		}
		r.handle(body)
	}
}

func (r *connReceiver) handle(body []byte) {
	nick, text, ok := splitRelay(body)
	if !ok {
		rel, err := decodeRelay(body)
		if err != nil {
			r.garbled++
			return
		}
		nick, text = []byte(rel.Nickname), []byte(rel.Text)
	}
	if string(nick) == domain.ServerName {
		if bytes.HasSuffix(text, joinSuffix) {
			r.joins.Add(1)
		}
		return
	}
	st, err := ParseStamp(text)
	switch {
	case errors.Is(err, ErrNotStamp):
		return
	case err != nil:
		r.garbled++
		return
	}
	if st.Seq != r.run.round.Load() {
		return // a broadcast that timed out
	}
	now := int64(time.Since(r.run.start))
	r.run.reached.Add(1)
	for last := r.run.lastNS.Load(); now > last && !r.run.lastNS.CompareAndSwap(last, now); last = r.run.lastNS.Load() {
	}
}
