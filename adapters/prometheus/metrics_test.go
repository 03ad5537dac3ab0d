package prometheus_test

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pcx/adapters/memory"
	"pcx/adapters/prometheus"
	"pcx/ports"
)

// scrape returns what /metrics serves now.
func scrape(t *testing.T, m *prometheus.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(body)
}

func TestMetricsAreServedWithTheirValues(t *testing.T) {
	m := prometheus.New()
	m.Add(ports.MessagesReceived, 3)
	m.Add(ports.MessagesDelivered, 300)
	m.Add(ports.AttachmentBytesIn, 1<<20)
	m.Add(ports.UsersJoined, 5)
	m.Add(ports.UsersLeft, 2)
	m.Add(ports.BusEventsOut, 7)
	m.Add(ports.BusEventsIn, 11)
	m.Add(ports.BusEventsMissed, 4)
	m.Add(ports.RoomFilesFetched, 2)
	m.Add(ports.RoomFileBytesFetched, 5000)
	m.Add(ports.RoomFilesLost, 1)
	m.Event(ports.Refusal, ports.ReasonMalformed)
	m.Event(ports.Refusal, ports.ReasonMalformed)
	m.Event(ports.CutOff, ports.ReasonSlowQueue)
	m.Event(ports.Login, ports.LoginTaken)
	m.ObserveDelivery(300 * time.Microsecond)
	m.GaugeFunc("spool_bytes", "Bytes the spool holds.", func() float64 { return 4096 })

	got := scrape(t, m)
	for _, line := range []string{
		"pcx_messages_received_total 3",
		"pcx_messages_delivered_total 300",
		"pcx_attachment_bytes_in_total 1.048576e+06",
		"pcx_logins_total 5",
		"pcx_logouts_total 2",
		"pcx_users 3",
		"pcx_bus_events_out_total 7",
		"pcx_bus_events_in_total 11",
		"pcx_bus_events_missed_total 4",
		"pcx_room_files_fetched_total 2",
		"pcx_room_file_bytes_fetched_total 5000",
		"pcx_room_files_lost_total 1",
		`pcx_refusals_total{reason="malformed_record"} 2`,
		`pcx_cutoffs_total{reason="slow_consumer_queue"} 1`,
		`pcx_login_attempts_total{reason="taken"} 1`,
		"pcx_delivery_latency_seconds_count 1",
		`pcx_delivery_latency_seconds_bucket{le="0.0003125"} 1`,
		`pcx_delivery_latency_seconds_bucket{le="0.000125"} 0`,
		"pcx_spool_bytes 4096",
	} {
		assert.Contains(t, got, line+"\n")
	}
	// The Go runtime's and the process's own metrics come along.
	assert.Contains(t, got, "\ngo_goroutines ")
	assert.Contains(t, got, "\nprocess_resident_memory_bytes ")
}

func TestConnectionsAreCountedByCarrier(t *testing.T) {
	m := prometheus.New()
	network := memory.NewNetwork()
	inner, err := network.Listen("chat:1")
	require.NoError(t, err)
	l := m.CountConns(inner, "tcp")
	defer l.Close()

	const n = 3
	var conns []ports.Conn
	for range n {
		dialed := make(chan ports.Conn, 1)
		go func() {
			c, err := network.Dial(context.Background(), "chat:1")
			assert.NoError(t, err)
			dialed <- c
		}()
		c, err := l.Accept()
		require.NoError(t, err)
		conns = append(conns, c)
		defer (<-dialed).Close()
	}
	got := scrape(t, m)
	assert.Contains(t, got, `pcx_connections{carrier="tcp"} 3`+"\n")
	assert.Contains(t, got, `pcx_connections_accepted_total{carrier="tcp"} 3`+"\n")

	require.NoError(t, conns[0].Close())
	conns[0].Close() // a second close is not counted twice
	got = scrape(t, m)
	assert.Contains(t, got, `pcx_connections{carrier="tcp"} 2`+"\n")
	assert.Contains(t, got, `pcx_connections_accepted_total{carrier="tcp"} 3`+"\n")
	for _, c := range conns[1:] {
		c.Close()
	}
}
