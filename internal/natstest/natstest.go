// Package natstest starts nats-servers in the test process, for the tests
// of adapters/nats and the end-to-end tests that join pcx-servers into a
// room: on loopback, on a free port, JetStream on with its store in a
// directory of the test, shut down when the test ends. Only test files
// import it.
package natstest

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"
)

// wait bounds a server's start and a cluster's forming; only a broken
// server takes that long.
const wait = 30 * time.Second

// Server is a nats-server running in the test process.
type Server struct {
	*server.Server
	t    testing.TB
	opts *server.Options
	port int // the client port, kept for Restart once s is down
}

// Option changes the options a server is started with.
type Option func(*server.Options)

// WithoutJetStream starts a core NATS server, no store: enough for
// request/reply and publish/subscribe.
func WithoutJetStream() Option {
	return func(o *server.Options) { o.JetStream, o.StoreDir = false, "" }
}

// Start starts a server on 127.0.0.1 on a free port, JetStream on, its
// store in a directory of the test, and shuts it down when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	o := &server.Options{
		ServerName: "nats", Host: "127.0.0.1", Port: -1,
		JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true,
	}
	for _, opt := range opts {
		opt(o)
	}
	s := launch(t, o)
	s.ready()
	return s
}

// launch starts a server with o without waiting for it to be ready.
func launch(t testing.TB, o *server.Options) *Server {
	t.Helper()
	ns, err := server.NewServer(o)
	require.NoError(t, err)
	ns.Start()
	s := &Server{Server: ns, t: t, opts: o}
	t.Cleanup(s.Stop)
	return s
}

// ready waits until s accepts clients and notes its port.
func (s *Server) ready() {
	s.t.Helper()
	require.True(s.t, s.ReadyForConnections(wait), "nats-server %s did not start", s.opts.ServerName)
	s.port = s.Addr().(*net.TCPAddr).Port
}

// URL is the client URL of s.
func (s *Server) URL() string { return "nats://127.0.0.1:" + strconv.Itoa(s.port) }

// Stop shuts s down and waits until it has; stopping twice is harmless.
func (s *Server) Stop() {
	s.Shutdown()
	s.WaitForShutdown()
}

// Restart stops s if it runs and starts it again on the same port with
// the same store, as a server's restart would: what JetStream kept is
// there again.
func (s *Server) Restart() *Server {
	s.t.Helper()
	s.Stop()
	o := s.opts.Clone()
	o.Port = s.port
	n := launch(s.t, o)
	n.ready()
	return n
}

// StartCluster starts n servers joined by routes, JetStream on, each with
// its own store, and waits until JetStream can place replicated buckets.
// A clustered server opens its route port only once JetStream has its
// peers, so the route ports are chosen free beforehand and every server
// is given all of them.
func StartCluster(t testing.TB, n int) []*Server {
	t.Helper()
	var routes []string
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		routes = append(routes, "nats://"+l.Addr().String())
		require.NoError(t, l.Close())
	}
	var out []*Server
	for i := range n {
		out = append(out, launch(t, &server.Options{
			ServerName: fmt.Sprintf("s%d", i),
			Host:       "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(),
			NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "pcx", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		}))
	}
	for _, s := range out {
		s.ready()
	}
	// JetStream places replicated buckets once the servers have chosen a
	// leader (which lists the peers) and it has current news of all.
	require.Eventually(t, func() bool {
		return slices.ContainsFunc(out, func(s *Server) bool { return len(s.JetStreamClusterPeers()) == n }) &&
			!slices.ContainsFunc(out, func(s *Server) bool { return !s.JetStreamIsCurrent() })
	}, wait, 20*time.Millisecond, "JetStream cluster not formed")
	return out
}
