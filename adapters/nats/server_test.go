package nats_test

import (
	"fmt"
	"net"
	"strconv"
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

// startCluster starts three servers joined by routes, JetStream on.
func startCluster(t *testing.T) []*natsServer {
	t.Helper()
	var out []*natsServer
	var seed string
	for i := range 3 {
		opts := &server.Options{
			ServerName: fmt.Sprintf("s%d", i),
			Host:       "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(),
			NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "pcx", Host: "127.0.0.1", Port: -1},
		}
		if seed != "" {
			opts.Routes = server.RoutesFromStr(seed)
		}
		s := runNATS(t, opts)
		if seed == "" {
			seed = "nats://" + s.ClusterAddr().String()
		}
		out = append(out, s)
	}
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
