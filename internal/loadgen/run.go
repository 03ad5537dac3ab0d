// Package loadgen drives a chat server that speaks the pcx wire protocol
// (PROTOCOL.md) with many clients at once and measures what it delivers:
// the scenarios behind BENCHMARKS.md. It speaks only the protocol, so it
// measures any server that does, and it checks every delivery it counts.
//
// Each client is one TCP connection with one reading goroutine, plus one
// writing goroutine for the clients that send. Readers keep their own
// statistics (a Checker, a Histogram) and publish only counters, through
// atomics, so that they share no lock; the figures are merged once the
// connections are closed and the readers have ended.
package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scenario names.
const (
	ScenarioFanout = "fanout"
	ScenarioFiles  = "files"
	ScenarioConns  = "conns"
)

// How a file receiver checks what it got.
const (
	// VerifySHA256 hashes the payload and compares with the sender's hash.
	VerifySHA256 = "sha256"
	// VerifyCompare compares every byte with the regenerated stream: an
	// exact check at the cost of a memory compare, so that the tool's
	// checking does not dominate a fast transfer as hashing does.
	VerifyCompare = "compare"
	// VerifyNone only counts the bytes.
	VerifyNone = "none"
)

// ErrConfig means a Config cannot describe a run.
var ErrConfig = errors.New("loadgen: invalid configuration")

// Config describes one run.
type Config struct {
	// Server is host:port of the server, or of several servers of one room
	// separated by commas: client i of a run dials server i mod their
	// number, so that senders and receivers alike are spread over them
	// and messages cross from server to server. An address may start with
	// WSScheme or TLSScheme.
	Server   string
	Scenario string // ScenarioFanout, ScenarioFiles or ScenarioConns

	Clients  int     // fanout, conns: connections logged in
	Senders  int     // fanout: how many of the clients send
	Messages int     // fanout: messages per sender; conns: broadcasts
	Size     int     // fanout: text length in bytes (at least StampLen)
	Rate     float64 // fanout: messages per second, all senders together; 0 = unpaced
	// Window bounds, in fanout, the messages of one sender that some
	// receiver has not yet got (0 = automatic, negative = no bound), so
	// that an unpaced run measures what the server sustains rather than
	// how fast its queues fill.
	Window int

	Receivers int    // files: receiving clients
	Bytes     int64  // files: payload size
	Verify    string // files: VerifySHA256 (default), VerifyCompare or VerifyNone

	ServerPIDs []int         // the servers' pids, whose memory and CPU are read from /proc
	Duration   time.Duration // cap on the whole run; 0 = none
	Drain      time.Duration // wait with no progress before declaring messages lost
	Idle       time.Duration // conns: how long clients sit idle before the server's memory is read again
	Parallel   int           // logins in flight at once

	Progress io.Writer // where progress lines go once a second; nil = nowhere
}

func (c *Config) setDefaults() {
	if c.Idle <= 0 {
		c.Idle = 30 * time.Second
	}
	if c.Drain <= 0 {
		c.Drain = 5 * time.Second
	}
	if c.Parallel <= 0 {
		c.Parallel = 64
	}
	if c.Verify == "" {
		c.Verify = VerifySHA256
	}
}

func (c *Config) validate() error {
	switch c.Scenario {
	case ScenarioFanout:
		if c.Clients < 2 || c.Senders < 1 || c.Senders > c.Clients || c.Senders > MaxSenders {
			return fmt.Errorf("%w: fanout needs 2 or more clients and 1..clients senders", ErrConfig)
		}
		if c.Messages < 1 || c.Messages >= MaxSeq {
			return fmt.Errorf("%w: fanout needs 1 or more messages", ErrConfig)
		}
		if c.Rate < 0 {
			return fmt.Errorf("%w: rate must not be negative", ErrConfig)
		}
	case ScenarioFiles:
		if c.Receivers < 1 || c.Bytes < 1 {
			return fmt.Errorf("%w: files needs 1 or more receivers and bytes", ErrConfig)
		}
		if c.Verify != VerifySHA256 && c.Verify != VerifyCompare && c.Verify != VerifyNone {
			return fmt.Errorf("%w: unknown verify mode %q", ErrConfig, c.Verify)
		}
	case ScenarioConns:
		if c.Clients < 2 || c.Messages < 1 {
			return fmt.Errorf("%w: conns needs 2 or more clients and 1 or more broadcasts", ErrConfig)
		}
	default:
		return fmt.Errorf("%w: unknown scenario %q", ErrConfig, c.Scenario)
	}
	if c.Server == "" {
		return fmt.Errorf("%w: no server address", ErrConfig)
	}
	for _, a := range SplitServers(c.Server) {
		if a == "" {
			return fmt.Errorf("%w: an empty address in the server list %q", ErrConfig, c.Server)
		}
	}
	for _, pid := range c.ServerPIDs {
		if pid <= 0 {
			return fmt.Errorf("%w: server pid %d", ErrConfig, pid)
		}
	}
	return nil
}

