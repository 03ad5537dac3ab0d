package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"pcx/app/server"
	"pcx/internal/bytesize"
)

// settings is everything the command line and the environment can set.
type settings struct {
	Listen        string
	WriteTimeout  time.Duration
	LoginTimeout  time.Duration
	ShutdownGrace time.Duration
	MaxRecord     byteSize
	MaxAttachment byteSize
	MaxQueue      byteSize
	MaxMemory     byteSize
	MaxBacklog    byteSize
	MaxConns      int
	MaxConnsPerIP int
	ConnExempt    prefixList
	MaxSpool      byteSize // autoSpool: chosen at start (see spoolLimit)
	SpoolDir      string
	RateLimit     float64
	RateBurst     int
	ReadTimeout   time.Duration
	LogLevel      slog.Level
	LogFormat     string
	AdminAddr     string
	WebListen     string
	WebOrigins    string
	WebTLS        bool

	// TLS (issue 11).
	TLSListen           string
	DataDir             string
	TLSCert             string
	TLSKey              string
	TLSHandshakeTimeout time.Duration
	TLSMaxHandshakes    int
	PrintFingerprint    bool

	// Several servers, one room (issue 13).
	NATS      string // comma-separated URLs; empty: a single server
	NATSCreds string
	NATSTLSCA string
	// NATSReplicas is how many NATS servers keep the room's buckets.
	NATSReplicas int
	Room         string
	NodeName     string // default: host name and --listen's port
	NodeTTL      time.Duration
	// Attachments between the servers of a room.
	FileHold    time.Duration
	FileFetches int
}

const usage = `pcx-server: the pcx chat relay.

Users log in with a nickname and every message they send, with its file if
it has one, goes to everyone else logged in. Stop it with Ctrl-C (SIGINT) or
SIGTERM: everyone is told, queues are flushed, and it exits 0.

Usage:
  pcx-server [flags]

Every flag can also be set by an environment variable, shown beside it;
a flag on the command line wins. Sizes take a unit: 64KiB, 8MiB, 1GiB, 1GB.

Flags:
`

