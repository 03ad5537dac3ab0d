package nats_test

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

	pcxnats "pcx/adapters/nats"
)

// natsServer is a nats-server running in the test process, JetStream on,
// its store in a directory of the test.
type natsServer struct {
	*server.Server
	opts *server.Options
}

// startNATS starts a server on 127.0.0.1, on port (-1: any) with its store
// in dir, and shuts it down at the end of the test.
func startNATS(t *testing.T, dir string, port int) *natsServer {
	t.Helper()
	s := runNATS(t, &server.Options{
		ServerName: "n" + strconv.Itoa(port),
		Host:       "127.0.0.1", Port: port,
		JetStream: true, StoreDir: dir,
		NoLog: true, NoSigs: true,
	})
	return s
}

func runNATS(t *testing.T, opts *server.Options) *natsServer {
	t.Helper()
	s, err := server.NewServer(opts)
	require.NoError(t, err)
	s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second), "nats-server did not start")
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return &natsServer{Server: s, opts: opts}
}

// url is the client URL of s.
func (s *natsServer) url() string { return "nats://" + s.Addr().String() }

// port is the client port s listens on.
func (s *natsServer) port() int { return s.Addr().(*net.TCPAddr).Port }

// stop shuts s down and waits for it.
func (s *natsServer) stop() { s.Shutdown(); s.WaitForShutdown() }

// startCluster starts three servers joined by routes, JetStream on. A
// clustered server opens its route port only once JetStream has its peers,
// so the route ports are chosen free beforehand and every server is given
// all three.
func startCluster(t *testing.T) []*natsServer {
	t.Helper()
	var routes []string
	var ports []int
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		routes = append(routes, "nats://"+l.Addr().String())
		require.NoError(t, l.Close())
	}
	var out []*natsServer
	for i := range 3 {
		opts := &server.Options{
			ServerName: fmt.Sprintf("s%d", i),
			Host:       "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(),
			NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "pcx", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		}
		s, err := server.NewServer(opts)
		require.NoError(t, err)
		s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		out = append(out, &natsServer{Server: s, opts: opts})
	}
	for _, s := range out {
		require.True(t, s.ReadyForConnections(20*time.Second), "nats-server %s did not start", s.opts.ServerName)
	}
	// JetStream places replicated buckets once the servers have chosen a
	// leader and it has current news of all three.
	require.Eventually(t, func() bool {
		return slices.ContainsFunc(out, func(s *natsServer) bool { return len(s.JetStreamClusterPeers()) == 3 }) &&
			!slices.ContainsFunc(out, func(s *natsServer) bool { return !s.JetStreamIsCurrent() })
	}, 20*time.Second, 20*time.Millisecond, "JetStream cluster not formed")
	return out
}

// dial connects node to the servers at urls; the connection is closed at
// the end of the test.
func dial(t *testing.T, node string, urls ...string) *pcxnats.Conn {
	t.Helper()
	c, err := pcxnats.Dial(pcxnats.Options{URLs: urls, Node: node, ReconnectWait: 100 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}