// SplitServers splits a server list (Config.Server) into its addresses.
func SplitServers(list string) []string {
	addrs := strings.Split(list, ",")
	for i, a := range addrs {
		addrs[i] = strings.TrimSpace(a)
	}
	return addrs
}

// WithScheme puts scheme (TLSScheme or WSScheme) before every address of a
// server list that does not start with it yet.
func WithScheme(list, scheme string) string {
	addrs := SplitServers(list)
	for i, a := range addrs {
		if !strings.HasPrefix(a, scheme) {
			addrs[i] = scheme + a
		}
	}
	return strings.Join(addrs, ",")
}

// serverOf is the server that client i of a run dials, of n: round-robin,
// so that with one sender and many receivers the receivers are on every
// server, and client 0 and client 1 (a file's sender and first receiver)
// are on different ones.
func serverOf(i, n int) int { return i % n }

// spread counts the clients of a run of clients on each of n servers.
func spread(clients, n int) []int {
	counts := make([]int, n)
	for i := range clients {
		counts[serverOf(i, n)]++
	}
	return counts
}

// addSpread appends how the run's clients were spread over the servers.
func addSpread(s *Summary, servers []string, clients int) {
	s.Add("servers", len(servers))
	s.Add("clients_per_server", joinInts(spread(clients, len(servers))))
}

// joinInts writes numbers as a comma-separated list, one per server.
func joinInts[T int | int64](xs []T) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatInt(int64(x), 10)
	}
	return strings.Join(parts, ",")
}

// Run performs the run cfg describes and summarizes it. A run that
// completed but found a fault (a message lost, a hash that differs) is not
// an error: the summary says valid=false and why. The error is for a run
// that could not be made (no server, a login refused).
func Run(ctx context.Context, cfg Config) (Summary, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return Summary{}, err
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	switch cfg.Scenario {
	case ScenarioFanout:
		return runFanout(ctx, cfg)
	case ScenarioFiles:
		return runFiles(ctx, cfg)
	default:
		return runConns(ctx, cfg)
	}
}

// newRunID returns a short random tag that keeps this run's nicknames apart
// from those of any other run against the same server.
func newRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // never fails on Linux
	return hex.EncodeToString(b[:])
}

// nickname is the login name of client i of run id.
func nickname(id string, i int) string { return fmt.Sprintf("lg-%s-%d", id, i) }

// loginAll logs in one client per nickname, at most parallel at a time,
// client i on server serverOf(i), and
// calls started with each as soon as it is logged in (so that its reader
// can drain the join notices that follow). It returns the clients in
// nickname order and each login's duration. On error it closes the
// clients it opened.
func loginAll(ctx context.Context, servers []string, nicks []string, parallel int, started func(*client)) ([]*client, *Histogram, error) {
	clients := make([]*client, len(nicks))
	took := make([]time.Duration, len(nicks))
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range min(parallel, len(nicks)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(nicks) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				t0 := time.Now()
				c, err := dialLogin(ctx, servers[serverOf(i, len(servers))], nicks[i])
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
				took[i] = time.Since(t0)
				c.index = i
				clients[i] = c
				started(c)
			}
		})
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("loadgen: login: %w", ctx.Err())
	}
	if firstErr != nil {
		closeAll(clients)
		return nil, nil, firstErr
	}
	var h Histogram
	for _, d := range took {
		h.Record(uint64(d))
	}
	return clients, &h, nil
}

// closeAll closes every client's connection, which ends its reader.
func closeAll(clients []*client) {
	for _, c := range clients {
		if c != nil {
			_ = c.conn.Close()
		}
	}
}

