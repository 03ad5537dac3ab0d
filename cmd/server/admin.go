package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"pcx/adapters/diskspool"
	"pcx/adapters/prometheus"
	"pcx/ports"
)

// newMetrics returns the server's metrics, or nil when nobody can read
// them (no --admin-addr): the server then counts nothing.
func newMetrics(s settings) *prometheus.Metrics {
	if s.AdminAddr == "" {
		return nil
	}
	return prometheus.New()
}

// serverMetrics is the server's view of m; a nil m counts nothing.
func serverMetrics(m *prometheus.Metrics) ports.Metrics {
	if m == nil {
		return nil // not a typed nil: the server then uses its own no-op
	}
	return m
}

// countConns counts l's connections under carrier when metrics are on.
func countConns(m *prometheus.Metrics, l ports.Listener, carrier string) ports.Listener {
	if m == nil {
		return l
	}
	return m.CountConns(l, carrier)
}

// watchSpool exports the bytes the spool holds when metrics are on.
func watchSpool(m *prometheus.Metrics, sp *diskspool.Spool) {
	if m != nil {
		m.GaugeFunc("spool_bytes", "Bytes of attachments the spool holds now (memory and disk).", func() float64 { return float64(sp.Used()) })
	}
}

// admin serves the operator's endpoints: /metrics (Prometheus), /healthz
// (200 while the server serves, 503 once it is shutting down) and pprof
// under /debug/pprof/.
type admin struct {
	srv      *http.Server
	l        net.Listener
	stopping atomic.Bool
}

// listenAdmin opens the admin address, so that a busy port is an error at
// start, like the chat ports.
func listenAdmin(addr string, m *prometheus.Metrics) (*admin, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	a := &admin{l: l}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", a.health)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return a, nil
}

func (a *admin) health(w http.ResponseWriter, _ *http.Request) {
	if a.stopping.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// serve serves until ctx ends; /healthz then says the server is stopping
// while the chat shuts down, and close ends it.
func (a *admin) serve(ctx context.Context, log *slog.Logger) {
	context.AfterFunc(ctx, func() { a.stopping.Store(true) })
	log.Info("admin endpoints: /metrics, /healthz, /debug/pprof/", "addr", a.l.Addr().String())
	if err := a.srv.Serve(a.l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("admin endpoints stopped", "err", err)
	}
}

func (a *admin) close() { a.srv.Close() }
