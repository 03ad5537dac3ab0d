package server

import (
	"time"

	"pcx/ports"
)

// discardMetrics is the Metrics of a server that nobody watches.
type discardMetrics struct{}

func (discardMetrics) Add(ports.Counter, int)                {}
func (discardMetrics) Event(ports.MetricEvent, ports.Reason) {}
func (discardMetrics) ObserveDelivery(time.Duration)         {}

// epoch is the origin of the log's time stamps: durations since it are
// monotonic and take 8 bytes an entry, not a time.Time's 24.
var epoch = time.Now()

// metricOf is how the metrics name a cut-off or a refused connection.
func metricOf(r cutReason) (ports.MetricEvent, ports.Reason) {
	switch r {
	case cutSlowConsumer:
		return ports.CutOff, ports.ReasonSlowQueue
	case cutBacklog:
		return ports.CutOff, ports.ReasonBacklog
	case cutMaxMemory:
		return ports.CutOff, ports.ReasonMemory
	case cutWriteTimeout:
		return ports.CutOff, ports.ReasonSlowWrite
	case refusedFromAddress:
		return ports.Refusal, ports.ReasonTooManyFromAddress
	default:
		return ports.Refusal, ports.ReasonTooManyOnServer
	}
}

// count counts r in the server's counters and its metrics.
func (srv *Server) count(r cutReason) {
	srv.counters.count(r)
	srv.metrics.Event(metricOf(r))
}