// parseSettings reads the flags in args over the environment's PCX_*
// variables over the defaults.
func parseSettings(args []string, getenv func(string) string, stderr io.Writer) (settings, error) {
	d := server.Config{}.Defaults() // the server's defaults are the flags' defaults
	s := settings{
		Listen:        ":23480",
		WriteTimeout:  30 * time.Second,
		LoginTimeout:  d.LoginTimeout,
		ShutdownGrace: d.ShutdownGrace,
		MaxRecord:     byteSize(d.MaxRecord),
		MaxAttachment: byteSize(d.MaxAttachment),
		MaxQueue:      byteSize(d.MaxQueue),
		MaxMemory:     byteSize(d.MaxMemory),
		MaxBacklog:    byteSize(d.MaxBacklog),
		MaxConns:      d.MaxConns,
		MaxConnsPerIP: d.MaxConnsPerIP,
		ConnExempt:    prefixList(d.ConnLimitExempt),
		MaxSpool:      autoSpool,
		RateLimit:     d.RateLimit,
		RateBurst:     d.RateBurst,
		ReadTimeout:   30 * time.Second,
		LogLevel:      slog.LevelInfo,
		LogFormat:     "text",
		WebListen:     ":23482",

		TLSListen:           ":23481",
		DataDir:             defaultDataDir(getenv),
		TLSHandshakeTimeout: 10 * time.Second,
		TLSMaxHandshakes:    1024,

		Room:         "pcx",
		NodeTTL:      10 * time.Second,
		NATSReplicas: 1,

		FileHold:    server.DefaultFileHold,
		FileFetches: server.DefaultFileFetches,
	}
	fs := flag.NewFlagSet("pcx-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	env := &envBinder{fs: fs, getenv: getenv}
	env.string(&s.Listen, "listen", "PCX_LISTEN", "`address` to listen on (host:port; :port for every interface)")
	env.duration(&s.WriteTimeout, "write-timeout", "PCX_WRITE_TIMEOUT", "cut off a receiver that makes no write progress for this `duration`")
	env.duration(&s.LoginTimeout, "login-timeout", "PCX_LOGIN_TIMEOUT", "close a connection that has not logged in within this `duration`")
	env.duration(&s.ShutdownGrace, "shutdown-grace", "PCX_SHUTDOWN_GRACE", "on shutdown, how long (`duration`) to let queued messages flush")
	env.value(&s.MaxRecord, "max-record", "PCX_MAX_RECORD", "longest record accepted (`size`); longer ones, up to 1MiB, are refused; longer still end the connection")
	env.value(&s.MaxAttachment, "max-attachment", "PCX_MAX_ATTACHMENT", "largest attachment relayed (`size`)")
	env.value(&s.MaxQueue, "max-queue", "PCX_MAX_QUEUE", "memory queued for one receiver (`size`) before it is cut off as too slow")
	env.value(&s.MaxMemory, "max-memory", "PCX_MAX_MEMORY", "memory all receivers may hold queued at once (`size`); past it those furthest behind are cut off")
	env.value(&s.MaxBacklog, "max-backlog", "PCX_MAX_BACKLOG", "attachments waiting on disk for one receiver (`size`) before it is cut off as too slow")
	env.value((*positiveCount)(&s.MaxConns), "max-conns", "PCX_MAX_CONNS", "connections open at once (`count`); more are refused")
	env.value((*positiveCount)(&s.MaxConnsPerIP), "max-conns-per-ip", "PCX_MAX_CONNS_PER_IP", "connections open at once from one address (`count`); more are refused")
	env.value(&s.ConnExempt, "conn-limit-exempt", "PCX_CONN_LIMIT_EXEMPT", "comma-separated `addresses` or CIDR prefixes exempt from --max-conns-per-ip (a local proxy); '' or none: nobody")
	env.value((*spoolSize)(&s.MaxSpool), "max-spool", "PCX_MAX_SPOOL", "disk the attachment spool may use at once (`size`); auto: the lesser of 8GiB and half the free space at start; 0 means no limit")
	env.string(&s.SpoolDir, "spool-dir", "PCX_SPOOL_DIR", "`directory` for large attachments in transit (default the system temp directory)")
	env.value((*rateValue)(&s.RateLimit), "rate-limit", "PCX_RATE_LIMIT", "records per second read from one connection (`rate`); a faster sender is read more slowly, not dropped; 0 means no limit")
	env.value((*countValue)(&s.RateBurst), "rate-burst", "PCX_RATE_BURST", "records one connection may send at once (`count`) before --rate-limit slows it")
	env.duration(&s.ReadTimeout, "read-timeout", "PCX_READ_TIMEOUT", "close a connection that stops sending in the middle of a record or attachment for this `duration` (idle between messages is fine)")
	env.value(logLevel{&s.LogLevel}, "log-level", "PCX_LOG_LEVEL", "log `level`: debug, info (the default), warn or error")
	env.string(&s.LogFormat, "log-format", "PCX_LOG_FORMAT", "log `format`: text or json")
	env.string(&s.AdminAddr, "admin-addr", "PCX_ADMIN_ADDR", "serve the operator's endpoints on this `address` (e.g. 127.0.0.1:9480): /metrics (Prometheus), /healthz and /debug/pprof/; empty: off")
	env.string(&s.WebListen, "web-listen", "PCX_WEB_LISTEN", "serve the chat page and its WebSocket on this `address` (host:port); empty: off")
	env.value((*boolValue)(&s.WebTLS), "web-tls", "PCX_WEB_TLS", "serve the page and its WebSocket as https and wss, with the TLS port's certificate (--tls-cert, or the self-signed one)")
	env.string(&s.WebOrigins, "web-origins", "PCX_WEB_ORIGINS", "other `origins` whose pages may use the WebSocket, comma-separated host patterns (e.g. chat.example.com,*.example.org); the server's own is always allowed")
	env.string(&s.TLSListen, "tls-listen", "PCX_TLS_LISTEN", "`address` to listen on for TLS 1.3 (empty: no TLS)")
	env.string(&s.DataDir, "data-dir", "PCX_DATA_DIR", "`directory` keeping the self-signed TLS key and certificate (from $XDG_STATE_HOME/pcx, else ~/.local/state/pcx)")
	env.string(&s.TLSCert, "tls-cert", "PCX_TLS_CERT", "certificate `file` (PEM, with its chain) to serve instead of the self-signed one; reread on SIGHUP")
	env.string(&s.TLSKey, "tls-key", "PCX_TLS_KEY", "key `file` (PEM) of --tls-cert; reread on SIGHUP")
	env.duration(&s.TLSHandshakeTimeout, "tls-handshake-timeout", "PCX_TLS_HANDSHAKE_TIMEOUT", "close a TLS connection whose handshake takes longer than this `duration`")
	env.value((*intValue)(&s.TLSMaxHandshakes), "tls-max-handshakes", "PCX_TLS_MAX_HANDSHAKES", "TLS handshakes in progress at once (`count`); more wait in the kernel's backlog")
	env.value((*boolValue)(&s.PrintFingerprint), "print-fingerprint", "PCX_PRINT_FINGERPRINT", "print the TLS key's fingerprint and exit (making the self-signed key if there is none)")
	env.string(&s.NATS, "nats", "PCX_NATS", "join the room shared by every server on this NATS cluster: comma-separated `URLs` (nats://host:4222,...); empty: a single server")
	env.string(&s.NATSCreds, "nats-creds", "PCX_NATS_CREDS", "NATS credentials `file` (for a secured NATS)")
	env.string(&s.NATSTLSCA, "nats-tls-ca", "PCX_NATS_TLS_CA", "CA bundle `file` (PEM) to check the NATS servers' certificates with")
	env.value((*positiveCount)(&s.NATSReplicas), "nats-replicas", "PCX_NATS_REPLICAS", "how many NATS servers keep the room's nickname and node buckets (`count`; 3 on a cluster of three, so that losing one loses nothing); the first server to create them decides")
	env.string(&s.Room, "room", "PCX_ROOM", "`name` of the room on NATS (1 to 64 of A-Z a-z 0-9 _ -), so that several rooms can share one NATS")
	env.string(&s.NodeName, "node-name", "PCX_NODE_NAME", "this server's `name` in the room, unique in it, shown in logs (default host name and --listen's port)")
	env.duration(&s.NodeTTL, "node-ttl", "PCX_NODE_TTL", "with --nats: a server silent for this `duration` is taken for dead, and its users leave (within it and 5 s more)")
	env.duration(&s.FileHold, "nats-file-hold", "PCX_NATS_FILE_HOLD", "with --nats: keep a file sent here for the other servers at most this `duration` (normally until each has fetched it)")
	env.value((*intValue)(&s.FileFetches), "nats-file-fetches", "PCX_NATS_FILE_FETCHES", "with --nats: files fetched from the other servers at once (`count`); each holds 4 MiB in memory")
	if err := env.err; err != nil {
		return s, err
	}
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if s.RateLimit > 0 && s.RateBurst < 1 {
		return s, errors.New("--rate-burst must be at least 1")
	}
	if err := checkTLS(s); err != nil {
		return s, err
	}
	if err := checkRoom(&s); err != nil {
		return s, err
	}
	if s.LogFormat != "text" && s.LogFormat != "json" {
		return s, fmt.Errorf("--log-format must be text or json, not %q", s.LogFormat)
	}
	return s, nil
}

// checkTLS refuses TLS settings that cannot work together.
func checkTLS(s settings) error {
	switch {
	case s.Listen == "" && s.TLSListen == "" && s.WebListen == "" && !s.PrintFingerprint:
		return errors.New("--listen, --tls-listen and --web-listen are all empty: nothing to listen on")
	case (s.TLSCert == "") != (s.TLSKey == ""):
		return errors.New("--tls-cert and --tls-key go together")
	case s.TLSMaxHandshakes < 1:
		return errors.New("--tls-max-handshakes must be at least 1")
	}
	return nil
}

// checkRoom fills in the node's name and refuses room settings that
// cannot work.
func checkRoom(s *settings) error {
	if s.NATS == "" {
		return nil
	}
	if s.NodeName == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "pcx"
		}
		_, port, _ := net.SplitHostPort(cmp.Or(s.Listen, s.TLSListen, s.WebListen))
		s.NodeName = host + ":" + port
	}
	switch {
	case len(s.NodeName) > 255:
		return errors.New("--node-name is longer than 255 bytes")
	case s.NodeTTL < time.Second:
		return fmt.Errorf("--node-ttl %v: want at least 1s", s.NodeTTL)
	case s.FileHold < time.Second:
		return fmt.Errorf("--nats-file-hold %v: want at least 1s", s.FileHold)
	case s.FileFetches < 1:
		return errors.New("--nats-file-fetches must be at least 1")
	}
	return nil
}