// progress writes line() to w once a second until the returned stop is
// called.
func progress(w io.Writer, line func(elapsed time.Duration) string) (stop func()) {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintln(w, line(time.Since(start).Round(time.Second)))
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// serverProbe reads the memory and CPU of the servers whose pids are known.
type serverProbe struct{ pids []int }

func newProbe(cfg Config) serverProbe { return serverProbe{cfg.ServerPIDs} }

// known reports whether any server's pid is known.
func (p serverProbe) known() bool { return len(p.pids) > 0 }

// each returns every server's memory; zero for one that cannot be read.
func (p serverProbe) each() []Memory {
	ms := make([]Memory, len(p.pids))
	for i, pid := range p.pids {
		ms[i], _ = readMemory(pid)
	}
	return ms
}

// memory returns the servers' memory added up; zero when unknown. The
// peak is the sum of each server's own peak.
func (p serverProbe) memory() Memory {
	var sum Memory
	for _, m := range p.each() {
		sum.RSSKB += m.RSSKB
		sum.PeakKB += m.PeakKB
	}
	return sum
}

// cpu returns each server's CPU time so far; zero when unknown.
func (p serverProbe) cpu() []time.Duration {
	ds := make([]time.Duration, len(p.pids))
	for i, pid := range p.pids {
		ds[i], _ = readCPU(pid)
	}
	return ds
}

// note is a progress fragment about the servers' memory, empty without a
// pid.
func (p serverProbe) note() string {
	if !p.known() {
		return ""
	}
	rss := make([]string, len(p.pids))
	for i, m := range p.each() {
		rss[i] = strconv.FormatInt(m.RSSKB/1024, 10) + "MB"
	}
	return " server_rss=" + strings.Join(rss, "+")
}

// cpuMeter measures the CPU the tool, the servers and everything else on
// the machine use over a stretch: a run on a shared machine is only as good
// as the CPU the others left it, and other_cpu_s says how much they took.
type cpuMeter struct {
	probe        serverProbe
	self0, busy0 time.Duration
	server0      []time.Duration
	self, busy   time.Duration   // used over the stretch, once stopped
	server       []time.Duration // each server's, once stopped
}

func startCPU(p serverProbe) *cpuMeter {
	return &cpuMeter{probe: p, self0: selfCPU(), server0: p.cpu(), busy0: machineBusy()}
}

func (m *cpuMeter) stop() {
	m.self = selfCPU() - m.self0
	m.server = m.probe.cpu()
	for i := range m.server {
		m.server[i] -= m.server0[i]
	}
	m.busy = machineBusy() - m.busy0
}

// addTo appends the CPU figures: seconds of CPU used over the stretch, the
// servers' added up (and each server's, when there are several).
func (m *cpuMeter) addTo(s *Summary) {
	s.Add("tool_cpu_s", m.self.Seconds())
	if !m.probe.known() {
		return
	}
	var total time.Duration
	each := make([]string, len(m.server))
	for i, d := range m.server {
		total += d
		each[i] = strconv.FormatFloat(d.Seconds(), 'f', 2, 64)
	}
	s.Add("server_cpu_s", total.Seconds())
	if len(each) > 1 {
		s.Add("server_cpu_s_each", strings.Join(each, ","))
	}
	// Clock ticks make this coarse (10 ms a reading); never below 0.
	s.Add("other_cpu_s", max(m.busy-m.self-total, 0).Seconds())
}

// addMemory appends the servers' memory figures, when their pids are
// known: added up, and each server's when there are several.
func addMemory(s *Summary, p serverProbe) {
	if !p.known() {
		return
	}
	each := p.each()
	var rss, hwm []int64
	var sum Memory
	for _, m := range each {
		rss, hwm = append(rss, m.RSSKB), append(hwm, m.PeakKB)
		sum.RSSKB += m.RSSKB
		sum.PeakKB += m.PeakKB
	}
	s.Add("server_rss_kb", sum.RSSKB)
	s.Add("server_hwm_kb", sum.PeakKB)
	if len(each) > 1 {
		s.Add("server_rss_kb_each", joinInts(rss))
		s.Add("server_hwm_kb_each", joinInts(hwm))
	}
}
