// Package prometheus is the Metrics port on Prometheus
// (github.com/prometheus/client_golang): counters, gauges and a latency
// histogram in one registry, served as text on /metrics. It also counts the
// connections of each carrier by wrapping its listener, since the
// application never knows which carrier a connection came by.
package prometheus

import (
	"net/http"
	"sync"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"pcx/ports"
)

// Metrics implements ports.Metrics. Its zero value is not usable; call New.
type Metrics struct {
	reg      *prom.Registry
	counters [ports.NumCounters]prom.Counter
	users    prom.Gauge
	events   [ports.NumMetricEvents]*prom.CounterVec
	latency  prom.Histogram
	conns    *prom.GaugeVec   // open connections by carrier
	accepted *prom.CounterVec // accepted connections by carrier
}

var _ ports.Metrics = (*Metrics)(nil)

// New registers every metric of the server, and the Go runtime's and the
// process's, in a registry of its own.
func New() *Metrics {
	m := &Metrics{reg: prom.NewRegistry()}
	counter := func(name, help string) prom.Counter {
		c := prom.NewCounter(prom.CounterOpts{Namespace: "pcx", Name: name, Help: help})
		m.reg.MustRegister(c)
		return c
	}
	m.counters[ports.MessagesReceived] = counter("messages_received_total", "Whole messages read from senders and relayed.")
	m.counters[ports.MessagesDelivered] = counter("messages_delivered_total", "Relayed messages written to receivers.")
	m.counters[ports.AttachmentBytesIn] = counter("attachment_bytes_in_total", "Attachment payload bytes read from senders.")
	m.counters[ports.AttachmentBytesOut] = counter("attachment_bytes_out_total", "Attachment payload bytes written to receivers.")
	m.counters[ports.UsersJoined] = counter("logins_total", "Users who logged in.")
	m.counters[ports.UsersLeft] = counter("logouts_total", "Sessions of logged-in users that ended.")
	m.counters[ports.BusEventsOut] = counter("bus_events_out_total", "Events this node published on the room bus (several servers).")
	m.counters[ports.BusEventsIn] = counter("bus_events_in_total", "Events of other nodes received from the room bus.")
	m.counters[ports.BusEventsMissed] = counter("bus_events_missed_total", "Events of other nodes that never arrived: holes in their sequence numbers.")
	m.counters[ports.RoomFilesFetched] = counter("room_files_fetched_total", "Attachments of other nodes fetched whole into the spool.")
	m.counters[ports.RoomFileBytesFetched] = counter("room_file_bytes_fetched_total", "Bytes of the attachments of other nodes fetched whole.")
	m.counters[ports.RoomFilesLost] = counter("room_files_lost_total", "Attachments of other nodes that could not be fetched; their messages were dropped.")
	m.users = prom.NewGauge(prom.GaugeOpts{Namespace: "pcx", Name: "users", Help: "Users logged in now."})
	event := func(name, help string) *prom.CounterVec {
		v := prom.NewCounterVec(prom.CounterOpts{Namespace: "pcx", Name: name, Help: help}, []string{"reason"})
		m.reg.MustRegister(v)
		return v
	}
	m.events[ports.Refusal] = event("refusals_total", "Records and connections refused, by reason.")
	m.events[ports.CutOff] = event("cutoffs_total", "Sessions the server ended for a limit, by reason.")
	m.events[ports.Login] = event("login_attempts_total", "Login attempts, by result.")
	m.latency = prom.NewHistogram(prom.HistogramOpts{
		Namespace: "pcx", Name: "delivery_latency_seconds",
		Help:    "Time from queuing a frame for a receiver to writing it (one sample per write batch).",
		Buckets: prom.ExponentialBuckets(50e-6, 2.5, 12), // 50 µs to 12 s
	})
	m.conns = prom.NewGaugeVec(prom.GaugeOpts{Namespace: "pcx", Name: "connections", Help: "Open connections, by carrier."}, []string{"carrier"})
	m.accepted = prom.NewCounterVec(prom.CounterOpts{Namespace: "pcx", Name: "connections_accepted_total", Help: "Accepted connections, by carrier."}, []string{"carrier"})
	m.reg.MustRegister(m.users, m.latency, m.conns, m.accepted,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Add counts n more of c; logins and logouts also move the users gauge.
func (m *Metrics) Add(c ports.Counter, n int) {
	m.counters[c].Add(float64(n))
	switch c {
	case ports.UsersJoined:
		m.users.Add(float64(n))
	case ports.UsersLeft:
		m.users.Sub(float64(n))
	}
}

// Event counts one event of kind by its reason.
func (m *Metrics) Event(kind ports.MetricEvent, reason ports.Reason) {
	m.events[kind].WithLabelValues(string(reason)).Inc()
}

// ObserveDelivery records one delivery latency.
func (m *Metrics) ObserveDelivery(d time.Duration) { m.latency.Observe(d.Seconds()) }

// GaugeFunc registers a gauge whose value is read from f at each scrape,
// such as the bytes the spool holds.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.reg.MustRegister(prom.NewGaugeFunc(prom.GaugeOpts{Namespace: "pcx", Name: name, Help: help}, f))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// CountConns returns l with its connections counted under carrier: every
// accepted connection, and those open now.
func (m *Metrics) CountConns(l ports.Listener, carrier string) ports.Listener {
	return &countingListener{Listener: l, open: m.conns.WithLabelValues(carrier), accepted: m.accepted.WithLabelValues(carrier)}
}

type countingListener struct {
	ports.Listener
	open     prom.Gauge
	accepted prom.Counter
}

func (l *countingListener) Accept() (ports.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Inc()
	l.open.Inc()
	return &countedConn{Conn: c, open: l.open}, nil
}

// countedConn takes itself off the open gauge on its first Close.
type countedConn struct {
	ports.Conn
	open prom.Gauge
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(c.open.Dec)
	return c.Conn.Close()
}