// natsURLs splits --nats.
func natsURLs(list string) []string {
	var urls []string
	for _, u := range strings.Split(list, ",") {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	return urls
}

// defaultDataDir is $XDG_STATE_HOME/pcx, else ~/.local/state/pcx, else
// empty (an error only if the self-signed key is needed).
func defaultDataDir(getenv func(string) string) string {
	if dir := getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "pcx")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "state", "pcx")
	}
	return ""
}

type intValue int

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	*v = intValue(n)
	return err
}
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }

type boolValue bool

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	*v = boolValue(b)
	return err
}
func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

// envBinder defines flags whose defaults come from environment variables.
type envBinder struct {
	fs     *flag.FlagSet
	getenv func(string) string
	err    error // the first environment variable that did not parse
}

func (b *envBinder) value(v flag.Value, name, envName, help string) {
	if raw := b.getenv(envName); raw != "" {
		if err := v.Set(raw); err != nil && b.err == nil {
			b.err = fmt.Errorf("%s=%q: %w", envName, raw, err)
		}
	}
	b.fs.Var(v, name, help+" ["+envName+"]")
}

func (b *envBinder) string(p *string, name, envName, help string) {
	b.value((*stringValue)(p), name, envName, help)
}

func (b *envBinder) duration(p *time.Duration, name, envName, help string) {
	b.value((*durationValue)(p), name, envName, help)
}

