// Package cluster_test runs several real pcx-server processes joined into
// one room over a nats-server started in the test process (JetStream on,
// its store in the test's directory), and checks PROTOCOL.md section 9
// from outside: clients on every node, nodes killed, NATS restarted.
package cluster_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"pcx/adapters/tcp"
	"pcx/internal/procout"
	"pcx/internal/testpeer"
)

// wait bounds every wait for a server; only a broken one makes a test
// wait that long.
const wait = 15 * time.Second

func TestMain(m *testing.M) {
	// Built before any test's clock starts.
	_, _ = buildServer()
	code := m.Run()
	if bin, err := buildServer(); err == nil {
		os.RemoveAll(filepath.Dir(bin))
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// buildServer builds ./cmd/server once per run (with -race when the tests
// run with it).
var buildServer = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	dir, err := os.MkdirTemp("", "pcx-cluster-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "pcx-server")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/server")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/server: %w\n%s", err, out)
	}
	return bin, nil
})

// natsServer is a nats-server in the test process.
type natsServer struct {
	*natsserver.Server
	opts *natsserver.Options
}

// startNATS starts a nats-server on 127.0.0.1 (port -1: any free one),
// JetStream on, its store in dir; it is shut down when the test ends.
func startNATS(t *testing.T, dir string, port int) *natsServer {
	t.Helper()
	opts := &natsserver.Options{
		ServerName: "nats", Host: "127.0.0.1", Port: port,
		JetStream: true, StoreDir: dir,
		NoLog: true, NoSigs: true,
	}
	s, err := natsserver.NewServer(opts)
	require.NoError(t, err)
	s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second), "nats-server did not start")
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return &natsServer{Server: s, opts: opts}
}

// startNATSCluster starts three nats-servers joined by routes, JetStream
// on. A clustered server opens its route port only once JetStream has its
// peers, so the route ports are chosen free beforehand and each server is
// given all three (as adapters/nats does).
func startNATSCluster(t *testing.T) []*natsServer {
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
		opts := &natsserver.Options{
			ServerName: fmt.Sprintf("s%d", i),
			Host:       "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(),
			NoLog: true, NoSigs: true,
			Cluster: natsserver.ClusterOpts{Name: "pcx", Host: "127.0.0.1", Port: ports[i]},
			Routes:  natsserver.RoutesFromStr(strings.Join(routes, ",")),
		}
		s, err := natsserver.NewServer(opts)
		require.NoError(t, err)
		s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		out = append(out, &natsServer{Server: s, opts: opts})
	}
	for _, s := range out {
		require.True(t, s.ReadyForConnections(20*time.Second), "nats-server %s did not start", s.opts.ServerName)
	}
	// JetStream places replicated buckets once the servers have chosen a
	// leader (which lists the peers) and it has current news of all three.
	require.Eventually(t, func() bool {
		return slices.ContainsFunc(out, func(s *natsServer) bool { return len(s.JetStreamClusterPeers()) == 3 }) &&
			!slices.ContainsFunc(out, func(s *natsServer) bool { return !s.JetStreamIsCurrent() })
	}, 30*time.Second, 20*time.Millisecond, "JetStream cluster not formed")
	return out
}

func (s *natsServer) url() string { return "nats://" + s.Addr().String() }
func (s *natsServer) port() int   { return s.Addr().(*net.TCPAddr).Port }

// node is one running pcx-server process.
type node struct {
	t      *testing.T
	name   string
	addr   string
	cmd    *exec.Cmd
	log    *procout.Output
	exited chan struct{}
}

// startNode runs pcx-server as node name of the room on NATS at url.
func startNode(t *testing.T, url, name string, flags ...string) *node {
	t.Helper()
	bin, err := buildServer()
	require.NoError(t, err)
	for range 5 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		args := append([]string{"--listen", addr, "--tls-listen", "", "--web-listen", "", "--spool-dir", t.TempDir(),
			"--nats", url, "--node-name", name, "--node-ttl", "5s", "--rate-limit", "0"}, flags...)
		n := &node{t: t, name: name, addr: addr, cmd: exec.Command(bin, args...), log: procout.New(), exited: make(chan struct{})}
		n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
		n.cmd.Env = append(hermeticEnv(), "GORACE=atexit_sleep_ms=50 halt_on_error=1")
		require.NoError(t, n.cmd.Start())
		go func() {
			_ = n.cmd.Wait()
			close(n.exited)
		}()
		t.Cleanup(n.stop)
		if n.waitListening() {
			return n
		}
		if !strings.Contains(n.log.String(), "in use") {
			t.Fatalf("node %s did not start:\n%s", name, n.log)
		}
	}
	t.Fatal("no free port for a node")
	return nil
}

// waitListening waits until the node has joined the room and listens.
func (n *node) waitListening() bool {
	deadline := time.After(wait)
	for {
		text, changed := n.log.Snapshot()
		if strings.Contains(text, "msg=listening") {
			return true
		}
		select {
		case <-n.exited:
			return false
		case <-changed:
		case <-deadline:
			n.t.Fatalf("node %s did not listen within %v:\n%s", n.name, wait, text)
		}
	}
}

// expectLog waits for the node's log to say want.
func (n *node) expectLog(want string) {
	n.t.Helper()
	deadline := time.After(wait)
	for {
		text, changed := n.log.Snapshot()
		if strings.Contains(text, want) {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			n.t.Fatalf("node %s never logged %q:\n%s", n.name, want, text)
		}
	}
}

// kill ends the node at once, as a crash would.
func (n *node) kill() {
	_ = n.cmd.Process.Kill()
	<-n.exited
}

// stop ends the node with SIGTERM, and kills it if it does not exit.
func (n *node) stop() {
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(wait):
		n.t.Errorf("node %s did not stop on SIGTERM; killing it", n.name)
		n.kill()
	}
	if n.t.Failed() {
		n.t.Logf("log of node %s:\n%s", n.name, n.log)
	}
}

// dial connects a client to the node.
func (n *node) dial() *testpeer.Peer {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, err := tcp.Dialer{}.Dial(ctx, n.addr)
	require.NoError(n.t, err)
	return testpeer.New(n.t, conn)
}

// login connects a client and logs it in as nick.
func (n *node) login(nick string) *testpeer.Peer {
	n.t.Helper()
	p := n.dial()
	p.Login(nick)
	return p
}

// hermeticEnv is this process's environment without PCX_* settings.
func hermeticEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PCX_") {
			env = append(env, kv)
		}
	}
	return env
}

// until reads p's records until one from nick saying text, and returns
// those before it.
func until(t *testing.T, p *testpeer.Peer, nick, text string) []testpeer.Record {
	t.Helper()
	var before []testpeer.Record
	for {
		rec := p.Next()
		if rec.Nickname.Str == nick && rec.Text.Str == text {
			return before
		}
		before = append(before, rec)
	}
}

// who asks p who is online, until the list has want (in any order), and
// fails when it never does.
func whoEventually(t *testing.T, p *testpeer.Peer, want ...string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	var users []string
	for time.Now().Before(deadline) {
		p.SendRecord("command", "who")
		for {
			rec := p.Next()
			if rec.HasUsers {
				users = rec.Users
				break
			}
		}
		if sameSet(users, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("who never listed %q; last %q", want, users)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]int)
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