type stringValue string

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }

type positiveCount int

func (v *positiveCount) Set(s string) error {
	n, err := parseCount(s, 1)
	if err != nil {
		return err
	}
	*v = positiveCount(n)
	return nil
}

// parseCount reads a whole number of at least min.
func parseCount(s string, min int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < min {
		return 0, fmt.Errorf("not a count of at least %d: %q", min, s)
	}
	return n, nil
}
func (v *positiveCount) String() string { return strconv.Itoa(int(*v)) }

// prefixList is a comma-separated list of addresses and CIDR prefixes.
type prefixList []netip.Prefix

func (v *prefixList) Set(s string) error {
	list := prefixList{}
	s = strings.TrimSpace(s)
	if s == "none" {
		s = ""
	}
	for _, field := range strings.Split(s, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		p, err := netip.ParsePrefix(field)
		if err != nil {
			a, aerr := netip.ParseAddr(field)
			if aerr != nil {
				return fmt.Errorf("not an address or CIDR prefix: %q", field)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		list = append(list, p.Masked())
	}
	*v = list
	return nil
}

func (v *prefixList) String() string {
	if v == nil {
		return ""
	}
	parts := make([]string, len(*v))
	for i, p := range *v {
		if p.IsSingleIP() {
			parts[i] = p.Addr().String()
		} else {
			parts[i] = p.String()
		}
	}
	return strings.Join(parts, ",")
}

type durationValue time.Duration

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if d < 0 {
		return errors.New("must not be negative")
	}
	*v = durationValue(d)
	return nil
}
func (v *durationValue) String() string { return time.Duration(*v).String() }

// byteSize is a size in bytes written with an optional unit.
type byteSize = bytesize.Size

// autoSpool is the --max-spool that is chosen at start from the free space.
const autoSpool = byteSize(-1)

// spoolSize is a byteSize that may also be "auto".
type spoolSize byteSize

func (v *spoolSize) Set(s string) error {
	if strings.TrimSpace(s) == "auto" {
		*v = spoolSize(autoSpool)
		return nil
	}
	return (*byteSize)(v).Set(s)
}

func (v *spoolSize) String() string {
	if byteSize(*v) == autoSpool {
		return "auto"
	}
	return (*byteSize)(v).String()
}

// rateValue is a non-negative rate per second.
type rateValue float64

func (v *rateValue) Set(s string) error {
	r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || r < 0 || r > 1e9 {
		return fmt.Errorf("not a rate: %q (try 50, or 0 for no limit)", s)
	}
	*v = rateValue(r)
	return nil
}
func (v *rateValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }

// countValue is a non-negative count.
type countValue int

func (v *countValue) Set(s string) error {
	n, err := parseCount(s, 0)
	if err != nil {
		return err
	}
	*v = countValue(n)
	return nil
}
func (v *countValue) String() string { return strconv.Itoa(int(*v)) }

type logLevel struct{ l *slog.Level }

func (v logLevel) Set(s string) error { return v.l.UnmarshalText([]byte(s)) }
func (v logLevel) String() string {
	if v.l == nil {
		return "info"
	}
	return strings.ToLower(v.l.String())
}

// serverConfig is the part of the settings the server app takes.
func serverConfig(s settings) server.Config {
	return server.Config{
		MaxRecord:     int(s.MaxRecord),
		MaxAttachment: int64(s.MaxAttachment),
		MaxQueue:      int64(s.MaxQueue),
		MaxMemory:     int64(s.MaxMemory),
		MaxBacklog:    int64(s.MaxBacklog),
		MaxConns:      s.MaxConns,
		MaxConnsPerIP: s.MaxConnsPerIP,
		// Non-nil even when empty: an empty list exempts nobody.
		ConnLimitExempt: append([]netip.Prefix{}, s.ConnExempt...),
		LoginTimeout:    s.LoginTimeout,
		ShutdownGrace:   s.ShutdownGrace,
		RateLimit:       rateLimit(s.RateLimit),
		RateBurst:       s.RateBurst,
	}
}

// rateLimit maps --rate-limit 0 (off) to the server's "no limit".
func rateLimit(r float64) float64 {
	if r == 0 {
		return -1
	}
	return r
}

func newLogger(s settings, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: s.LogLevel}
	if s.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
